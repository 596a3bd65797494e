"""CLI: ``corpuskit curate`` (signals + decisions per source, ``--explain``, ``--dry-run``) and
``corpuskit quality train`` (the model-based quality classifier)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from corpuskit.configs import ConfigError
from corpuskit.executors.options import ExecutorOption, RayAddressOption
from corpuskit.progress import JsonOption, fail
from corpuskit.text import split_documents


def register(app: typer.Typer) -> None:
    """Add ``curate`` and the ``quality`` sub-app to the corpuskit CLI."""

    @app.command("curate")
    def curate(
        configs: Annotated[list[Path], typer.Argument(help="source configs, e.g. sources/web.yaml")],
        explain_id: Annotated[
            str | None, typer.Option("--explain", help="show why one document id was dropped")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="show the funnel; write no decisions")
        ] = False,
        workers: Annotated[int, typer.Option(min=1, help="parallel processes for the signals")] = 1,
        executor: ExecutorOption = "local",
        ray_address: RayAddressOption = None,
        corpus: Annotated[
            str | None, typer.Option(help="corpus folder or URL (default: the config's output)")
        ] = None,
        allow_incomplete: Annotated[
            bool, typer.Option(help="curate a source even though some of its inputs failed or are missing")
        ] = False,
        wait: Annotated[bool, typer.Option(help="wait for another command writing the source")] = False,
        json_out: Annotated[
            Path | None,
            typer.Option("--json", help="also write the funnels as JSON to this file ('-': stdout)"),
        ] = None,
    ) -> None:
        """Add language, quality and model signals to a source's documents, then keep/drop them by threshold.

        Signals are computed once (resumable per document file); changing a threshold and re-running only
        re-applies the rules."""
        from corpuskit.analyse.funnel import render_funnel
        from corpuskit.config import load_source_config
        from corpuskit.configs import corpus_root_arg
        from corpuskit.curate.config import curate_config
        from corpuskit.curate.pipeline import _corpus_dir, curate_source, explain
        from corpuskit.executors import StageRun
        from corpuskit.progress import (
            JsonOutput,
            Shown,
            console,
            fail_units,
            results,
            summary_table,
        )
        from corpuskit.store.corpus_root import local_corpus

        cfgs = [load_source_config(c) for c in configs]  # a ConfigError is the CLI's to report (exit 2)
        ccs = [curate_config(c) for c in cfgs]
        run = StageRun.from_options(
            executor, ray_address, workers=workers, wait=wait, allow_incomplete=allow_incomplete
        )
        root = corpus_root_arg(corpus) if corpus is not None else None
        if explain_id is not None:
            for cfg, cc in zip(cfgs, ccs, strict=True):
                with local_corpus(root or _corpus_dir(cfg), "corpuskit curate", read=[cfg.name]) as local:
                    found = explain(local, cfg.name, explain_id, cc)
                if found is not None:
                    results.print(_render_explain(found))
                    return
            raise fail(
                f"document {explain_id!r} has no signals in {', '.join(c.name for c in cfgs)}; run curate"
            )
        with JsonOutput(json_out) as jout:
            jout.add(sources={})
            rows, failed, loud = [], [], []
            for cfg in cfgs:
                t0 = time.perf_counter()
                with Shown() as progress:
                    funnel = curate_source(cfg, corpus=root, dry_run=dry_run, run=run, progress=progress)
                results.print(render_funnel(funnel))
                jout.data["sources"][cfg.name] = funnel
                counts = funnel["run"]
                rows.append(
                    [
                        cfg.name,
                        funnel["documents_in"],
                        funnel["documents_kept"],
                        funnel["documents_kept"] / funnel["documents_in"] if funnel["documents_in"] else 0.0,
                        counts["computed"],
                        counts["skipped"],
                        round(time.perf_counter() - t0, 2),
                    ]
                )
                failed += [(cfg.name, f) for f in counts["failed"]]
                n_in, n_kept = funnel["documents_in"], funnel["documents_kept"]
                if n_in and n_kept < 0.05 * n_in:
                    loud.append(
                        f"curate kept only {n_kept:,} of {n_in:,} documents of {cfg.name!r} "
                        f"({1 - n_kept / n_in:.0%} dropped; rules: {funnel.get('rules_profile', '?')}). "
                        "Check the funnel: a source of another kind may need other rules "
                        "(see sources/books.yaml)"
                    )
            title = "curate summary" + (" (dry run: no decisions written)" if dry_run else "")
            cols = [
                "source",
                "docs in",
                "docs kept",
                "kept share",
                "files computed",
                "files skipped",
                "seconds",
            ]
            results.print(summary_table(title, cols, rows))
            for line in loud:
                console.print(f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)
            if failed:
                raise fail_units(
                    [f"{name}: {line}" for name, line in failed],
                    f"signals of {len(failed)} document file(s) failed (no decisions for them); "
                    "rerun retries them",
                )

    quality = typer.Typer(
        help="Model-based quality classifier (fastText, GPT-3 / DCLM style).", no_args_is_help=True
    )
    app.add_typer(quality, name="quality")

    @quality.command("train")
    def train(
        positive: Annotated[
            list[str], typer.Option(help="reference text: source name (with --corpus) or file")
        ],
        negative: Annotated[list[str], typer.Option(help="random/web text: source name or file")],
        out: Annotated[Path, typer.Option(help="model file to write")] = Path("models/quality.bin"),
        corpus: Annotated[Path, typer.Option(help="corpus folder for source names")] = Path("corpus"),
        max_docs: Annotated[
            int, typer.Option(help="at most this many documents per side (seeded sample)")
        ] = 100_000,
        seed: Annotated[int, typer.Option(help="seed for sampling, split and training")] = 0,
        epoch: Annotated[int, typer.Option(min=1, help="training epochs")] = 5,
        json_out: JsonOption = None,
    ) -> None:
        """Train a classifier of reference text vs web text; ``quality_score`` is then a signal to threshold.

        Files: .txt (blank-line separated passages, merged to ~2 KB documents), .jsonl/.jsonl.gz ("text"
        field), .parquet ("text" column)."""
        from corpuskit.progress import JsonOutput, results, summary_table

        with JsonOutput(json_out) as jout:
            jout.add(**_train_quality(positive, negative, out, corpus, max_docs, seed, epoch))
            h = jout.data["heldout"]
            rows = [[str(out), jout.data["train"]["documents"], h["documents"], h["accuracy"], h["precision"],
                     h["recall"], h["roc_auc"]]]  # fmt: skip
            cols = ["model", "train docs", "held-out docs", "accuracy", "precision", "recall", "ROC AUC"]
            results.print(summary_table("quality classifier (held-out split)", cols, rows))


def _train_quality(
    positive: list[str], negative: list[str], out: Path, corpus: Path, max_docs: int, seed: int, epoch: int
) -> dict:
    """The classifier trained on sampled texts; its metadata (held-out accuracy, ROC AUC, ...)."""
    from corpuskit.curate.classifier import TrainParams, train_classifier

    try:
        pos = _load_texts(positive, corpus, max_docs, seed)
        neg = _load_texts(negative, corpus, max_docs, seed)
        meta = train_classifier(
            pos,
            neg,
            out,
            TrainParams(seed=seed, epoch=epoch),
            sources={"positive": positive, "negative": negative},
        )
    except (ConfigError, ValueError, FileNotFoundError) as e:
        raise fail(str(e)) from None
    return meta


def _load_texts(items: list[str], corpus: Path, max_docs: int, seed: int) -> list[str]:
    """Texts from source names (kept documents when curated) and/or files, sampled to ``max_docs``."""
    import random

    from corpuskit.store import list_sources, scan_documents

    texts: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_file():
            texts += _file_texts(p)
        elif item in list_sources(corpus):
            from corpuskit.store import SourceStore, require_complete

            sets = SourceStore(corpus, item).attribute_sets()
            require_complete(corpus, item, stage="quality train", sets=sets)  # no model from half a source
            lf = scan_documents(corpus, item, kept_only=True)
            texts += lf.select("text").collect()["text"].to_list()
        else:
            raise ConfigError(
                f"{item!r} is neither a file nor a source in {corpus} (sources: {list_sources(corpus)})"
            )
    if len(texts) > max_docs:
        texts = random.Random(seed).sample(texts, max_docs)
    return texts


def _file_texts(p: Path, target_bytes: int = 2000) -> list[str]:
    name = p.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".json.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(p, "rt", encoding="utf-8") as f:
            return [str(json.loads(line).get("text") or "") for line in f if line.strip()]
    if name.endswith(".parquet"):
        import polars as pl

        return pl.read_parquet(p, columns=["text"])["text"].drop_nulls().to_list()
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return split_documents(text, target_bytes)


def _render_explain(data: dict) -> object:
    from rich.console import Group
    from rich.table import Table

    verdict = data["drop_reason"] or "kept"
    parts = []
    for f in data["filters"]:
        t = Table(title=f"{f['filter']}: {f['reason'] or 'pass'}", title_justify="left")
        t.add_column("signal")
        t.add_column("value", justify="right")
        for k, v in f["signals"].items():
            t.add_row(k, "—" if v is None else str(v))
        hit = [r["rule"] for r in f["rules"] if r["triggered"]]
        t.caption = f"rules triggered: {', '.join(hit) or 'none'}; thresholds: {json.dumps(f['thresholds'])}"
        parts.append(t)
    from rich.text import Text

    head = Text(f"document {data['id']} (source {data['source']}, {data['file']}): {verdict}", style="bold")
    text = data.get("text") or ""
    excerpt = Text(text[:600] + (f" … [{len(text):,} characters]" if len(text) > 600 else ""))
    return Group(head, excerpt, *parts)
