"""Statistics that decide whether a mixture really beat the baseline, or only drew a luckier seed.

Two sources of noise are treated separately (DataDecide's lesson: seed noise at proxy scale is often as
large as the effect being measured):

* **seed noise** — the same mixture trained with different seeds (init + data order). Per mixture we
  report mean ± std over seeds, and compare to the baseline with Welch's t-test (unequal variances),
  Holm-corrected across all mixtures compared, plus the Welch 95% interval of the difference;
* **eval-sample noise** — the held-out documents are a sample. A paired bootstrap over documents (same
  documents scored by both models, per-document nats averaged over seeds) gives a 95% interval.

A difference is a *tie* unless both say it is real: Holm-adjusted p < alpha and a bootstrap interval that
excludes zero. With a single seed, only the bootstrap decides and the verdict says seed noise is unknown.

Beside the verdict, :func:`sign_probability` says how much to trust the *ranking*: the chance that a
repeat of the comparison with the same seeds puts the two mixtures in the same order, given seed σ and the
observed Δ, and :func:`seeds_for` how many seeds per mixture would make that ≥ 95%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps

LN2 = math.log(2.0)


@dataclass(frozen=True)
class MeanStd:
    mean: float
    std: float  # sample std (ddof=1); nan with one seed
    n: int


def mean_std(values: Sequence[float]) -> MeanStd:
    a = np.asarray(values, dtype=np.float64)
    return MeanStd(float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else float("nan"), int(a.size))


@dataclass(frozen=True)
class Welch:
    diff: float  # mean(a) - mean(b)
    ci_low: float
    ci_high: float
    t: float
    df: float
    p: float


def welch(a: Sequence[float], b: Sequence[float], alpha: float = 0.05) -> Welch:
    """Welch's t-test of mean(a) - mean(b) with its (1 - alpha) Welch–Satterthwaite interval."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        nan = float("nan")
        return Welch(diff, nan, nan, nan, nan, nan)
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(vx + vy)
    if se == 0.0:
        p = 1.0 if diff == 0.0 else 0.0
        return Welch(diff, diff, diff, math.copysign(math.inf, diff) if diff else 0.0, math.inf, p)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    t = diff / se
    p = float(2 * sps.t.sf(abs(t), df))
    half = float(sps.t.ppf(1 - alpha / 2, df) * se)
    return Welch(diff, diff - half, diff + half, float(t), float(df), p)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1); NaN stays NaN."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.size, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


@dataclass(frozen=True)
class Bootstrap:
    diff: float
    ci_low: float
    ci_high: float
    p: float  # two-sided: 2 × share of resamples on the other side of zero


