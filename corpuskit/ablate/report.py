"""How an ablation's summary is shown: the plots (PNG files) and the rows of the terminal tables.

Nothing here prints: :mod:`.commands` puts the rows in tables on stdout.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_bpb(path: Path, summary: dict) -> None:
    """Grouped bars: BPB per eval set (and macro) per mixture, error bars = std over seeds."""
    plt = _plt()
    mixes = [n for n, m in summary["mixtures"].items() if not m["swarm"] or n == summary["baseline"]]
    if not mixes:
        return
    sets = [*summary["eval_sets"], "macro"]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(sets) * max(1, len(mixes)) / 2), 4))
    width = 0.8 / max(1, len(mixes))
    for i, n in enumerate(mixes):
        m = summary["mixtures"][n]
        means = [m["sets"][s]["bpb_mean"] for s in sets[:-1]] + [m["macro_bpb_mean"]]
        stds = [m["sets"][s]["bpb_std"] for s in sets[:-1]] + [m["macro_bpb_std"]]
        stds = [0.0 if (v is None or not math.isfinite(v)) else v for v in stds]
        xs = np.arange(len(sets)) + (i - (len(mixes) - 1) / 2) * width
        ax.bar(xs, means, width, yerr=stds, capsize=3, label=n)
    ax.set_xticks(np.arange(len(sets)), sets, rotation=20)
    ax.set_ylabel("bits per byte (lower is better)")
    ax.set_title("BPB per eval set (mean ± std over seeds)")
    lo = min(summary["mixtures"][n]["macro_bpb_mean"] for n in mixes)
    ax.set_ylim(bottom=max(0.0, lo * 0.8))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_regression(path: Path, r: dict) -> None:
    plt = _plt()
    meas = [p["measured"] for p in r["points"]]
    pred = [p["predicted_out_of_fold"] for p in r["points"]]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(meas, pred, s=18)
    lo, hi = min(meas + pred), max(meas + pred)
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel("measured macro BPB")
    ax.set_ylabel("predicted (held-out fold)")
    ax.set_title(f"{r['model']} fit, Spearman ρ = {r['spearman_rho_heldout']:.2f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _order(summary: dict) -> list[str]:
    """Baseline first, then the compared mixtures; mixtures whose runs all failed are absent."""
    mixes = summary["mixtures"]
    if summary["baseline"] not in mixes:
        return [n for n, m in mixes.items() if not m["swarm"]]
    return [summary["baseline"]] + [c["mixture"] for c in summary["comparisons"]]


def summary_rows(summary: dict) -> tuple[list[str], list[list[Any]]]:
    """The headline table: macro BPB per mixture, difference to the baseline and the verdict."""
    cols = [
        "mixture", "seeds", "macro BPB", "Δ vs base", "95% CI seeds", "p Holm", "95% CI docs", "verdict",
        "P(sign right)", "seeds for 95%",
    ]  # fmt: skip
    comps = {c["mixture"]: c for c in summary["comparisons"]}
    base = summary["baseline"]
    rows = []
    for n in _order(summary):
        m, c = summary["mixtures"][n], comps.get(n)
        rows.append(
            [
                n + (" (base)" if n == base else ""),
                len(m["seeds"]),
                _pm(m["macro_bpb_mean"], m["macro_bpb_std"]),
                f"{c['diff']:+.4f}" if c else "",
                _ci(c["welch_ci"]) if c else "",
                _p(c["p_holm"]) if c else "",
                _ci(c["boot_ci"]) if c else "",
                c["verdict"] if c else "",
                _share(c.get("p_sign")) if c else "",
                _seeds(c.get("seeds_for_95")) if c else "",
            ]
        )
    return cols, rows


def failed_rows(summary: dict) -> tuple[list[str], list[list[Any]]]:
    """One row per failed run: where it diverged, at which lr, and what to change."""
    cols = ["mixture", "seed", "step", "lr", "loss", "curve", "what to change"]
    rows = [
        [f["mixture"], f["seed"], f["step"], f"{f['lr']:.2e}", _num(f["loss"]), f["curve"], f["advice"]]
        for f in summary.get("failed_runs", [])
    ]
    return cols, rows


def sweep_rows(sweep: dict) -> tuple[list[str], list[list[Any]]]:
    cols = ["lr", "seeds", "final loss (worst seed)", "diverged", "chosen"]
    rows = [
        [f"{r['lr']:.2e}", len(r["seeds"]), _num(r["loss"]), "yes" * r["diverged"], "←" * r["chosen"]]
        for r in sweep["runs"]
    ]
    return cols, rows


def per_set_rows(summary: dict) -> tuple[list[str], list[list[Any]]]:
    """BPB per eval set (mean ± std over seeds); per-token perplexity beside it, as a secondary number."""
    sets = list(summary["eval_sets"])
    cols = ["mixture", *[f"{s} BPB" for s in sets], *[f"{s} ppl/token" for s in sets]]
    rows = []
    for n in _order(summary):
        m = summary["mixtures"][n]["sets"]
        rows.append(
            [
                n,
                *[_pm(m[s]["bpb_mean"], m[s]["bpb_std"]) for s in sets],
                *[round(m[s]["perplexity_mean"], 3) for s in sets],
            ]
        )
    return cols, rows


def _pm(mean: float, std: float | None) -> str:
    return f"{mean:.4f}" if std is None or not math.isfinite(std) else f"{mean:.4f} ± {std:.4f}"


def _ci(ci) -> str:
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "—"
    return f"[{lo:+.4f}, {hi:+.4f}]"


def _p(p: float | None) -> str:
    return "—" if p is None or not math.isfinite(p) else f"{p:.3g}"


def _share(p: float | None) -> str:
    return "—" if p is None else f"{100 * p:.0f}%"


def _seeds(n: int | None) -> str:
    return "—" if n is None else str(n)


def _num(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.3f}"
