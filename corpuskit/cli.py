"""The `corpuskit` command: thin — parse arguments, call the library, render progress and tables.

Errors a user can fix (bad config, missing file) print one clear message and exit with code 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup

from corpuskit.configs import ConfigError
from corpuskit.environment import EnvironmentProblem
from corpuskit.progress import JsonOutput, Shown, console, fail, fail_units, results, summary_table
from corpuskit.store.lock import SourceBusy
from corpuskit.store.units import UnitsAborted, UnitsFailed


class _Commands(TyperGroup):
    """The one error handler: a config a person can fix exits 2, a broken installation exits 1, each as
    one message (no traceback) — for every command, whether run from a shell or from a test runner."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ConfigError as e:
            raise fail(str(e), 2) from None
        except EnvironmentProblem as e:
            raise fail(f"broken installation: {e}\n(run `corpuskit doctor` to check everything)", 1) from None
        except SourceBusy as e:
            raise fail(str(e), 3) from None
        except (UnitsAborted, UnitsFailed) as e:
            raise fail(str(e), 1) from None
        except (
            click.exceptions.ClickException,
            click.exceptions.Exit,
            click.exceptions.Abort,
            typer.Exit,
            typer.Abort,
        ):
            raise
        except Exception as e:  # a bug, not a user mistake: one line, the traceback only on request
            if _debug() or type(e).__module__.split(".")[0] in ("typer", "click"):
                raise  # usage errors (a bad option value) are typer's/click's to print, with exit 2
            raise fail(
                f"internal error: {type(e).__name__}: {e}\n(rerun with --debug or CORPUSKIT_DEBUG=1 for the "
                "traceback, and please report it)",
                1,
            ) from None


app = typer.Typer(
    name="corpuskit",
    cls=_Commands,
    help="Build pretraining corpora: ingest, curate, dedup, analyse, mix and ablate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # corpuskit --install-completion / --show-completion
)


def _debug() -> bool:
    return os.environ.get("CORPUSKIT_DEBUG", "") not in ("", "0")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"corpuskit {version('corpuskit')}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks of internal errors")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress or notes on stderr (results and errors still)")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    if debug:
        os.environ["CORPUSKIT_DEBUG"] = "1"
    console.quiet = quiet


# Each pipeline area adds its own commands (module must define `register(app)`).
COMMAND_MODULES = [
    "corpuskit.curate.commands",
    "corpuskit.dedup.commands",
    "corpuskit.mix.commands",
    "corpuskit.ablate.commands",
]


@app.command()
def ingest(
    configs: Annotated[list[Path], typer.Argument(help="source configs, e.g. sources/web.yaml")],
    workers: Annotated[
        int, typer.Option(min=0, help="parallel processes (default: the CPUs this process may use)")
    ] = 0,
    force: Annotated[bool, typer.Option(help="redo inputs that are already done")] = False,
    executor: Annotated[str, typer.Option(help="local (process pool) or ray")] = "local",
    wait: Annotated[bool, typer.Option(help="wait for another command writing the source")] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the results as JSON to this file ('-': stdout)")
    ] = None,
) -> None:
    """Turn a source's inputs into documents (Parquet shards); resumes where a killed run stopped.

    Exit codes: 0 all inputs done; 1 an input failed (named; rerun retries it) or the install is broken;
    2 a config or usage error; 3 another command is writing the source."""
    from corpuskit.config import load_source_config
    from corpuskit.ingest import ingest as run_ingest

    try:
        cfgs = [load_source_config(c) for c in configs]
    except ConfigError as e:
        raise fail(str(e)) from None
    if executor not in {"local", "ray"}:
        raise fail(f"--executor {executor!r}: use 'local' or 'ray'")
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise fail("--executor ray needs Ray: pip install 'corpuskit[ray]' (or use --executor local)")
    failed: list = []
    with JsonOutput(json_out) as jout:
        jout.add(sources=[])
        for cfg in cfgs:
            with Shown() as progress:
                try:
                    summary = run_ingest(
                        cfg,
                        workers=workers or None,
                        force=force,
                        executor=executor,
                        wait=wait,
                        progress=progress,
                    )
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
        summary_table(f"ingest {summary.source} → {summary.corpus / summary.source}", ["", ""], rows)
    )
    for uri in summary.removed_stale:
        console.print(f"[yellow]removed documents of an input no longer in the config:[/] {uri}")


@app.command()
def stats(
    corpus: Annotated[Path, typer.Argument(help="corpus folder (the `output` of the source configs)")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the numbers as JSON to this file ('-': stdout)")
    ] = None,
) -> None:
    """Per-source documents, bytes, text lengths, errors — and the funnel and overlap once computed."""
    with JsonOutput(json_out) as jout:
        jout.add(**_stats(corpus))


