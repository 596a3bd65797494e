"""`corpuskit ingest`: inputs to documents, resumable, one failure report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpuskit.executors.options import ExecutorOption, RayAddressOption
from corpuskit.progress import JsonOutput, Shown, console, fail, fail_units, results, summary_table


def ingest(
    configs: Annotated[list[Path], typer.Argument(help="source configs, e.g. sources/web.yaml")],
    workers: Annotated[
        int, typer.Option(min=0, help="parallel processes (default: the CPUs this process may use)")
    ] = 0,
    force: Annotated[bool, typer.Option(help="redo inputs that are already done")] = False,
    executor: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    wait: Annotated[bool, typer.Option(help="wait for another command writing the source")] = False,
    corpus: Annotated[
        str | None,
        typer.Option(
            help="corpus folder or URL (s3://bucket/corpus, any fsspec URL); default: the config's output"
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the results as JSON to this file ('-': stdout)")
    ] = None,
) -> None:
    """Turn a source's inputs into documents (Parquet shards); resumes where a killed run stopped.

    Exit codes: 0 all inputs done; 1 an input failed (named; rerun retries it) or the install is broken;
    2 a config or usage error; 3 another command is writing the source."""
    from corpuskit.config import load_source_config
    from corpuskit.executors import StageRun
    from corpuskit.ingest import ingest as run_ingest

    cfgs = [load_source_config(c) for c in configs]  # a ConfigError is the CLI's to report (exit 2)
    if corpus is not None:
        from corpuskit.configs import corpus_root_arg

        cfgs = [c.model_copy(update={"output": corpus_root_arg(corpus, resolve=True)}) for c in cfgs]
    run = StageRun.from_options(executor, ray_address, workers=workers or None, wait=wait)
    failed: list = []
    with JsonOutput(json_out) as jout:
        jout.add(sources=[])
        for cfg in cfgs:
            with Shown() as progress:
                try:
                    summary = run_ingest(cfg, force=force, run=run, progress=progress)
                except FileNotFoundError as e:  # an input path or glob that matches nothing
                    raise fail(f"{cfg.config_path}: key 'inputs': {e}") from None
                except ValueError as e:
                    raise fail(str(e)) from None
            _print_ingest_summary(summary)
            jout.data["sources"].append(_ingest_json(summary))
            failed += [(cfg.name, r) for r in summary.failed]
        if failed:
            raise fail_units(
                [f"{name}: {r.uri}: {r.failed}" for name, r in failed],
                f"{len(failed)} input(s) failed and are not committed; fix the cause and rerun "
                "(done inputs are kept, failed ones are retried)",
            )


def _ingest_json(summary) -> dict:
    new = [r for r in summary.results if not r.skipped]
    return {
        "source": summary.source,
        "corpus": str(summary.corpus),
        "inputs": len(summary.results),
        "resumed": len(summary.results) - len(new),
        "failed": [{"input": r.uri, "error": str(r.failed)} for r in summary.failed],
        "documents": summary.documents,
        "documents_this_run": sum(r.documents for r in new),
        "bytes_read_this_run": sum(r.bytes_in for r in new),
        "seconds": round(summary.seconds, 3),
        "skipped_by_reason": dict(sorted(summary.errors.items())),
        "removed_stale_inputs": summary.removed_stale,
    }


def _print_ingest_summary(summary) -> None:
    res = summary.results
    new = [r for r in res if not r.skipped]
    mb_in = sum(r.bytes_in for r in new) / 1e6
    rows = [
        ("inputs", len(res)),
        ("inputs done earlier (resumed)", len(res) - len(new)),
        ("documents written (total)", summary.documents),
        ("documents written (this run)", sum(r.documents for r in new)),
        ("MB read (this run)", round(mb_in, 2)),
        ("MB/s", round(mb_in / summary.seconds, 2) if summary.seconds else 0.0),
        ("docs/s", round(sum(r.documents for r in new) / summary.seconds, 1) if summary.seconds else 0.0),
        ("seconds", round(summary.seconds, 2)),
    ]
    rows.insert(2, ("inputs failed (not committed)", len(summary.failed)))
    rows += [(f"skipped: {reason}", n) for reason, n in sorted(summary.errors.items())]
    results.print(
        summary_table(f"ingest {summary.source} → {summary.corpus}/{summary.source}", ["", ""], rows)
    )
    for uri in summary.removed_stale:
        console.print(f"[yellow]removed documents of an input no longer in the config:[/] {uri}")


def register(app: typer.Typer) -> None:
    app.command()(ingest)
