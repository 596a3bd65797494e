"""CLI: ``corpuskit mix`` (one mixture from flags or several from a YAML) and ``corpuskit tokenizer``."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import typer

from corpuskit.configs import ConfigError
from corpuskit.mix.config import DecontamSettings, MixtureConfig, StudyConfig, load_study_config
from corpuskit.mix.heldout import HeldoutSettings
from corpuskit.mix.sampler import (
    DEFAULT_MAX_EPOCHS,
    MixError,
    normalise_weights,
    parse_tokens,
    parse_weights,
)
from corpuskit.store import list_sources


def _fail(msg: str, code: int = 2) -> typer.Exit:
    from corpuskit.progress import fail

    return fail(msg, code)


def register(app: typer.Typer) -> None:
    """Add ``mix`` and the ``tokenizer`` sub-app to the corpuskit CLI."""

    @app.command("mix")
    def mix(
        weights: str = typer.Option(None, "--weights", "-w", help="token shares, e.g. web=0.5,books=0.3"),
        tokens: str = typer.Option(None, "--tokens", "-n", help="token budget, e.g. 50M or 1B"),
        corpus: Path = typer.Option(Path("corpus"), "--corpus", help="corpus folder"),
        out: Path = typer.Option(None, "--out", "-o", help="mixture folder (or study folder with --config)"),
        tokenizer: str = typer.Option("bytes", "--tokenizer", help="'bytes' or a tokenizer.json"),
        seed: int = typer.Option(0, "--seed", help="sampling seed"),
        allow_repeat: bool = typer.Option(False, "--allow-repeat", help="allow > --max-epochs repetition"),
        max_epochs: float = typer.Option(DEFAULT_MAX_EPOCHS, "--max-epochs", help="repetition cap"),
        heldout_bytes: int = typer.Option(1_000_000, "--heldout-bytes", help="held-out text per source"),
        dry_run: bool = typer.Option(False, "--dry-run", help="print the plan and stop"),
        config: Path = typer.Option(None, "--config", "-c", help="mixes YAML (several mixtures)"),
    ) -> None:
        """Draw a tokenized training mixture by token shares (held-out split + decontamination first)."""
        from corpuskit.mix.build import run_study

        try:
            if config is not None:
                if weights or tokens:
                    raise MixError("give either --config or --weights/--tokens, not both")
                cfg = load_study_config(config)
                if out is not None:
                    cfg = cfg.model_copy(update={"out": out.resolve()})
                run_study(cfg, dry_run=dry_run)
                return
            if not weights or not tokens:
                raise MixError("give --weights and --tokens (or --config mixes.yaml)")
            if out is None and not dry_run:
                raise MixError("give --out DIR for the mixture folder")
            if not math.isfinite(max_epochs) or max_epochs <= 0:
                raise MixError(f"--max-epochs must be a finite number > 0 (got {max_epochs})")
            if heldout_bytes < 0:
                raise MixError(f"--heldout-bytes must be >= 0 (got {heldout_bytes})")
            if out is not None:
                from corpuskit.mix.build import is_mixture_dir
                from corpuskit.store.outputs import check_output_dir

                out = check_output_dir(
                    out,
                    option="--out",
                    written_by_us=is_mixture_dir,
                    what="a mixture",
                    protect=[("the corpus", corpus)],
                )
            budget = parse_tokens(tokens)
            wts = parse_weights(weights)
            normalise_weights(wts, list_sources(corpus))  # unknown / negative -> clear error before work
            tok = tokenizer if tokenizer == "bytes" else str(Path(tokenizer).resolve())
            name = (re.sub(r"[^A-Za-z0-9_.-]", "_", out.name) or "mixture") if out is not None else "mixture"
            cfg = StudyConfig(
                corpus=corpus.resolve(),
                out=(out or Path(name)).resolve().parent,
                tokenizer=tok,
                seed=seed,
                max_epochs=max_epochs,
                allow_repeat=allow_repeat,
                heldout=HeldoutSettings(bytes_per_source=heldout_bytes),
                decontam=DecontamSettings(),
                mixtures=[MixtureConfig(name=name, weights=wts, tokens=budget)],
            )
            run_study(cfg, dry_run=dry_run, single_out=None if out is None else out.resolve())
        except (MixError, ConfigError) as e:
            raise _fail(str(e)) from None

    tok_app = typer.Typer(help="Train the tokenizer shared by a study's mixtures.")

    @tok_app.command("train")
    def train(
        corpus: Path = typer.Option(Path("corpus"), "--corpus", help="corpus folder"),
        out: Path = typer.Option(Path("tokenizer.json"), "--out", "-o", help="where to write tokenizer.json"),
        vocab_size: int = typer.Option(32_000, "--vocab-size", help="vocabulary size incl. 256 byte tokens"),
        sample: str = typer.Option("100M", "--sample-bytes", help="training text, split evenly by source"),
        sources: str = typer.Option(None, "--sources", help="comma-separated sources (default: all)"),
        seed: int = typer.Option(0, "--seed", help="sample seed"),
        heldout_bytes: int = typer.Option(1_000_000, "--heldout-bytes", help="held-out text left out"),
    ) -> None:
        """Train a byte-level BPE on a sample balanced across sources (held-out sets excluded)."""
        from corpuskit.documents import package_versions
        from corpuskit.mix.build import balanced_sample, load_pools
        from corpuskit.mix.tokenizer import train_bpe
        from corpuskit.progress import console, results, summary_table
        from corpuskit.store.atomic import atomic_write_json

        try:
            names = [s.strip() for s in sources.split(",")] if sources else list_sources(corpus)
            known = list_sources(corpus)
            unknown = sorted(set(names) - set(known))
            if unknown or not names:
                raise MixError(f"unknown source(s) {unknown}; the corpus {corpus} has: {', '.join(known)}")
            if vocab_size < 258:
                raise MixError(f"--vocab-size must be at least 258 (got {vocab_size})")
            budget = parse_tokens(sample)
        except MixError as e:
            raise _fail(str(e)) from None
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
            "corpus": str(Path(corpus).resolve()),
            "versions": package_versions(),
        }
        atomic_write_json(out.with_suffix(".meta.json"), meta)
        results.print(
            summary_table(
                f"Tokenizer {out} (hash {tok.hash}) in {time.perf_counter() - t0:.1f} s",
                ["source", "sample bytes", "documents"],
                [[s, n_bytes[s], len(texts[s])] for s in sorted(texts)],
            )
        )

    app.add_typer(tok_app, name="tokenizer")
