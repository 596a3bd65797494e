"""Choosing weights from a swarm of small runs (RegMix / Olmix style).

1. :func:`sample_swarm` draws N mixtures from a :class:`WeightSpace`: a Dirichlet centred on the natural token
   distribution, with a minimum weight per source and an upper bound per source from the repetition cap
   (``weight × budget ≤ max_epochs × available tokens``).
2. :func:`fit` regresses macro BPB on the weights. The default *log-linear* model,
   ``log BPB = Σ_j b_j w_j`` (the weights sum to one, so this already contains an intercept), is the
   first-order form of the data mixing law ``L = c + k·exp(t·w)``; ``linear`` fits BPB itself.
   Fit quality is the Spearman ρ between measured BPB and out-of-fold predictions (leave-one-out for small
   swarms, K-fold otherwise), so it measures how well *held-out* runs are ranked.
3. :func:`propose` predicts BPB for many fresh candidates from the same space that obey the caps and
   averages the best ``top_k`` (RegMix), which stays inside the region the regression has seen instead of
   extrapolating to a corner of the simplex. The interval combines the out-of-fold residual spread with a
   bootstrap over swarm runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats as sps

MODELS = ("loglinear", "linear")


def weight_bounds(
    sources: Sequence[str],
    available_tokens: dict[str, int] | None,
    budget_tokens: int | None,
    max_epochs: float | None,
    min_weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) weight per source; the upper bound is the repetition cap when tokens are known."""
    k = len(sources)
    if min_weight * k > 1:
        raise ValueError(f"min_weight={min_weight} × {k} sources exceeds 1; lower swarm.min_weight")
    lo = np.full(k, float(min_weight))
    hi = np.ones(k)
    if available_tokens and budget_tokens and max_epochs:
        hi = np.array([min(1.0, max_epochs * available_tokens[s] / budget_tokens) for s in sources])
    if hi.sum() < 1 - 1e-12:
        raise ValueError(
            f"the repetition cap ({max_epochs} epochs) cannot cover a {budget_tokens:,}-token budget with "
            "the available tokens; raise max_epochs, lower the token budget or add data"
        )
    if (hi < lo).any():
        bad = [s for s, a, b in zip(sources, lo, hi, strict=True) if b < a]
        raise ValueError(f"sources {bad} have fewer tokens than min_weight needs under the repetition cap")
    return lo, hi


def _dirichlet(
    rng: np.random.Generator, prior: np.ndarray, concentration: float, lo: np.ndarray, n: int
) -> np.ndarray:
    alpha = np.maximum(prior * concentration * len(prior), 1e-3)
    d = rng.dirichlet(alpha, size=n)
    return lo + (1.0 - lo.sum()) * d  # every weight ≥ its minimum, rows still sum to one


@dataclass(frozen=True)
class WeightSpace:
    """Where mixtures are drawn from, by the swarm and by the proposal alike: Dirichlet(concentration × K ×
    natural), shifted onto [min_weight, repetition cap] per source (the cap needs all three token figures).

    ``concentration`` 1 gives a spread comparable to a flat Dirichlet; larger values stay closer to the
    natural distribution."""

    natural: dict[str, float]
    concentration: float = 1.0
    min_weight: float = 0.0
    available_tokens: dict[str, int] | None = None
    budget_tokens: int | None = None
    max_epochs: float | None = None

    def sampler(self, sources: Sequence[str], seed: int) -> Callable[[int], np.ndarray]:
        """``draw(n)``: ``n`` candidates over ``sources`` (columns in that order), those breaking a cap
        removed; one seeded stream, so a sequence of draws is deterministic."""
        prior = np.array([self.natural[s] for s in sources], dtype=np.float64)
        prior = prior / prior.sum()
        lo, hi = weight_bounds(
            sources, self.available_tokens, self.budget_tokens, self.max_epochs, self.min_weight
        )
        rng = np.random.default_rng(seed)

        def draw(n: int) -> np.ndarray:
            cand = _dirichlet(rng, prior, self.concentration, lo, n)
            return cand[(cand <= hi + 1e-12).all(axis=1)]

        return draw


def weight_space(space: WeightSpace | dict[str, float], caps: dict[str, Any]) -> WeightSpace:
    """``space``, or the natural weights, with ``caps`` (fields of :class:`WeightSpace`) set over it."""
    return replace(space, **caps) if isinstance(space, WeightSpace) else WeightSpace(dict(space), **caps)


def sample_swarm(
    space: WeightSpace | dict[str, float], n: int, *, seed: int = 0, **caps: Any
) -> list[dict[str, float]]:
    """``n`` weight dicts from ``space`` (or from the natural weights, the caps given as keywords).

    Samples breaking a cap are redrawn (rejection), so the result is deterministic."""
    space = weight_space(space, caps)
    sources = sorted(space.natural)
    draw = space.sampler(sources, seed)
    out: list[np.ndarray] = []
    for _ in range(1000):
        out.extend(draw(max(64, 4 * n))[: n - len(out)])
        if len(out) >= n:
            break
    if len(out) < n:
        raise ValueError(
            "could not sample mixtures within the repetition cap; raise max_epochs or concentration"
        )
    return [{s: float(w) for s, w in zip(sources, row, strict=True)} for row in out]


