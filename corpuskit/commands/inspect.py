"""`corpuskit stats` and `corpuskit show`: numbers about a corpus, and its documents with their decisions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from corpuskit.progress import JsonOutput, console, fail, results, summary_table


def stats(
    corpus: Annotated[str, typer.Argument(help="corpus folder or URL (the `output` of the source configs)")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the numbers as JSON to this file ('-': stdout)")
    ] = None,
) -> None:
    """Per-source documents, bytes, text lengths, errors — and the funnel and overlap once computed."""
    from corpuskit.configs import corpus_root_arg
    from corpuskit.store.corpus_root import local_corpus

    with (
        JsonOutput(json_out) as jout,
        local_corpus(corpus_root_arg(corpus), "corpuskit stats", read=None) as local,
    ):
        jout.add(**_stats(local, corpus))


def _stats(corpus: Path, name: str) -> dict:
    from corpuskit.analyse.stats import corpus_stats

    if not corpus.is_dir():
        raise fail(f"{name}: corpus folder not found; run `corpuskit ingest` first or check the path")
    data = corpus_stats(corpus)
    if not data:
        raise fail(f"{name}: no sources found (expected <corpus>/<source>/documents/)")
    rows = [
        (
            s["source"],
            s["kind"],
            s["inputs"],
            s["documents"],
            round((s["bytes"] or 0) / 1e6, 3),
            s["p10_bytes"],
            s["p50_bytes"],
            s["p90_bytes"],
            s["max_bytes"],
            sum(s["errors_by_reason"].values()),
            len(s["incomplete_inputs"]),
        )
        for s in data
    ]
    cols = [
        "source",
        "kind",
        "inputs",
        "docs",
        "MB text",
        "p10 B",
        "median B",
        "p90 B",
        "max B",
        "skipped",
        "failed/missing inputs",
    ]
    results.print(summary_table(f"corpus {name}", cols, rows))
    err_rows = [(s["source"], r, n) for s in data for r, n in s["errors_by_reason"].items()]
    if err_rows:
        results.print(summary_table("skipped records by reason", ["source", "reason", "count"], err_rows))
    out: dict = {"sources": data}
    out.update(_funnel_section(corpus))
    out.update(_overlap_section(corpus))
    return out


def _funnel_section(corpus: Path) -> dict:
    """Once curation ran: the funnel per source."""
    from corpuskit.analyse.funnel import funnel_for_source, render_funnel
    from corpuskit.store import SourceStore, list_sources

    out = {}
    for source in list_sources(corpus):
        if SourceStore(corpus, source).attribute_sets():
            out[source] = funnel_for_source(corpus, source)
            results.print(render_funnel(out[source]))
    return {"funnel": out} if out else {}


def _overlap_section(corpus: Path) -> dict:
    """Once dedup ran: the cross-source overlap matrix."""
    from corpuskit.dedup.overlap import overlap_for_corpus, render_overlap

    data = overlap_for_corpus(corpus)
    if data:
        results.print(render_overlap(data))
    return {"overlap": data} if data else {}


def show(
    corpus: Annotated[str, typer.Argument(help="corpus folder or URL")],
    source: Annotated[str, typer.Argument(help="source name")],
    id_prefix: Annotated[str | None, typer.Option("--id", help="documents whose id starts with this")] = None,
    dropped_by: Annotated[
        str | None,
        typer.Option(help="only documents dropped by this filter or reason (e.g. c4, near_duplicate)"),
    ] = None,
    kept: Annotated[bool, typer.Option(help="only documents every stage kept")] = False,
    sample: Annotated[int, typer.Option(min=1, help="how many documents (a seeded sample)")] = 5,
    seed: Annotated[int, typer.Option(help="sample seed")] = 0,
    full: Annotated[bool, typer.Option(help="the whole text, not an excerpt")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="one JSON document (all columns) on stdout")
    ] = False,
) -> None:
    """Look at documents with their signals and the decision of every stage."""
    from corpuskit.analyse.show import as_records, select_documents, signal_columns
    from corpuskit.configs import corpus_root_arg
    from corpuskit.store.atomic import json_safe
    from corpuskit.store.corpus_root import local_corpus

    with local_corpus(corpus_root_arg(corpus), "corpuskit show", read=[source]) as local:
        if not local.is_dir():
            raise fail(f"{corpus}: corpus folder not found; run `corpuskit ingest` first or check the path")
        frame = select_documents(
            local, source, id_prefix=id_prefix, dropped_by=dropped_by, kept=kept, sample=sample, seed=seed
        )
    if json_out:
        sys.stdout.write(
            json.dumps(json_safe(as_records(frame)), indent=2, default=str, allow_nan=False) + "\n"
        )
        return
    if frame.height == 0:
        console.print("no documents match")
        return
    signals = signal_columns(frame)
    for row in frame.iter_rows(named=True):
        verdict = row.get("drop_reason") or "kept"
        results.print(f"[bold]{row['id']}[/]  {escape(row['locator'])}  → {escape(verdict)}", highlight=False)
        if row.get("url"):
            results.print(f"  url: {escape(row['url'])}", highlight=False)
        sig = ", ".join(f"{c}={row[c]:.4g}" if isinstance(row[c], float) else f"{c}={row[c]}" for c in signals
                        if row[c] is not None)  # fmt: skip
        if sig:
            results.print(f"  signals: {escape(sig)}", highlight=False, soft_wrap=True)
        text = row["text"] or ""
        shown = text if full or len(text) <= 800 else text[:800] + f" … [{len(text):,} characters; --full]"
        results.print(escape(shown), highlight=False, markup=False)
        results.print("")


def register(app: typer.Typer) -> None:
    app.command()(stats)
    app.command()(show)
