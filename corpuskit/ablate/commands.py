"""CLI: ``corpuskit ablate ablation.yaml`` and ``corpuskit demo`` (the whole chain, end to end, on CPU)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import typer
import yaml

from corpuskit.config import ConfigError
from corpuskit.progress import (
    JsonOption,
    JsonOutput,
    Shown,
    console,
    fail,
    fail_units,
    results,
    summary_table,
)


def print_summary(summary: dict[str, Any], output: Path) -> None:
    """The terminal view of an ablation: the tables, the seed noise, trust, failures, the regression."""
    from corpuskit.ablate.report import failed_rows, per_set_rows, summary_rows, sweep_rows

    sweep = summary.get("lr_sweep")
    if sweep:
        results.print(
            summary_table(
                f"lr sweep on {sweep['baseline']!r} ({sweep['tokens']:,} tokens per run): chosen lr "
                f"{sweep['chosen_lr']:.2e}",
                *sweep_rows(sweep),
            )
        )
    sets = ", ".join(
        f"{k} ({v['documents']} docs, {v['bytes']:,} B)" for k, v in summary["eval_sets"].items()
    )
    if summary["mixtures"]:
        results.print(summary_table(f"bits per byte per eval set: {sets}", *per_set_rows(summary)))
        title = "ablation: macro bits per byte (lower is better)"
        results.print(summary_table(title, *summary_rows(summary)))
    sigma = summary["baseline_seed_sigma"]
    base = summary["baseline"]
    if base in summary["mixtures"]:
        if sigma is None or not math.isfinite(sigma):
            results.print(f"seed noise: baseline {base!r} has one seed; use ≥ 3 seeds to measure it")
        else:
            n = len(summary["mixtures"][base]["seeds"])
            results.print(f"seed noise: σ of macro BPB over {n} seeds of {base!r} = {sigma:.4f} bits/byte")
    results.print(
        "verdict: better/worse only when the Welch test over seeds (Holm-corrected) and the paired bootstrap "
        "over documents both exclude zero; otherwise tie. P(sign right): estimated chance that the order "
        "of the two mixtures is right given seed σ and Δ; seeds for 95%: seeds per mixture that would make "
        "it ≥ 95%"
    )
    r = summary.get("regression")
    if r:
        p = r["proposal"]
        results.print(
            summary_table(
                f"swarm regression ({r['model']}, {r['runs']} runs): Spearman ρ on held-out runs = "
                f"{r['spearman_rho_heldout']:.3f}",
                ["source", "natural", "proposed weight", "coefficient"],
                [
                    [s, r["natural_weights"][s], p["weights"][s], r["coefficients"][s]]
                    for s in sorted(p["weights"])
                ],
            )
        )
        lo, hi = p["interval_95"]
        results.print(
            f"proposed mixture: predicted macro BPB {p['predicted_bpb']:.4f} (95% interval {lo:.4f}–{hi:.4f})"
        )
    if summary.get("failed_runs"):
        results.print(summary_table("failed runs (not in the numbers above)", *failed_rows(summary)))
    for note in summary.get("notes", []):
        results.print(f"note: {note}")
    results.print(
        f"outputs: {output}/results.csv, summary.json, bpb_per_set.png" + (", regression.png" if r else "")
    )


def run_and_report(cfg) -> dict[str, Any]:
    """Run the ablation with progress on stderr and print its summary on stdout; returns the summary."""
    from corpuskit.ablate.runner import run_ablation

    m = cfg.model.build(257)
    console.print(
        f"ablate: model {cfg.model.preset} {m.n_layer}×{m.n_embd} ctx {m.context}, "
        f"{cfg.training.tokens:,} tokens per run, seeds {cfg.training.seeds}"
    )
    with Shown("steps") as progress:
        summary = run_ablation(cfg, progress=progress)
    runs = summary["runs"]
    console.print(f"ablate: {runs['planned']} runs, {runs['failed']} failed")
    print_summary(summary, cfg.resolve(cfg.output))
    return summary


def register(app: typer.Typer) -> None:
    @app.command("ablate")
    def ablate_cmd(
        config: Path = typer.Argument(
            ..., help="ablation.yaml: mixtures, model preset, budget, seeds, eval sets"
        ),
        lr_sweep: bool = typer.Option(
            False, "--lr-sweep", help="first choose the learning rate by a short sweep on the baseline"
        ),
        json_out: JsonOption = None,
    ) -> None:
        """Train a small GPT per mixture and seed, score held-out bits per byte, rank mixtures with noise."""
        from corpuskit.ablate.config import SweepSection, load_ablation_config

        with JsonOutput(json_out) as out:
            try:
                cfg = load_ablation_config(config)
                if lr_sweep and cfg.sweep is None:
                    cfg = cfg.model_copy(update={"sweep": SweepSection()})
                summary = run_and_report(cfg)
            except ConfigError as e:
                raise fail(str(e)) from None
            out.add(**summary)
        failed = summary["failed_runs"]  # after the JSON is written: a failed run is reported, then exit 1
        if failed:
            raise fail_units(
                [f"{f['mixture']} seed {f['seed']}: {f['error']}" for f in failed],
                f"{len(failed)} of {summary['runs']['planned']} runs failed; the others are summarised "
                "above. " + failed[0]["advice"],
            )

    @app.command("demo")
    def demo_cmd(
        data: Path | None = typer.Option(None, "--data", help="real sample folder (e.g. ../shared/data)"),
        out: Path = typer.Option(Path("corpuskit-demo"), "--out", "-o", help="where everything is written"),
        tokens: int = typer.Option(300_000, min=1, help="training tokens per run"),
        seeds: int = typer.Option(3, min=1, help="seeds per mixture (≥ 3 to measure seed noise)"),
        workers: int = typer.Option(2, min=1, help="ingest processes"),
        threads: int = typer.Option(0, min=0, help="CPU threads for training (0 = min(4, cores))"),
        scale: float = typer.Option(
            1.0, min=0.01, help="size of the generated sample (offline mode)", hidden=True
        ),
    ) -> None:
        """Ingest three kinds of source, curate, dedup, mix three mixtures and ablate them on CPU."""
        try:
            run_demo(
                app, out, data, tokens=tokens, seeds=seeds, workers=workers, threads=threads, scale=scale
            )
        except ConfigError as e:
            raise fail(str(e)) from None


# ---------------------------------------------------------------------------------------------- demo


def demo_inputs(data: Path | None, out: Path, scale: float = 1.0) -> tuple[dict[str, dict[str, Any]], str]:
    """Source configs (name -> kind, inputs, options) from real files in ``data`` or a generated sample."""
    if data is None:
        from corpuskit.ablate.demo_data import write_demo_inputs

        paths = write_demo_inputs(out / "inputs", scale=scale)
        # Generated text repeats its templates by construction, which the Gopher repetition and FineWeb
        # duplicate-line rules rightly flag as low quality; its numbers and quotes also sit just under
        # Gopher's 80% alphabetic-word ratio. Real data (--data) keeps every published default.
        generated_curate = {
            "filters": ["gopher_quality", "c4"],
            "gopher_quality": {"max_non_alpha_words_ratio": 0.7},
        }
        return {
            "books": {
                "kind": "gutenberg",
                "inputs": [str(paths["books"] / "*.txt")],
                "curate": generated_curate,
            },
            "forums": {
                "kind": "stackexchange",
                "inputs": [str(paths["forums"] / "coffee.example.com_Posts.xml")],
                "curate": generated_curate,
            },
            "web": {"kind": "html", "inputs": [str(paths["web"])], "curate": generated_curate},
        }, "generated sample (offline)"
    data = data.resolve()
    need = {
        "books": data / "books",
        "forums": data / "forums" / "stackexchange",
        "web": data / "web" / "extraction_scrapinghub" / "html",
    }
    missing = [str(p) for p in need.values() if not p.exists()]
    if missing:
        raise ConfigError(f"--data {data}: expected the shared sample layout; missing {', '.join(missing)}")
    # Per-source rules as in sources/books.yaml and sources/forums.yaml: books are long, multilingual and
    # dialogue-heavy (Gopher's 100k-word cap and alphabetic-word ratio drop whole novels), threads are
    # short; web pages get every published default.
    return {
        "books": {
            "kind": "gutenberg",
            "inputs": [str(need["books"] / "*.txt")],
            "curate": {"langid": {"languages": None, "min_score": 0.5}, "filters": ["gopher_repetition"]},
        },
        "forums": {
            "kind": "stackexchange",
            "inputs": [str(need["forums"] / "*Posts.xml")],
            "curate": {
                "filters": ["gopher_repetition", "gopher_quality"],
                "gopher_quality": {"min_doc_words": 30},
            },
        },
        "web": {"kind": "html", "inputs": [str(need["web"])]},
    }, f"real samples from {data}"


def _cli(app: typer.Typer, args: list[str]) -> None:
    """Run another corpuskit command in-process, exactly as a user would."""
    console.rule(f"corpuskit {' '.join(args)}")
    code = typer.main.get_command(app).main(args, prog_name="corpuskit", standalone_mode=False)
    if code not in (None, 0):
        raise ConfigError(f"`corpuskit {' '.join(args)}` failed with exit code {code}")


def run_demo(
    app: typer.Typer,
    out: Path,
    data: Path | None,
    *,
    tokens: int,
    seeds: int,
    workers: int,
    threads: int = 0,
    scale: float = 1.0,
) -> dict[str, Any]:
    """The whole chain in one folder: sources/, corpus/, mixes/, ablation/ (re-running resumes)."""
    from corpuskit.ablate.config import load_ablation_config

    t0 = time.perf_counter()
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    specs, what = demo_inputs(data, out, scale)
    console.print(f"[bold]corpuskit demo[/bold]: {what} → {out}")
    src_dir = out / "sources"
    src_dir.mkdir(exist_ok=True)
    configs = []
    for name, spec in specs.items():
        path = src_dir / f"{name}.yaml"
        path.write_text(
            yaml.safe_dump({"name": name, "output": str(out / "corpus"), **spec}, sort_keys=False)
        )
        configs.append(str(path))
    corpus = out / "corpus"
    timings: dict[str, float] = {}

    def stage(label: str, args: list[str]) -> None:
        t = time.perf_counter()
        _cli(app, args)
        timings[label] = time.perf_counter() - t

    stage("ingest", ["ingest", *configs, "--workers", str(workers)])
    stage("curate", ["curate", *configs])
    stage("dedup", ["dedup", *configs])
    stage("stats", ["stats", str(corpus)])

    mixes = out / "mixes.yaml"
    mix_tokens = max(tokens, 20_000)  # training draws random windows; a smaller mixture is just repeated
    mixes.write_text(
        yaml.safe_dump(
            {
                "corpus": "corpus",
                "out": "mixes",
                "tokenizer": "bytes",
                "heldout": {"bytes_per_source": 60_000},
                # the generated sample repeats template sentences, so every 13-gram recurs across documents
                # and decontamination would empty the pools; real text keeps it on
                "decontam": {"enabled": data is not None},
                "max_epochs": 8,
                "mixtures": [
                    {
                        "name": "balanced",
                        "weights": {"books": 1 / 3, "forums": 1 / 3, "web": 1 / 3},
                        "tokens": mix_tokens,
                    },
                    {
                        "name": "books-heavy",
                        "weights": {"books": 0.7, "forums": 0.15, "web": 0.15},
                        "tokens": mix_tokens,
                    },
                    {
                        "name": "web-heavy",
                        "weights": {"books": 0.15, "forums": 0.15, "web": 0.7},
                        "tokens": mix_tokens,
                    },
                ],
            },
            sort_keys=False,
        )
    )
    stage("mix", ["mix", "--config", str(mixes)])

    ablation = out / "ablation.yaml"
    ablation.write_text(
        yaml.safe_dump(
            {
                "output": "ablation",
                "model": {"preset": "smoke"},
                "training": {
                    "tokens": tokens,
                    "batch_size": 16,
                    "lr": 3e-3,
                    "seeds": list(range(seeds)),
                    "threads": threads,
                },
                "mixtures": [
                    {"name": n, "path": f"mixes/{n}"} for n in ("balanced", "books-heavy", "web-heavy")
                ],
                "baseline": "balanced",
                "eval": {"max_documents": 40, "max_document_bytes": 16_000},
            },
            sort_keys=False,
        )
    )
    console.rule(f"corpuskit ablate {ablation}")
    t = time.perf_counter()
    summary = run_and_report(load_ablation_config(ablation))
    timings["ablate"] = time.perf_counter() - t
    results.print(
        summary_table(
            f"demo finished in {time.perf_counter() - t0:.0f} s",
            ["stage", "seconds"],
            [[k, round(v, 1)] for k, v in timings.items()],
        )
    )
    return summary
