"""The pairwise decision accuracy that benchmarks/decision_accuracy.py reports counts agreeing pairs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "decision_accuracy", ROOT / "benchmarks" / "decision_accuracy.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_agreement_counts_pairs_ordered_alike(bench) -> None:
    small = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    assert bench.agreement(small, {"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0}) == 1.0
    assert bench.agreement(small, {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}) == 0.0
    # swapping c and d flips one pair of six
    assert bench.agreement(small, {"a": 1.0, "b": 2.0, "c": 4.0, "d": 3.0}) == pytest.approx(5 / 6)
    # a mixture missing on one side (a diverged run) is left out, not counted as disagreement
    assert bench.agreement(small, {"a": 1.0, "b": 2.0, "c": 3.0}) == 1.0


def test_means_skip_diverged_runs(bench) -> None:
    bpb = {("a", 0): 1.0, ("a", 1): 3.0, ("b", 0): None, ("b", 1): 2.0, ("c", 0): None}
    assert bench.means(bpb, ["a", "b", "c"]) == {"a": 2.0, "b": 2.0}
