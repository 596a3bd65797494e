"""`corpuskit export` and `corpuskit export-tokens`: a corpus or a mixture in other tools' formats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpuskit.progress import JsonOption, JsonOutput, Shown, fail, results, summary_table


def export(
    corpus: Annotated[str, typer.Argument(help="corpus folder or URL (s3://bucket/corpus)")],
    out: Annotated[Path, typer.Option(help="output folder")] = Path("export"),
    fmt: Annotated[
        str, typer.Option("--format", help="dolma (JSONL.gz), parquet (one schema) or datatrove (JSONL.gz)")
    ] = "dolma",
    kept_only: Annotated[bool, typer.Option(help="only documents that curation/dedup kept")] = False,
    source: Annotated[list[str] | None, typer.Option(help="sources to export (default: all)")] = None,
    allow_incomplete: Annotated[
        bool, typer.Option(help="export sources even though some inputs failed or decisions are stale")
    ] = False,
    json_out: JsonOption = None,
) -> None:
    """Write documents for other tools: Dolma or datatrove JSONL.gz, or Parquet with one schema."""
    from corpuskit.configs import corpus_root_arg
    from corpuskit.store.corpus_root import local_corpus

    with local_corpus(corpus_root_arg(corpus), "corpuskit export", read=source or None) as local:
        _export(local, corpus, out, fmt, kept_only, source, allow_incomplete, json_out)


def _export(
    corpus: Path,
    name: str,
    out: Path,
    fmt: str,
    kept_only: bool,
    source: list[str] | None,
    allow_incomplete: bool,
    json_out: str | Path | None,
) -> None:
    from corpuskit.export import FORMATS, export_source
    from corpuskit.store import SourceStore, list_sources, require_complete

    if not corpus.is_dir():
        raise fail(f"{name}: corpus folder not found; run `corpuskit ingest` first or check the path")
    available = list_sources(corpus)
    if not available:
        raise fail(f"{name}: no sources found (expected <corpus>/<source>/documents/)")
    chosen = source or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise fail(f"unknown source(s) {', '.join(unknown)} in {name}; available: {', '.join(available)}")
    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    for s in chosen:  # an export is only as complete as its source: no failed inputs, no stale decisions
        sets = SourceStore(corpus, s).attribute_sets()
        require_complete(corpus, s, stage="export", allow_incomplete=allow_incomplete, sets=sets)
    rows = []
    with JsonOutput(json_out) as jout:
        with Shown() as progress:
            for s in chosen:
                n, files = export_source(corpus, s, out, fmt=fmt, kept_only=kept_only, progress=progress)
                rows.append((s, n, len(files), str(out / s)))
        results.print(summary_table(f"export ({fmt})", ["source", "documents", "files", "folder"], rows))
        jout.add(
            format=fmt,
            out=str(out),
            sources=[{"source": s, "documents": n, "files": f, "folder": d} for s, n, f, d in rows],
        )


def export_tokens(
    mixture: Annotated[Path, typer.Argument(help="a mixture folder written by `corpuskit mix`")],
    out: Annotated[Path, typer.Option(help="output prefix: writes PREFIX.bin and PREFIX.idx")],
    fmt: Annotated[str, typer.Option("--format", help="megatron (indexed dataset .bin/.idx)")] = "megatron",
    json_out: JsonOption = None,
) -> None:
    """Write a mixture's tokens for other trainers (Megatron-LM's indexed dataset)."""
    from corpuskit.mix.megatron import export_megatron, is_megatron_index

    if fmt != "megatron":
        raise fail(f"--format {fmt!r}: use 'megatron'")
    if not (mixture / "manifest.json").exists():
        raise fail(f"{mixture}: not a mixture folder (no manifest.json); run `corpuskit mix` first")
    for suffix in (".bin", ".idx"):
        p = out.with_name(out.name + suffix)
        if p.exists() and not is_megatron_index(out.with_name(out.name + ".idx")):
            raise fail(f"{p} exists and is not an export corpuskit wrote; choose another --out prefix")
    with JsonOutput(json_out) as jout:
        info = export_megatron(mixture, out)
        results.print(summary_table("export-tokens (megatron)", ["", ""], list(info.items())))
        jout.add(**info)


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command("export-tokens")(export_tokens)
