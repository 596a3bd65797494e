"""Token-share sampling: parse weights and budgets, plan epochs per source, and order documents by seed.

Weights are shares of *tokens* (not documents or bytes), because that is what a training run consumes.
A source too small for its share is repeated in whole epochs plus a sampled remainder; more than
``max_epochs`` (4, the cap RegMix and Olmix use before repetition starts to hurt) is an error unless the
caller allows it. Document order comes from a keyed hash of each document id, so it does not depend on
the order files were read in: same ids + seed -> same order.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np
import polars as pl

DEFAULT_MAX_EPOCHS = 4.0
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_BUDGET_RE = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([kKmMbBgGtT]?)\s*$")


class MixError(ValueError):
    """A mixture request a person can fix (bad weights, budget, too much repetition); printed as is."""


def parse_tokens(value: str | int) -> int:
    """Token budget: an int or ``'50M'``, ``'1B'``, ``'1.5B'``, ``'500k'``, ``'2e6'``."""
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        m = _BUDGET_RE.match(str(value))
        if not m:
            raise MixError(f"token budget {value!r} is not a number like 1000000, 50M, 1.5B or 2e6")
        n = float(m.group(1).replace("_", "")) * _SUFFIX[m.group(2).upper()]
        if not math.isfinite(n) or n >= 2**63:
            raise MixError(f"token budget {value!r} is too large (at most {2**63 - 1:,} tokens)")
        if n != int(n):
            raise MixError(f"token budget {value!r} is not a whole number of tokens")
        n = int(n)
    if n <= 0 or n >= 2**63:
        raise MixError(f"token budget must be positive and below 2**63 (got {value!r})")
    return n


def parse_weights(text: str) -> dict[str, float]:
    """``'web=0.5,books=0.3'`` -> ``{'web': 0.5, 'books': 0.3}``; malformed items are errors."""
    out: dict[str, float] = {}
    items = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in items):
        raise MixError(
            f"--weights {text!r}: give comma-separated source=weight pairs, e.g. web=0.5,books=0.5"
        )
    for item in items:
        name, sep, val = item.partition("=")
        name, val = name.strip(), val.strip()
        if not sep or not name or not val:
            raise MixError(f"--weights item {item!r}: expected source=weight, e.g. web=0.5")
        try:
            w = float(val)
        except ValueError:
            raise MixError(f"--weights item {item!r}: weight {val!r} is not a number") from None
        if name in out:
            raise MixError(f"--weights: source {name!r} is given twice")
        out[name] = w
    return out


def normalise_weights(weights: dict[str, float], available: list[str]) -> tuple[dict[str, float], list[str]]:
    """Check weights against the corpus's sources and scale them to sum to 1.

    Returns the normalised weights (sorted by source name) and warnings to show the user. Unknown
    sources, negative / non-finite weights and an all-zero set are errors.
    """
    if not weights:
        raise MixError("no weights given; use e.g. --weights web=0.5,books=0.5")
    unknown = sorted(set(weights) - set(available))
    if unknown:
        have = ", ".join(available) if available else "(none: the corpus folder has no sources)"
        raise MixError(f"unknown source(s) {', '.join(map(repr, unknown))}; the corpus has: {have}")
    bad = {k: v for k, v in weights.items() if not math.isfinite(v) or v < 0}
    if bad:
        desc = ", ".join(f"{k}={v}" for k, v in sorted(bad.items()))
        raise MixError(f"weights must be finite and >= 0 (got {desc})")
    total = sum(weights.values())
    if total <= 0:
        raise MixError("weights sum to 0; give at least one source a positive weight")
    warnings = []
    if abs(total - 1.0) > 1e-6:
        warnings.append(f"weights sum to {total:g}, not 1; normalised to token shares")
    return {k: weights[k] / total for k in sorted(weights)}, warnings


def split_budget(weights: dict[str, float], budget: int) -> dict[str, int]:
    """Integer token targets that sum exactly to ``budget`` (largest-remainder rounding, ties by name)."""
    raw = {k: w * budget for k, w in weights.items()}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    left = budget - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


@dataclass(frozen=True)
class SourcePlan:
    """How many tokens a source must give and how many times its pool is repeated to give them."""

    source: str
    weight: float
    target: int
    available: int  # tokens in the pool (documents + one end-of-text each); may be an estimate
    exact: bool  # False when ``available`` is an estimate (dry run with a trained tokenizer)

    @property
    def epochs(self) -> float:
        return self.target / self.available if self.available else math.inf

    @property
    def full_epochs(self) -> int:
        return self.target // self.available if self.available else 0

    @property
    def remainder(self) -> int:
        return self.target - self.full_epochs * self.available


def check_repetition(plans: list[SourcePlan], max_epochs: float, allow_repeat: bool) -> None:
    """Refuse sources that cannot give their share, or only by repeating more than ``max_epochs``."""
    for p in plans:
        if p.target > 0 and p.available == 0:
            raise MixError(f"source {p.source!r} has no kept documents left after the held-out split")
        if p.epochs > max_epochs and not allow_repeat:
            raise MixError(
                f"source {p.source!r} would be repeated {p.epochs:.2f} epochs (needs {p.target:,} tokens, "
                f"has {p.available:,}); the cap is {max_epochs:g}. Lower its weight or the budget, or "
                "pass --allow-repeat"
            )


# ------------------------------------------------------------------------------------------ seeded order


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a fast, well-mixed bijection on uint64 (wrapping arithmetic)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _salt(*parts: object) -> np.uint64:
    digest = hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def id_keys(ids: pl.Series) -> np.ndarray:
    """64-bit keys of document ids: the first 16 hex digits of corpuskit ids, a hash for other ids."""
    keys = ids.str.slice(0, 16).str.to_integer(base=16, strict=False, dtype=pl.UInt64)
    if keys.null_count():
        fallback = [
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") for s in ids
        ]
        keys = keys.fill_null(pl.Series(fallback, dtype=pl.UInt64))
    return keys.to_numpy().astype(np.uint64, copy=False)


def seeded_keys(ids: pl.Series, *salt: object) -> np.ndarray:
    """A uint64 key per id from the id itself and ``salt`` (seed, source, epoch): sort by it to shuffle."""
    with np.errstate(over="ignore"):
        return _splitmix64(id_keys(ids) ^ _salt(*salt))


def seeded_order(ids: pl.Series, *salt: object) -> np.ndarray:
    """Permutation of ``ids`` determined only by the ids themselves and ``salt`` (seed, source, epoch)."""
    keys = seeded_keys(ids, *salt)
    # ties (practically impossible) fall back to id order, so the result never depends on input order
    return np.lexsort((ids.to_numpy(), keys))
