"""The numbers an ablation ends with: per-mixture means ± std, comparisons with the baseline (verdict and
how far to trust it), failed runs with what to change, the swarm regression; and the files they go to.

Files (field names are a contract: other tools read them; add fields, never rename): ``results.csv``,
``summary.json`` (NaN/inf written as null), ``timings.json``, ``bpb_per_set.png``, ``regression.png``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.ablate import regression as reg
from corpuskit.ablate.config import AblationConfig
from corpuskit.ablate.evaluate import EvalSet, SetScore, macro_bpb
from corpuskit.ablate.mixtures import Swarm, mixture_weights
from corpuskit.ablate.report import plot_bpb, plot_regression
from corpuskit.ablate.significance import compare_to_baseline, mean_std
from corpuskit.mix import Mixture
from corpuskit.store.atomic import atomic_write_bytes, atomic_write_json, json_safe

PLUMBING_ONLY = (
    "the 'smoke' preset is for plumbing only (~0.1M parameters): it shows the pipeline works, not which "
    "mixture is better; mixture rankings are known to transfer to large models only from ~15M-parameter "
    "proxies up (Olmix), so use the 14m preset or larger for decisions"
)


def summarise(
    cfg: AblationConfig,
    scores: dict[tuple[str, int], list[SetScore]],
    sets: list[EvalSet],
    mixtures: dict[str, Mixture],
    swarm: Swarm,
    failed: list[dict[str, Any]] | None = None,
    sweep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    baseline = cfg.baseline_name()
    set_names = [s.name for s in sets]
    per_mix: dict[str, Any] = {}
    macro_by: dict[str, list[float]] = {}
    docs_by: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for n in mixtures:
        runs = sorted((s, sc) for (m, s), sc in scores.items() if m == n)
        if not runs:
            continue  # every seed failed: named in failed_runs
        macro_by[n] = [macro_bpb(sc) for _, sc in runs]
        sets_summary = {}
        for j, sn in enumerate(set_names):
            b = mean_std([sc[j].bpb for _, sc in runs])
            t = mean_std([sc[j].token_loss for _, sc in runs])
            sets_summary[sn] = {
                "bpb_mean": b.mean,
                "bpb_std": b.std,
                "token_loss_mean": t.mean,
                "perplexity_mean": float(np.mean([sc[j].perplexity for _, sc in runs])),
            }
        ms = mean_std(macro_by[n])
        per_mix[n] = {
            "seeds": [s for s, _ in runs],
            "macro_bpb_mean": ms.mean,
            "macro_bpb_std": ms.std,
            "macro_bpb_per_seed": macro_by[n],
            "sets": sets_summary,
            "weights": mixture_weights(mixtures[n]),
            "swarm": n in swarm.names,
        }
        docs_by[n] = (
            [np.mean([sc[j].nats for _, sc in runs], axis=0) for j in range(len(set_names))],
            [runs[0][1][j].bytes for j in range(len(set_names))],
        )
    compared = [n for n in per_mix if n not in swarm.names or n == baseline]
    comps = []
    if baseline in per_mix:
        comps = compare_to_baseline(
            {n: macro_by[n] for n in compared},
            {n: docs_by[n] for n in compared},
            baseline,
            alpha=cfg.statistics.alpha,
            n_boot=cfg.statistics.bootstrap,
        )
    train_cfg = cfg.training.train_config(cfg.model.preset)
    summary: dict[str, Any] = {
        "baseline": baseline,
        "eval_sets": {s.name: {"documents": len(s.texts), "bytes": s.bytes} for s in sets},
        "baseline_seed_sigma": per_mix[baseline]["macro_bpb_std"] if baseline in per_mix else None,
        "mixtures": per_mix,
        "comparisons": [c.to_dict() for c in comps],
        "config": cfg.model_dump(mode="json"),
        "training_used": {
            "lr": train_cfg.lr,
            "warmup_min_steps": train_cfg.warmup_min_steps,
            "warmup_fraction": train_cfg.warmup_fraction,
            "eval_bytes_per_set": cfg.eval.bytes_per_set(cfg.model.preset),
        },
        "failed_runs": list(failed or []),
        "notes": [PLUMBING_ONLY] if cfg.model.preset == "smoke" else [],
    }
    if baseline not in per_mix:
        summary["notes"].append(f"every run of the baseline {baseline!r} failed: nothing could be compared")
    if sweep is not None:
        summary["lr_sweep"] = sweep
    swarm_done = [n for n in swarm.names if n in per_mix]
    if cfg.swarm and len(swarm_done) >= 3:
        summary["regression"] = fit_swarm(cfg, per_mix, swarm_done, swarm)
    return summary


def fit_swarm(cfg: AblationConfig, per_mix: dict[str, Any], names: list[str], swarm: Swarm) -> dict[str, Any]:
    sources = sorted(swarm.space.natural)
    W = np.array([[per_mix[n]["weights"].get(s, 0.0) for s in sources] for n in names])
    y = np.array([per_mix[n]["macro_bpb_mean"] for n in names])
    f = reg.fit(W, y, sources, model=cfg.regression.model)
    prop = reg.propose(
        f,
        swarm.space,
        n_candidates=cfg.regression.candidates,
        top_k=cfg.regression.top_k,
        seed=cfg.swarm.seed,
    )
    return {
        **f.to_dict(),
        "proposal": prop.to_dict(),
        "natural_weights": swarm.space.natural,
        "points": [
            {"mixture": n, "measured": float(m), "predicted_out_of_fold": float(p)}
            for n, m, p in zip(names, f.measured, f.oof_pred, strict=True)
        ],
    }


RESULT_COLUMNS = [
    "mixture", "seed", "eval_set", "bpb", "token_loss", "perplexity", "tokens", "bytes", "documents",
]  # fmt: skip


def write_outputs(
    out: Path, cfg: AblationConfig, scores: dict[tuple[str, int], list[SetScore]], summary: dict, units: list
) -> None:
    """results.csv (finished units, in plan order), summary.json, timings.json and the plots."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(RESULT_COLUMNS)
    for u in units:
        for sc in scores[(u.mixture, u.seed)]:
            w.writerow(
                [u.mixture, u.seed, sc.name, repr(sc.bpb), repr(sc.token_loss), repr(sc.perplexity),
                 int(sc.tokens.sum()), int(sc.bytes.sum()), int(sc.nats.size)]
            )  # fmt: skip
    atomic_write_bytes(out / "results.csv", buf.getvalue().encode())
    atomic_write_json(out / "summary.json", json_safe(summary))
    timings = {f"{u.mixture}/seed-{u.seed}": json.loads(u.marker.read_text()) for u in units}
    atomic_write_json(out / "timings.json", json_safe(timings))
    if summary["mixtures"]:
        plot_bpb(out / "bpb_per_set.png", summary)
    if "regression" in summary:
        plot_regression(out / "regression.png", summary["regression"])
