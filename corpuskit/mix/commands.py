"""CLI: ``corpuskit mix`` (one mixture from flags or several from a YAML) and ``corpuskit tokenizer``.

The only place in the mix stage that prints: tables go to stdout (or stderr with ``--json -``), progress
and warnings to stderr, and ``--json FILE|-`` writes the same numbers as one strict JSON document.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from corpuskit.configs import ConfigError, corpus_root_arg
from corpuskit.executors import StageRun
from corpuskit.executors.options import ExecutorOption, RayAddressOption
from corpuskit.mix.config import StudyConfig, flags_study, load_study_config
from corpuskit.mix.heldout import HeldoutSettings
from corpuskit.mix.sampler import (
    DEFAULT_MAX_EPOCHS,
    MixError,
    SourcePlan,
    parse_tokens,
)
from corpuskit.progress import JsonOutput, fail, rate_text
from corpuskit.store.corpus_root import corpus_sources, local_corpus

if TYPE_CHECKING:
    from corpuskit.mix.plan import MixturePlan

JSON_HELP = "also write the results as JSON to this file ('-': stdout)"
PLAN_COLUMNS = ["source", "weight", "tokens needed", "tokens available", "epochs", "status"]
MIX_COLUMNS = ["source", "weight", "share", "tokens", "docs", "unique docs", "epochs", "decontaminated"]
POOL_COLUMNS = ["source", "kept docs", "held-out docs", "held-out bytes", "pool docs", "pool bytes"]


def register(app: typer.Typer) -> None:
    """Add ``mix`` and the ``tokenizer`` sub-app to the corpuskit CLI."""

    @app.command("mix")
    def mix(
        weights: str = typer.Option(None, "--weights", "-w", help="token shares, e.g. web=0.5,books=0.3"),
        tokens: str = typer.Option(None, "--tokens", "-n", help="token budget, e.g. 50M or 1B"),
        corpus: str = typer.Option("corpus", "--corpus", help="corpus folder or URL (s3://bucket/corpus)"),
        out: Path = typer.Option(None, "--out", "-o", help="mixture folder (or study folder with --config)"),
        tokenizer: str = typer.Option("bytes", "--tokenizer", help="'bytes' or a tokenizer.json"),
        seed: int = typer.Option(0, "--seed", help="sampling seed"),
        allow_repeat: bool = typer.Option(False, "--allow-repeat", help="allow > --max-epochs repetition"),
        max_epochs: float = typer.Option(DEFAULT_MAX_EPOCHS, "--max-epochs", help="repetition cap"),
        heldout_bytes: int = typer.Option(1_000_000, "--heldout-bytes", help="held-out text per source"),
        dry_run: bool = typer.Option(False, "--dry-run", help="print the plan and stop"),
        config: Path = typer.Option(None, "--config", "-c", help="mixes YAML (several mixtures)"),
        workers: int = typer.Option(1, min=1, help="processes (or Ray tasks in flight) drawing sources"),
        executor: ExecutorOption = "local",
        ray_address: RayAddressOption = None,
        json_out: str = typer.Option(None, "--json", help=JSON_HELP),
    ) -> None:
        """Draw a tokenized training mixture by token shares (held-out split + decontamination first).

        Every source of every mixture is drawn as one unit of work (--workers processes, or Ray
        tasks); the mixture folders are the same bytes whatever runs them, and a failed unit is named
        (exit 1) and redone by the rerun, which reuses the units that finished."""
        with JsonOutput(json_out) as jout:
            try:
                run = StageRun.from_options(executor, ray_address, workers=workers)
                if config is not None:
                    if weights or tokens:
                        raise MixError("give either --config or --weights/--tokens, not both")
                    cfg = load_study_config(config)
                    if out is not None:
                        cfg = cfg.model_copy(update={"out": out.resolve()})
                    with local_corpus(cfg.corpus, "corpuskit mix", read=None) as local:
                        run_study(
                            cfg.model_copy(update={"corpus": local}),
                            jout,
                            dry_run=dry_run,
                            name=cfg.corpus,
                            run=run,
                        )
                    return
                root = corpus_root_arg(corpus)
                with local_corpus(root, "corpuskit mix", read=None) as local:
                    cfg = flags_study(
                        weights,
                        tokens,
                        local,
                        out,
                        tokenizer,
                        seed,
                        allow_repeat,
                        max_epochs,
                        heldout_bytes,
                        dry_run,
                    )
                    single = None if out is None else out.resolve()
                    run_study(cfg, jout, dry_run=dry_run, single_out=single, name=root, run=run)
            except (MixError, ConfigError) as e:
                raise fail(str(e)) from None

    tok_app = typer.Typer(help="Train the tokenizer shared by a study's mixtures.")

    @tok_app.command("train")
    def train(
        corpus: str = typer.Option("corpus", "--corpus", help="corpus folder or URL"),
        out: Path = typer.Option(Path("tokenizer.json"), "--out", "-o", help="where to write tokenizer.json"),
        vocab_size: int = typer.Option(32_000, "--vocab-size", help="vocabulary size incl. 256 byte tokens"),
        sample: str = typer.Option("100M", "--sample-bytes", help="training text, split evenly by source"),
        sources: str = typer.Option(None, "--sources", help="comma-separated sources (default: all)"),
        seed: int = typer.Option(0, "--seed", help="sample seed"),
        heldout_bytes: int = typer.Option(1_000_000, "--heldout-bytes", help="held-out text left out"),
        json_out: str = typer.Option(None, "--json", help=JSON_HELP),
    ) -> None:
        """Train a byte-level BPE on a sample balanced across sources (held-out sets excluded)."""
        root = corpus_root_arg(corpus)
        try:
            known = corpus_sources(root)
            names = [s.strip() for s in sources.split(",")] if sources else known
            unknown = sorted(set(names) - set(known))
            if unknown or not names:
                raise MixError(f"unknown source(s) {unknown}; the corpus {corpus} has: {', '.join(known)}")
            if vocab_size < 258:
                raise MixError(f"--vocab-size must be at least 258 (got {vocab_size})")
            budget = parse_tokens(sample)
        except MixError as e:
            raise fail(str(e)) from None
        with JsonOutput(json_out) as jout, local_corpus(root, "corpuskit tokenizer", read=names) as local:
            train_tokenizer(local, out, vocab_size, budget, names, seed, heldout_bytes, jout, name=str(root))

    app.add_typer(tok_app, name="tokenizer")


def run_study(
    cfg: StudyConfig,
    jout: JsonOutput,
    *,
    dry_run: bool = False,
    single_out: Path | None = None,
    name: str | Path | None = None,
    run: StageRun = StageRun(),
) -> None:
    """Show the held-out sets and plans, then (unless ``dry_run``) build every mixture and show each."""
    from corpuskit.mix.context import open_study
    from corpuskit.mix.plan import plan_study
    from corpuskit.mix.study import build_mixtures
    from corpuskit.progress import Shown, console, results, summary_table

    ctx = open_study(cfg.corpus, cfg.tokenizer, cfg.heldout, cfg.decontam)
    ctx.corpus_name = str(name) if name is not None and str(name) != str(cfg.corpus) else ""
    pools = {
        s: {
            "kept_documents": p.kept_documents,
            "heldout_documents": p.heldout.documents,
            "heldout_bytes": p.heldout.bytes,
            "pool_documents": p.docs.height,
            "pool_bytes": p.bytes,
        }
        for s, p in sorted(ctx.pools.items())
    }
    rows = [[s, *e.values()] for s, e in pools.items()]
    results.print(summary_table("Held-out sets (split before mixing)", POOL_COLUMNS, rows))
    plans = plan_study(
        ctx, cfg.mixtures, seed=cfg.seed, max_epochs=cfg.max_epochs, allow_repeat=cfg.allow_repeat
    )
    for plan in plans:
        for w in plan.warnings:
            console.print(f"[yellow]warning[/yellow] ({plan.name}): {w}")
        title = f"Plan: {plan.name} ({plan.mixture.tokens:,} tokens, {cfg.tokenizer}; estimates marked ~)"
        results.print(
            summary_table(title, PLAN_COLUMNS, [_plan_row(p, plan.max_epochs) for p in plan.sources])
        )
    jout.add(heldout=pools, plans=[_plan_json(plan) for plan in plans])
    if dry_run:
        return
    with Shown() as progress:
        built = build_mixtures(
            ctx,
            plans,
            single_out or cfg.out,
            single=single_out is not None,
            progress=progress,
            run=run,
        )
    for manifest, report in built:
        rate = rate_text(report.total_tokens, report.tokenize_seconds, "tok")
        title = (
            f"Mixture {report.name} -> {report.out}: {report.total_tokens:,} tokens in "
            f"{report.seconds:.1f} s ({rate} tokenizing)"
        )
        results.print(
            summary_table(
                title, MIX_COLUMNS, [_mix_row(s, e) for s, e in sorted(manifest["sources"].items())]
            )
        )
    jout.add(
        mixtures=[
            {"out": str(r.out), "seconds": r.seconds, "tokenize_seconds": r.tokenize_seconds, "manifest": m}
            for m, r in built
        ]
    )


def _plan_row(p: SourcePlan, max_epochs: float) -> list[Any]:
    avail = p.available if p.exact else f"~{p.available:,}"
    return [p.source, round(p.weight, 4), p.target, avail, round(p.epochs, 3), _status(p, max_epochs)]


def _status(p: SourcePlan, max_epochs: float) -> str:
    return "ok" if p.epochs <= max_epochs else f"> {max_epochs:g} epochs"


def _plan_json(plan: MixturePlan) -> dict[str, Any]:
    sources = [
        {
            "source": p.source,
            "weight": p.weight,
            "tokens_needed": p.target,
            "tokens_available": p.available,
            "available_exact": p.exact,
            "epochs": p.epochs,  # infinite (a source with nothing left) is written as null
            "status": _status(p, plan.max_epochs),
        }
        for p in plan.sources
    ]
    return {"name": plan.name, "tokens": plan.mixture.tokens, "warnings": plan.warnings, "sources": sources}


def _mix_row(source: str, e: dict[str, Any]) -> list[Any]:
    return [
        source,
        round(e["weight"], 4),
        round(e["share"], 4),
        e["tokens"],
        e["documents"],
        e["unique_documents"],
        e["epochs"],
        e["decontaminated_documents"],
    ]


def train_tokenizer(
    corpus: Path,
    out: Path,
    vocab_size: int,
    budget: int,
    names: list[str],
    seed: int,
    heldout_bytes: int,
    jout: JsonOutput,
    name: str = "",
) -> None:
    """Train the BPE on a balanced sample, write it with its ``.meta.json`` and show what it was fed."""
    from corpuskit.documents import package_versions
    from corpuskit.mix.pools import balanced_sample, load_pools
    from corpuskit.mix.tokenizer import train_bpe
    from corpuskit.progress import console, results, summary_table
    from corpuskit.store.atomic import atomic_write_json

    t0 = time.perf_counter()
    pools = load_pools(corpus, HeldoutSettings(bytes_per_source=heldout_bytes), names)
    texts = balanced_sample(pools, budget, seed)
    n_bytes = {s: sum(len(t.encode("utf-8")) for t in ts) for s, ts in texts.items()}
    console.print(f"training BPE (vocab {vocab_size:,}) on {sum(n_bytes.values()):,} bytes ...")
    tok = train_bpe((t for s in sorted(texts) for t in texts[s]), vocab_size, out)
    meta = {
        "hash": tok.hash,
        "vocab_size": tok.vocab_size,
        "eot_id": tok.eot_id,
        "sample_bytes": n_bytes,
        "seed": seed,
        "heldout_bytes": heldout_bytes,
        "corpus": name if "://" in name else str(Path(corpus).resolve()),
        "versions": package_versions(),
    }
    atomic_write_json(out.with_suffix(".meta.json"), meta)
    seconds = time.perf_counter() - t0
    rows = [[s, n_bytes[s], len(texts[s])] for s in sorted(texts)]
    results.print(
        summary_table(
            f"Tokenizer {out} (hash {tok.hash}) in {seconds:.1f} s",
            ["source", "sample bytes", "documents"],
            rows,
        )
    )
    documents = {s: len(texts[s]) for s in sorted(texts)}
    jout.add(
        tokenizer={
            **meta,
            "path": str(Path(out).resolve()),
            "seconds": seconds,
            "sample_documents": documents,
        }
    )