@dataclass
class Fit:
    model: str
    sources: list[str]
    coef: np.ndarray
    spearman: float  # ρ between measured and out-of-fold predicted BPB
    oof_pred: np.ndarray
    measured: np.ndarray
    resid_sd: float  # out-of-fold residual std, in the model's target space
    boot_coefs: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))

    def predict(self, w: np.ndarray) -> np.ndarray:
        return _inverse(self.model, np.atleast_2d(w) @ self.coef)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "coefficients": dict(zip(self.sources, self.coef.tolist(), strict=True)),
            "spearman_rho_heldout": self.spearman,
            "residual_sd": self.resid_sd,
            "runs": int(self.measured.size),
        }


def _target(model: str, y: np.ndarray) -> np.ndarray:
    return np.log(y) if model == "loglinear" else y


def _inverse(model: str, z: np.ndarray) -> np.ndarray:
    return np.exp(z) if model == "loglinear" else z


def _solve(W: np.ndarray, z: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge towards the mean target (an equal-coefficient model), so tiny swarms stay well-posed."""
    k = W.shape[1]
    base = np.full(k, z.mean())
    A = W.T @ W + ridge * np.eye(k)
    return base + np.linalg.solve(A, W.T @ (z - W @ base))


def fit(
    weights: np.ndarray,
    bpb: np.ndarray,
    sources: Sequence[str],
    *,
    model: str = "loglinear",
    ridge: float = 1e-4,
    folds: int = 10,
    n_boot: int = 500,
    seed: int = 0,
) -> Fit:
    """Fit BPB ~ weights; held-out quality by K-fold (leave-one-out when runs ≤ ``folds``)."""
    if model not in MODELS:
        raise ValueError(f"unknown regression model {model!r}; use one of: {', '.join(MODELS)}")
    W = np.asarray(weights, dtype=np.float64)
    y = np.asarray(bpb, dtype=np.float64)
    n = y.size
    if n < 3:
        raise ValueError(f"a regression over weights needs at least 3 swarm runs, got {n}")
    z = _target(model, y)
    coef = _solve(W, z, ridge)
    rng = np.random.default_rng(seed)
    fold_of = np.arange(n) % min(folds, n)
    rng.shuffle(fold_of)
    oof = np.zeros(n)
    for f in np.unique(fold_of):
        test = fold_of == f
        c = _solve(W[~test], z[~test], ridge)
        oof[test] = W[test] @ c
    rho = float(sps.spearmanr(y, _inverse(model, oof)).statistic) if np.ptp(y) > 0 else float("nan")
    resid_sd = float(np.std(z - oof, ddof=1))
    boots = np.stack([_solve(W[i], z[i], ridge) for i in rng.integers(0, n, size=(n_boot, n))])
    return Fit(model, list(sources), coef, rho, _inverse(model, oof), y, resid_sd, boots)


@dataclass(frozen=True)
class Proposal:
    weights: dict[str, float]
    predicted_bpb: float
    interval: tuple[float, float]  # 95% prediction interval
    candidates: int

    def to_dict(self) -> dict:
        return {
            "weights": self.weights,
            "predicted_bpb": self.predicted_bpb,
            "interval_95": list(self.interval),
            "candidates": self.candidates,
        }


def propose(
    result: Fit,
    space: WeightSpace | dict[str, float],
    *,
    n_candidates: int = 100_000,
    top_k: int = 100,
    seed: int = 0,
    **caps: Any,
) -> Proposal:
    """Best mixture in ``space`` (the swarm's): mean of the ``top_k`` predicted-best feasible candidates."""
    sources = result.sources
    cand = weight_space(space, caps).sampler(sources, seed)(n_candidates)
    if not cand.size:
        raise ValueError("no candidate mixture satisfies the repetition cap")
    pred = result.predict(cand)
    best = cand[np.argsort(pred, kind="stable")[: min(top_k, len(cand))]]
    w = best.mean(axis=0)  # a mean of feasible points is feasible (the region is convex)
    z_point = float(w @ result.coef)
    z_boot = result.boot_coefs @ w if result.boot_coefs.size else np.array([z_point])
    sd = float(np.sqrt(np.var(z_boot) + result.resid_sd**2))
    half = 1.959963984540054 * sd
    lo_i, hi_i = _inverse(result.model, np.array([z_point - half, z_point + half]))
    if result.model == "linear":
        lo_i, hi_i = min(lo_i, hi_i), max(lo_i, hi_i)
    return Proposal(
        {s: float(x) for s, x in zip(sources, w, strict=True)},
        float(_inverse(result.model, np.array(z_point))),
        (float(lo_i), float(hi_i)),
        int(len(cand)),
    )
