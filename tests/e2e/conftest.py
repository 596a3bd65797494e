"""The demo's outputs, built once per test session for the report tests (a small generated sample)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``corpuskit demo`` wrote: corpus/, mixes/, ablation/, report/index.html."""
    from corpuskit.demo.pipeline import run_demo

    out = tmp_path_factory.mktemp("demo")
    summary = run_demo(out, tokens=12_000, seeds=2, workers=1, threads=1, scale=0.25)
    assert Path(summary["report"]) == out / "report" / "index.html"
    return out


@pytest.fixture()
def swarm_ablation(demo_outputs: Path, tmp_path: Path) -> Path:
    """The demo's ablation with a swarm regression added to its summary (the shape `fit_swarm` writes), so
    the swarm part of the report is drawn without training 16 more runs."""
    import json
    import shutil

    abl = tmp_path / "swarm-ablation"
    shutil.copytree(demo_outputs / "ablation", abl)
    summary = json.loads((abl / "summary.json").read_text())
    names = list(summary["mixtures"])
    summary["regression"] = {
        "model": "loglinear",
        "coefficients": {"books": 0.01, "forums": -0.02, "web": 0.005},
        "spearman_rho_heldout": 0.8,
        "residual_sd": 0.003,
        "runs": len(names),
        "proposal": {
            "weights": {"books": 0.2, "forums": 0.5, "web": 0.3},
            "predicted_bpb": 6.47,
            "interval_95": [6.46, 6.48],
            "candidates": 100,
        },  # fmt: skip
        "natural_weights": {"books": 0.3, "forums": 0.3, "web": 0.4},
        "points": [
            {
                "mixture": n,
                "measured": summary["mixtures"][n]["macro_bpb_mean"],
                "predicted_out_of_fold": summary["mixtures"][n]["macro_bpb_mean"] + 0.001 * i,
            }
            for i, n in enumerate(names)
        ],  # fmt: skip
    }
    (abl / "summary.json").write_text(json.dumps(summary))
    return abl
