"""CLI: ``corpuskit ablate ablation.yaml``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

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
