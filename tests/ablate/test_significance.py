"""Statistics against known values: Welch, Holm, bootstrap, ties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from corpuskit.ablate.significance import (
    compare_to_baseline,
    holm,
    mean_std,
    paired_bootstrap,
    seeds_for,
    sign_probability,
    verdict,
    welch,
)


def test_mean_std_uses_sample_std() -> None:
    m = mean_std([1.0, 2.0, 3.0])
    assert (m.mean, m.std, m.n) == (2.0, 1.0, 3)
    assert math.isnan(mean_std([5.0]).std)


def test_welch_matches_textbook_and_scipy() -> None:
    a, b = [19.1, 20.3, 21.0, 18.7, 20.5], [22.0, 23.1, 21.7, 24.4]
    w = welch(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert w.t == pytest.approx(ref.statistic) and w.p == pytest.approx(ref.pvalue)
    # Welch–Satterthwaite df by hand
    va, vb = np.var(a, ddof=1) / 5, np.var(b, ddof=1) / 4
    assert w.df == pytest.approx((va + vb) ** 2 / (va**2 / 4 + vb**2 / 3))
    assert w.ci_low < w.diff < w.ci_high < 0
    half = sps.t.ppf(0.975, w.df) * math.sqrt(va + vb)
    assert w.ci_high - w.ci_low == pytest.approx(2 * half)


def test_welch_needs_two_per_group() -> None:
    assert math.isnan(welch([1.0], [1.0, 2.0]).p)


def test_holm_hand_example() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 -> ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    out = holm([float("nan"), 0.01])
    assert math.isnan(out[0]) and out[1] == pytest.approx(0.01)


def test_paired_bootstrap_sees_a_consistent_shift() -> None:
    rng = np.random.default_rng(0)
    nbytes = [rng.integers(500, 2000, 80)]
    base = [nbytes[0] * math.log(2) * rng.uniform(0.9, 1.1, 80)]
    better = [base[0] - nbytes[0] * math.log(2) * 0.05]  # exactly 0.05 BPB lower on every document
    bs = paired_bootstrap(better, base, nbytes, n_boot=500)
    assert bs.diff == pytest.approx(-0.05)
    assert bs.ci_high < 0 and bs.p < 0.01
    same = paired_bootstrap(base, base, nbytes, n_boot=200)
    assert same.diff == 0 and same.ci_low <= 0 <= same.ci_high


def test_ties_when_within_noise() -> None:
    assert verdict(-0.02, 0.30, (-0.05, -0.01)) == "tie"  # seeds say noise
    assert verdict(-0.02, 0.01, (-0.05, 0.01)) == "tie"  # docs say noise
    assert verdict(-0.02, 0.01, (-0.05, -0.01)) == "better"
    assert verdict(+0.02, 0.01, (0.01, 0.05)) == "worse"
    assert verdict(-0.02, float("nan"), (-0.05, -0.01)).startswith("better (1 seed")


def test_compare_to_baseline_end_to_end_with_holm() -> None:
    rng = np.random.default_rng(1)
    nb = [np.full(50, 1000)]
    docs = lambda shift: ([nb[0] * math.log(2) * (1.0 + shift + rng.normal(0, 0.01, 50))], nb)  # noqa: E731
    macro = {
        "base": [1.000, 1.004, 0.996, 1.002],
        "clear": [0.900, 0.903, 0.898, 0.901],  # 0.1 BPB better: far outside seed noise
        "noise": [0.999, 1.006, 0.994, 1.001],
    }
    out = compare_to_baseline(
        macro, {"base": docs(0), "clear": docs(-0.1), "noise": docs(0)}, "base", n_boot=300
    )
    by = {c.mixture: c for c in out}
    assert by["clear"].verdict == "better" and by["clear"].p_holm <= 2 * by["clear"].p_welch + 1e-12
    assert by["noise"].verdict == "tie"
    assert by["noise"].p_holm >= by["noise"].p_welch


@pytest.mark.parametrize(("delta", "sigma", "n"), [(0.01, 0.02, 2), (0.005, 0.01, 3), (0.03, 0.02, 5)])
def test_sign_probability_matches_monte_carlo(delta: float, sigma: float, n: int) -> None:
    rng = np.random.default_rng(0)
    reps = 200_000
    a = rng.normal(delta, sigma, size=(reps, n)).mean(1)  # mixture, true Δ = delta
    b = rng.normal(0.0, sigma, size=(reps, n)).mean(1)  # baseline
    simulated = float(((a - b) > 0).mean())  # share of repeated comparisons with the right sign
    assert sign_probability(delta, sigma, n, n) == pytest.approx(simulated, abs=0.005)
    assert sign_probability(-delta, sigma, n, n) == sign_probability(delta, sigma, n, n)


def test_seeds_for_95_is_the_smallest_count_that_reaches_it() -> None:
    rng = np.random.default_rng(1)
    delta, sigma = 0.01, 0.02
    n = seeds_for(delta, sigma)
    assert n is not None and sign_probability(delta, sigma, n, n) >= 0.95 > sign_probability(
        delta, sigma, n - 1, n - 1
    )
    a = rng.normal(delta, sigma, size=(100_000, n)).mean(1) - rng.normal(0, sigma, size=(100_000, n)).mean(1)
    assert (a > 0).mean() == pytest.approx(0.95, abs=0.01)
    assert seeds_for(0.0, 0.02) is None and seeds_for(0.01, float("nan")) is None
    assert sign_probability(0.01, float("nan"), 1, 1) is None and sign_probability(0.0, 0.01, 3, 3) == 0.5


def test_comparisons_carry_the_trust_figures() -> None:
    docs = ([np.array([1.0, 2.0, 3.0])], [np.array([10, 10, 10])])
    worse = ([np.array([1.2, 2.2, 3.2])], [np.array([10, 10, 10])])
    (c,) = compare_to_baseline(
        {"base": [1.0, 1.02, 0.98], "x": [1.05, 1.07, 1.03]}, {"base": docs, "x": worse}, "base"
    )
    assert c.p_sign == pytest.approx(sign_probability(0.05, 0.02, 3, 3))
    assert c.seeds_for_95 == seeds_for(0.05, 0.02) and "p_sign" in c.to_dict()
