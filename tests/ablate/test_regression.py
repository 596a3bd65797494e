"""Swarm sampling, the weights -> BPB regression and the proposal, on synthetic (weights, BPB) data."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.ablate.regression import fit, propose, sample_swarm, weight_bounds

NATURAL = {"books": 0.5, "code": 0.2, "web": 0.3}


def test_swarm_respects_min_weight_caps_and_seed() -> None:
    avail = {"books": 1_000, "code": 10_000, "web": 10_000}
    draws = sample_swarm(
        NATURAL, 40, min_weight=0.05, available_tokens=avail, budget_tokens=10_000, max_epochs=4, seed=3
    )
    W = np.array([[d[s] for s in sorted(NATURAL)] for d in draws])
    assert W.shape == (40, 3)
    assert np.allclose(W.sum(1), 1) and (W >= 0.05 - 1e-12).all()
    assert (W[:, 0] <= 0.4 + 1e-12).all()  # books: 4 epochs × 1,000 tokens / 10,000 budget
    assert draws == sample_swarm(
        NATURAL, 40, min_weight=0.05, available_tokens=avail, budget_tokens=10_000, max_epochs=4, seed=3
    )
    assert W.std(0).min() > 0.02  # a real spread, not the prior repeated


def test_impossible_caps_are_explained() -> None:
    with pytest.raises(ValueError, match="repetition cap"):
        weight_bounds(["a", "b"], {"a": 10, "b": 10}, 1000, 4, 0.0)
    with pytest.raises(ValueError, match="min_weight"):
        weight_bounds(["a", "b", "c"], None, None, None, 0.4)


def _planted(n: int, noise: float, seed: int = 0):
    sources = sorted(NATURAL)
    W = np.array([[d[s] for s in sources] for d in sample_swarm(NATURAL, n, seed=seed)])
    true = np.array([0.10, 0.35, 0.20])  # log BPB coefficients: books best, code worst
    y = np.exp(W @ true + np.random.default_rng(seed).normal(0, noise, n))
    return sources, W, y, true


def test_regression_recovers_planted_loglinear_relation() -> None:
    sources, W, y, true = _planted(60, 0.002)
    f = fit(W, y, sources, ridge=1e-8)
    assert f.coef == pytest.approx(true, abs=0.02)
    assert f.spearman > 0.95
    assert f.predict(W[:5]) == pytest.approx(y[:5], rel=0.01)


def test_spearman_is_low_when_there_is_no_relation() -> None:
    sources = sorted(NATURAL)
    W = np.array([[d[s] for s in sources] for d in sample_swarm(NATURAL, 40, seed=1)])
    y = np.exp(np.random.default_rng(5).normal(0, 0.05, 40))
    assert fit(W, y, sources).spearman < 0.5


def test_proposal_moves_towards_the_best_source_within_caps() -> None:
    sources, W, y, _ = _planted(40, 0.002)
    f = fit(W, y, sources)
    avail = {"books": 2_000, "code": 10_000, "web": 10_000}
    p = propose(
        f,
        NATURAL,
        available_tokens=avail,
        budget_tokens=10_000,
        max_epochs=2,
        min_weight=0.05,
        n_candidates=20_000,
        seed=0,
    )
    assert sum(p.weights.values()) == pytest.approx(1.0)
    assert p.weights["books"] <= 0.4 + 1e-9  # cap: 2 epochs × 2,000 / 10,000
    assert p.weights["code"] < NATURAL["code"]
    feasible = (W[:, 0] <= 0.4) & (W >= 0.05).all(1)  # swarm runs that obey the same caps
    assert p.predicted_bpb < y[feasible].min() + 0.005
    assert p.interval[0] < p.predicted_bpb < p.interval[1]


def test_linear_model_and_unknown_model() -> None:
    sources, W, y, _ = _planted(20, 0.001)
    assert fit(W, y, sources, model="linear").spearman > 0.9
    with pytest.raises(ValueError, match="unknown regression model"):
        fit(W, y, sources, model="lightgbm")
