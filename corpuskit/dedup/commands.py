"""``corpuskit dedup``: exact + MinHash-LSH dedup over sources of a corpus, with the overlap matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from corpuskit.config import ConfigError, load_source_config
from corpuskit.configs import corpus_root_arg
from corpuskit.dedup.config import SIGNATURE_FIELDS, DedupConfig, load_dedup_config
from corpuskit.dedup.overlap import overlap_file, render_overlap
from corpuskit.dedup.pipeline import dedup_sources
from corpuskit.executors import StageRun
from corpuskit.executors.options import ExecutorOption, RayAddressOption
from corpuskit.ingest.inputs import output_root
from corpuskit.progress import JsonOutput, Shown, console, fail, results, summary_table
from corpuskit.store.corpus_root import corpus_sources, remote_path


def resolve_targets(
    targets: list[str], corpus: str | None
) -> tuple[Path | str, list[str], dict[str, Any] | None, str]:
    """(corpus, source names, the configs' shared ``dedup:`` section, where it came from) from CLI args."""
    names: list[str] = []
    sections: list[tuple[str, dict[str, Any] | None]] = []
    corpora: set[Path | str] = set()
    for t in targets:
        if t.endswith((".yaml", ".yml")):
            cfg = load_source_config(t)
            corpora.add(corpus_root_arg(output_root(cfg), resolve=True))  # as ingest does
            names.append(cfg.name)
            sections.append((t, cfg.dedup))
        else:
            names.append(t)
    if corpus is not None:
        corpora = {corpus_root_arg(corpus, resolve=True)}
    if len(corpora) != 1:
        raise ConfigError(
            "give --corpus DIR with source names, or source configs that share one output folder"
            + (f" (configs point to: {', '.join(map(str, sorted(corpora)))})" if corpora else "")
        )
    given = [s for w, s in sections if s]
    for w, s in sections[1:]:
        if (
            s
            and given
            and {k: s.get(k) for k in SIGNATURE_FIELDS} != {k: given[0].get(k) for k in SIGNATURE_FIELDS}
        ):
            raise ConfigError(
                f"{w}: its dedup: section's {', '.join(SIGNATURE_FIELDS)} differ from the first config's"
            )
    where = next((w for w, s in sections if s), "command line")
    return corpora.pop(), names, (given[0] if given else None), where


def register(app: typer.Typer) -> None:
    @app.command("dedup")
    def dedup_cmd(
        targets: list[str] = typer.Argument(None, help="source configs (*.yaml) or source names in --corpus"),
        corpus: str | None = typer.Option(
            None, "--corpus", "-c", help="corpus folder or URL (s3://bucket/corpus), with source names"
        ),
        against: list[str] = typer.Option(
            [],
            "--against",
            help="already deduplicated sources to compare with, unchanged ('all' = every other)",
        ),
        preset: str | None = typer.Option(None, help="fineweb (5-grams, 14x8) or datasketch (128 perms)"),
        threshold: float | None = typer.Option(None, help="Jaccard threshold (default 0.8)"),
        ngram: int | None = typer.Option(None, help="shingle size (default 5)"),
        unit: str | None = typer.Option(None, help="word or char shingles"),
        num_perm: int | None = typer.Option(None, help="MinHash permutations (default 128)"),
        bands: int | None = typer.Option(None, help="LSH bands (with --rows)"),
        rows: int | None = typer.Option(None, help="rows per band (with --bands)"),
        verify: str | None = typer.Option(None, help="exact (default), estimate or none"),
        hash_mode: str | None = typer.Option(None, "--hash", help="fast (default) or datasketch"),
        keep: str | None = typer.Option(None, help="comma list of rules, e.g. source,quality,longest"),
        source_priority: str | None = typer.Option(None, help="comma list of preferred sources"),
        workers: int | None = typer.Option(
            None, min=1, max=256, help="processes (or Ray tasks in flight) per step (default: the config's)"
        ),
        executor: ExecutorOption = "local",
        ray_address: RayAddressOption = None,
        partition_mb: int | None = typer.Option(
            None, min=1, help="MiB of band keys one LSH partition may hold (bounds worker memory)"
        ),
        overlap_json: Path | None = typer.Option(None, help="where to save the overlap matrix JSON"),
        allow_incomplete: bool = typer.Option(
            False, help="dedup sources even though some of their inputs failed or are missing"
        ),
        wait: bool = typer.Option(False, help="wait for another command writing these sources"),
        json_out: Path | None = typer.Option(
            None, "--json", help="also write the results as JSON to this file ('-': stdout)"
        ),
    ) -> None:
        """Find exact and near duplicates (MinHash-LSH) within and across sources; keep one per cluster."""
        try:
            if not targets:
                raise ConfigError("give source configs (*.yaml) or --corpus DIR and source names")
            root, names, section, where = resolve_targets(targets, corpus)
            overrides = {
                "preset": preset,
                "threshold": threshold,
                "ngram": ngram,
                "unit": unit,
                "num_perm": num_perm,
                "bands": bands,
                "rows": rows,
                "verify": verify,
                "hash": hash_mode,
                "keep": keep.split(",") if keep else None,
                "source_priority": source_priority.split(",") if source_priority else None,
                "partition_mb": partition_mb,
            }
            cfg: DedupConfig = load_dedup_config(section, where, overrides)
            ref = [s for s in corpus_sources(root) if s not in names] if against == ["all"] else list(against)
            run = StageRun.from_options(
                executor, ray_address, workers=workers, wait=wait, allow_incomplete=allow_incomplete
            )
            with Shown() as progress:
                result = dedup_sources(
                    root, names, cfg, against=ref, overlap_path=overlap_json, run=run, progress=progress
                )
        except ConfigError as e:
            raise fail(str(e)) from None
        with JsonOutput(json_out) as jout:
            jout.add(
                threshold=cfg.threshold,
                banding=list(result.banding),
                clusters=result.clusters,
                candidate_pairs=result.stats.candidate_pairs,
                verified_pairs=result.stats.verified_pairs,
                per_source=result.per_source,
                overlap=result.overlap,
                seconds=result.seconds,
            )
            b, r = result.banding
            rows_out = [
                [
                    s,
                    d.get("documents", 0),
                    d.get("hashed", 0),
                    d.get("exact_duplicate", 0),
                    d.get("near_duplicate", 0),
                    d.get("kept", 0),
                    "reference" if s in ref else "deduplicated",
                ]
                for s, d in result.per_source.items()
            ]
            results.print(
                summary_table(
                    f"dedup: threshold {cfg.threshold}, {cfg.ngram}-{cfg.unit} shingles, "
                    f"{cfg.num_perm} perms, {b} bands x {r} rows, verify={cfg.verify}; "
                    f"{result.clusters:,} clusters, {result.stats.candidate_pairs:,} candidate / "
                    f"{result.stats.verified_pairs:,} kept pairs",
                    ["source", "documents", "hashed", "exact dups", "near dups", "kept", "role"],
                    rows_out,
                )
            )
            results.print(render_overlap(result.overlap))
            saved = overlap_json or remote_path(root, overlap_file)
            results.print(f"overlap matrix saved to {saved}")
            console.print("timings (s): " + json.dumps({k: round(v, 2) for k, v in result.seconds.items()}))
