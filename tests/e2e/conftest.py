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