def _stats(corpus: Path) -> dict:
    from corpuskit.analyse.stats import corpus_stats

    if not corpus.is_dir():
        raise fail(f"{corpus}: corpus folder not found; run `corpuskit ingest` first or check the path")
    data = corpus_stats(corpus)
    if not data:
        raise fail(f"{corpus}: no sources found (expected <corpus>/<source>/documents/)")
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
    results.print(summary_table(f"corpus {corpus}", cols, rows))
    err_rows = [(s["source"], r, n) for s in data for r, n in s["errors_by_reason"].items()]
    if err_rows:
        results.print(summary_table("skipped records by reason", ["source", "reason", "count"], err_rows))
    out: dict = {"sources": data}
    for extra in _stats_extensions():
        section = extra(corpus)
        if section:
            out.update(section)
    return out


def _stats_extensions():
    """Later stages add sections to `corpuskit stats`: the curation funnel and the duplicate overlap."""
    from corpuskit.analyse.extensions import funnel_section, overlap_section

    return [funnel_section, overlap_section]


@app.command()
def export(
    corpus: Annotated[Path, typer.Argument(help="corpus folder")],
    out: Annotated[Path, typer.Option(help="output folder")] = Path("export"),
    fmt: Annotated[str, typer.Option("--format", help="dolma (JSONL.gz) or parquet")] = "dolma",
    kept_only: Annotated[bool, typer.Option(help="only documents that curation/dedup kept")] = False,
    source: Annotated[list[str] | None, typer.Option(help="sources to export (default: all)")] = None,
    allow_incomplete: Annotated[
        bool, typer.Option(help="export sources even though some inputs failed or decisions are stale")
    ] = False,
) -> None:
    """Write documents for other tools: Dolma-style JSONL.gz (id, text, source, added, created, metadata)."""
    from corpuskit.export import export_source
    from corpuskit.store import list_sources

    if not corpus.is_dir():
        raise fail(f"{corpus}: corpus folder not found; run `corpuskit ingest` first or check the path")
    available = list_sources(corpus)
    if not available:
        raise fail(f"{corpus}: no sources found (expected <corpus>/<source>/documents/)")
    chosen = source or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise fail(f"unknown source(s) {', '.join(unknown)} in {corpus}; available: {', '.join(available)}")
    if fmt not in {"dolma", "parquet"}:
        raise fail(f"--format {fmt!r}: use 'dolma' or 'parquet'")
    from corpuskit.store import SourceStore, require_complete

    for s in chosen:  # an export is only as complete as its source: no failed inputs, no stale decisions
        sets = SourceStore(corpus, s).attribute_sets()
        require_complete(corpus, s, stage="export", allow_incomplete=allow_incomplete, sets=sets)
    rows = []
    with Shown() as progress:
        for s in chosen:
            n, files = export_source(corpus, s, out, fmt=fmt, kept_only=kept_only, progress=progress)
            rows.append((s, n, len(files), str(out / s)))
    results.print(summary_table("export", ["source", "documents", "files", "folder"], rows))


@app.command()
def show(
    corpus: Annotated[Path, typer.Argument(help="corpus folder")],
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
    from corpuskit.store.atomic import json_safe

    if not corpus.is_dir():
        raise fail(f"{corpus}: corpus folder not found; run `corpuskit ingest` first or check the path")
    frame = select_documents(
        corpus, source, id_prefix=id_prefix, dropped_by=dropped_by, kept=kept, sample=sample, seed=seed
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


@app.command("export-tokens")
def export_tokens(
    mixture: Annotated[Path, typer.Argument(help="a mixture folder written by `corpuskit mix`")],
    out: Annotated[Path, typer.Option(help="output prefix: writes PREFIX.bin and PREFIX.idx")],
    fmt: Annotated[str, typer.Option("--format", help="megatron (indexed dataset .bin/.idx)")] = "megatron",
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
    info = export_megatron(mixture, out)
    results.print(summary_table("export-tokens (megatron)", ["", ""], list(info.items())))


@app.command()
def doctor(
    configs: Annotated[
        list[Path] | None, typer.Argument(help="source configs whose extractors and models to check too")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the checks as JSON to this file ('-': stdout)")
    ] = None,
) -> None:
    """Check that every library and model the stages need imports and works; exit 1 if one is broken."""
    from corpuskit.doctor import doctor_rows

    with JsonOutput(json_out) as jout:
        rows, problems = doctor_rows(configs or [])
        cols = ["check", "needed by", "status", "detail"]
        jout.add(checks=[dict(zip(cols, r, strict=True)) for r in rows], problems=problems)
        results.print(summary_table("corpuskit doctor", cols, [[escape(v) for v in r] for r in rows]))
        for line in problems:
            console.print(f"[bold red]problem:[/] {escape(line)}", highlight=False)
        if problems:
            raise typer.Exit(1)
        console.print("[green]everything the stages need works[/]")


def _register_areas() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_areas()


def main() -> None:
    import signal

    # SIGTERM (Slurm, timeout, kill) unwinds like Ctrl-C: scratch folders and temp files are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    app()


if __name__ == "__main__":
    main()
