"""LSH banding: choosing bands x rows for a Jaccard threshold, and hashing signature bands to keys.

Two documents become candidates when all ``rows`` values of at least one of ``bands`` bands agree; the
probability is ``1 - (1 - J^rows)^bands`` for Jaccard ``J`` (an S-curve). :func:`optimal_param` is
datasketch's ``_optimal_param``: the (bands, rows) minimising the weighted false-positive area below
the threshold plus the false-negative area above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.integrate import quad

from corpuskit.dedup.shingles import fmix64

#: Named parameter sets after the pipelines that published them.
PRESETS: dict[str, dict[str, int | float | str]] = {
    # FineWeb (datatrove MinhashConfig defaults): word 5-grams, 14 buckets x 8 hashes, seed 1
    "fineweb": {"ngram": 5, "unit": "word", "num_perm": 112, "bands": 14, "rows": 8, "seed": 1},
    # datasketch MinHashLSH defaults: 128 permutations, bands x rows from the threshold
    "datasketch": {"ngram": 5, "unit": "word", "num_perm": 128, "seed": 1},
}


def collision_probability(jaccard: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """Probability that two documents with this Jaccard similarity share at least one band."""
    return 1.0 - (1.0 - np.power(jaccard, rows)) ** bands


@lru_cache(maxsize=256)
def optimal_param(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising ``fp_weight * FP area + fn_weight * FN area`` (datasketch's search)."""
    best, opt = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = quad(lambda s, b=b, r=r: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold)[0]
            fn = quad(lambda s, b=b, r=r: 1 - (1 - (1 - s ** float(r)) ** float(b)), threshold, 1.0)[0]
            err = fp * fp_weight + fn * fn_weight
            if err < best:
                best, opt = err, (b, r)
    return opt


def recall_param(threshold: float, num_perm: int, target: float = 0.99) -> tuple[int, int]:
    """(bands, rows) with the most rows (fewest false candidates) that still pair documents at exactly
    ``threshold`` with probability >= ``target``; used when candidates are verified afterwards, which
    removes the extra false candidates that a recall-oriented S-curve lets through."""
    for r in range(num_perm, 0, -1):
        b = num_perm // r
        if collision_probability(threshold, b, r) >= target:
            return b, r
    return num_perm, 1


@dataclass(frozen=True)
class Banding:
    bands: int
    rows: int

    def keys(self, sig: np.ndarray, band: int) -> np.ndarray:
        """64-bit key of one band for every signature row (equal band values give equal keys)."""
        cols = sig[:, band * self.rows : (band + 1) * self.rows].astype(np.uint64)
        h = np.full(len(sig), (band + 1) * 0x9E3779B97F4A7C15 % (1 << 64), dtype=np.uint64)
        for j in range(self.rows):
            h = fmix64(h ^ cols[:, j])
        return h