def paired_bootstrap(
    nats_a: Sequence[np.ndarray],
    nats_b: Sequence[np.ndarray],
    nbytes: Sequence[np.ndarray],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> Bootstrap:
    """Bootstrap of macro BPB(a) - macro BPB(b) over documents, resampled within each eval set.

    Each argument is a list with one array per eval set (per-document nats, the same documents for a
    and b, typically averaged over seeds; and per-document UTF-8 bytes).
    """
    rng = np.random.default_rng(seed)
    k = len(nbytes)
    point = np.mean(
        [(a.sum() - b.sum()) / (n.sum() * LN2) for a, b, n in zip(nats_a, nats_b, nbytes, strict=True)]
    )
    boots = np.zeros(n_boot)
    for a, b, n in zip(nats_a, nats_b, nbytes, strict=True):
        d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
        nb = np.asarray(n, dtype=np.float64)
        idx = rng.integers(0, d.size, size=(n_boot, d.size))
        boots += d[idx].sum(1) / (nb[idx].sum(1) * LN2) / k
    lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
    p = float(min(1.0, 2 * min((boots <= 0).mean(), (boots >= 0).mean())))
    return Bootstrap(float(point), float(lo), float(hi), p)


@dataclass(frozen=True)
class Comparison:
    mixture: str
    diff: float  # macro BPB(mixture) - macro BPB(baseline); negative = better
    welch_ci: tuple[float, float]
    p_welch: float
    p_holm: float
    boot_ci: tuple[float, float]
    p_boot: float
    verdict: str  # "better" | "worse" | "tie" (+ note when seed noise is unknown)
    p_sign: float | None = None  # estimated probability that the sign of diff is right (seed noise)
    seeds_for_95: int | None = None  # seeds per mixture that would make p_sign ≥ 95% at this Δ and σ

    def to_dict(self) -> dict:
        return asdict(self)


def sign_probability(diff: float, sigma: float, n_a: int, n_b: int) -> float | None:
    """P(the observed sign of Δ is the true one): Φ(|Δ| / (σ·sqrt(1/n_a + 1/n_b))).

    With true difference Δ and per-run seed noise σ, a mean over ``n_a`` and ``n_b`` seeds differs by
    Δ ± σ·sqrt(1/n_a + 1/n_b) (normal), so this is the share of repeated comparisons that rank the two
    mixtures the right way round. Here the observed Δ and σ are plugged in, so it is an estimate; with few
    seeds σ is itself noisy. None when σ is unknown (one seed); 0.5 for Δ = 0; 1 when σ = 0 and Δ ≠ 0.
    """
    if not (math.isfinite(diff) and math.isfinite(sigma)) or n_a < 1 or n_b < 1:
        return None
    if sigma == 0.0:
        return 0.5 if diff == 0.0 else 1.0
    return float(sps.norm.cdf(abs(diff) / (sigma * math.sqrt(1 / n_a + 1 / n_b))))


def seeds_for(diff: float, sigma: float, target: float = 0.95, cap: int = 10_000) -> int | None:
    """Smallest n with :func:`sign_probability` (n seeds each side) ≥ ``target``; None beyond ``cap``
    (including Δ = 0, which no number of seeds can order) or when σ is unknown."""
    if not (math.isfinite(diff) and math.isfinite(sigma)):
        return None
    if sigma == 0.0:
        return 1 if diff != 0.0 else None
    if diff == 0.0:
        return None
    z = float(sps.norm.ppf(target))
    n = max(1, math.ceil(2 * (z * sigma / abs(diff)) ** 2 - 1e-9))
    while n > 1 and sign_probability(diff, sigma, n - 1, n - 1) >= target:  # guard against rounding
        n -= 1
    return n if n <= cap else None


def pooled_sigma(a: Sequence[float], b: Sequence[float]) -> float:
    """Seed σ pooled over two mixtures (each with ≥ 2 seeds contributes), NaN when neither has 2."""
    parts = [np.asarray(x, dtype=np.float64) for x in (a, b) if len(x) > 1]
    if not parts:
        return float("nan")
    ss = sum(float(((x - x.mean()) ** 2).sum()) for x in parts)
    return math.sqrt(ss / sum(x.size - 1 for x in parts))


def verdict(diff: float, p_holm: float, boot_ci: tuple[float, float], alpha: float = 0.05) -> str:
    """better/worse only when seed noise (Holm p) and eval-sample noise (bootstrap CI) both agree."""
    boot_clear = boot_ci[0] > 0 or boot_ci[1] < 0
    direction = "better" if diff < 0 else "worse"
    if math.isnan(p_holm):
        return f"{direction} (1 seed: seed noise unknown)" if boot_clear else "tie"
    return direction if (p_holm < alpha and boot_clear) else "tie"


def compare_to_baseline(
    macro_by_mixture: dict[str, Sequence[float]],
    docs_by_mixture: dict[str, tuple[list[np.ndarray], list[np.ndarray]]],
    baseline: str,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[Comparison]:
    """Compare every mixture with ``baseline``.

    ``macro_by_mixture``: macro BPB per seed; ``docs_by_mixture``: (per-set per-document nats averaged over
    seeds, per-set per-document bytes) — the same documents in the same order for every mixture.
    """
    others = [m for m in macro_by_mixture if m != baseline]
    tests = [welch(macro_by_mixture[m], macro_by_mixture[baseline], alpha) for m in others]
    adjusted = holm([t.p for t in tests])
    base_nats, base_bytes = docs_by_mixture[baseline]
    out = []
    for m, t, ph in zip(others, tests, adjusted, strict=True):
        nats, _ = docs_by_mixture[m]
        bs = paired_bootstrap(nats, base_nats, base_bytes, n_boot=n_boot, seed=seed, alpha=alpha)
        ci = (bs.ci_low, bs.ci_high)
        a, b = macro_by_mixture[m], macro_by_mixture[baseline]
        sigma = pooled_sigma(a, b)
        out.append(
            Comparison(
                m, t.diff, (t.ci_low, t.ci_high), t.p, ph, ci, bs.p, verdict(t.diff, ph, ci, alpha),
                sign_probability(t.diff, sigma, len(a), len(b)), seeds_for(t.diff, sigma),
            )
        )  # fmt: skip
    return out
