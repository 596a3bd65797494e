"""From signatures to duplicate clusters: band buckets (polars), optional pair verification, components.

Each band is bucketed on its own, so memory holds one band's keys at a time (N x 12 bytes) plus the
candidate edges found so far. Without verification a bucket of k documents contributes k-1 star edges
to its smallest member, which yields the same connected components as all k(k-1)/2 pairs. With
verification every pair of a bucket is checked (star edges above ``max_bucket`` members), so that a
dissimilar bucket root cannot cut a true pair. Components are found by scipy's compiled
``connected_components`` over a sparse graph: no Python loop over edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from corpuskit.dedup.lsh import Banding

Verify = Literal["none", "estimate", "exact"]
_DOC_SHIFT = np.uint64(40)  # 24 bits of document, 40 bits of shingle hash per key
_LOW = np.uint64((1 << 40) - 1)
MAX_BUCKET_PAIRS = 32  # buckets larger than this give star edges even when pairs are verified


@dataclass
class ClusterStats:
    candidate_pairs: int = 0
    verified_pairs: int = 0
    representatives: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def exact_roots(text_hash: np.ndarray, n_shingles: np.ndarray, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each row's exact-duplicate root (the smallest row with its text hash; itself when empty or when
    ``exact`` is off) and the representatives (non-empty roots, sorted) that go on to LSH."""
    rows = np.arange(len(text_hash), dtype=np.int64)
    nonempty = n_shingles > 0
    root = rows
    if exact and len(rows):
        # a stable sort keeps rows ascending within a hash, so each run's first row is its smallest
        order = np.argsort(text_hash, kind="stable")
        h = text_hash[order]
        first = np.flatnonzero(np.concatenate([[True], h[1:] != h[:-1]]))
        del h
        root = np.empty_like(rows)
        root[order] = order[np.repeat(first, np.diff(np.append(first, len(order))))]
        del order
        root = np.where(nonempty, root, rows)
    return root, rows[(root == rows) & nonempty]


def _empty_edges() -> pl.DataFrame:
    return pl.DataFrame({"u": [], "v": []}, schema={"u": pl.UInt32, "v": pl.UInt32})


def bucket_edges(
    keyed: pl.LazyFrame, by: list[str], *, all_pairs: bool = False, max_bucket: int = MAX_BUCKET_PAIRS
) -> pl.LazyFrame:
    """Edges (u, v) of the buckets of ``keyed`` (columns ``by`` name the bucket, ``d`` the document):
    star edges to each bucket's smallest member, or every pair of a bucket of at most ``max_bucket``."""
    dup = keyed.with_columns(
        pl.len().over(by).alias("size"), pl.col("d").min().over(by).alias("root")
    ).filter(pl.col("size") > 1)
    star = dup.filter(pl.col("d") != pl.col("root"))
    parts = []
    if all_pairs:
        star = star.filter(pl.col("size") > max_bucket)
        small = dup.filter(pl.col("size") <= max_bucket).select(*by, "d")
        parts.append(
            small.join(small, on=by, suffix="_r")
            .filter(pl.col("d") < pl.col("d_r"))
            .select(pl.col("d").alias("u"), pl.col("d_r").alias("v"))
        )
    parts.append(star.select(pl.col("root").alias("u"), pl.col("d").alias("v")))
    return pl.concat(parts)


def candidate_pairs(
    sig: np.ndarray,
    banding: Banding,
    *,
    all_pairs: bool = False,
    max_bucket: int = MAX_BUCKET_PAIRS,
    on_band: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Unique candidate edges (u < v, UInt32 row indices of ``sig``) from documents sharing a band."""
    n = len(sig)
    idx = pl.Series("d", np.arange(n, dtype=np.uint32))
    found: list[pl.DataFrame] = []
    for band in range(banding.bands):
        df = pl.DataFrame([pl.Series("k", banding.keys(sig, band)), idx])
        found.append(bucket_edges(df.lazy(), ["k"], all_pairs=all_pairs, max_bucket=max_bucket).collect())
        if on_band:
            on_band(band)
    if not found:
        return _empty_edges()
    return pl.concat(found).unique().sort("u", "v")


def estimated_jaccard(
    sig: np.ndarray, u: np.ndarray, v: np.ndarray, chunk: int = 1 << 16, other: np.ndarray | None = None
) -> np.ndarray:
    """Fraction of equal signature values per pair (u in ``sig``, v in ``other``, default ``sig``): an
    unbiased estimate of the Jaccard similarity."""
    right = sig if other is None else other
    out = np.empty(len(u), dtype=np.float32)
    for lo in range(0, len(u), chunk):
        hi = lo + chunk
        out[lo:hi] = (sig[u[lo:hi]] == right[v[lo:hi]]).mean(axis=1)
    return out


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values by sort + compare (numpy 2's hash-based np.unique is ~10x slower here)."""
    k = np.sort(x)
    return k[np.concatenate([[True], k[1:] != k[:-1]])] if len(k) else k


def shingle_keys(d: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Sorted distinct keys (document << 40 | top 40 bits of the shingle hash) of shingle rows."""
    return sorted_unique((d.astype(np.uint64) << _DOC_SHIFT) | (h >> np.uint64(64 - _DOC_SHIFT)))


@dataclass
class ShingleKeys:
    """Each document's distinct shingles as one sorted array of keys (document << 40 | top 40 bits of
    the shingle hash; sorting groups them by document), with each document's first key and count."""

    keys: np.ndarray
    first: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, d: np.ndarray, h: np.ndarray, docs: int) -> ShingleKeys:
        """From shingle rows (document ``d`` in 0..docs-1, 64-bit hash ``h``)."""
        return cls.of_keys(shingle_keys(d, h), docs)

    @classmethod
    def of_keys(cls, keys: np.ndarray, docs: int) -> ShingleKeys:
        if docs >= 1 << (64 - int(_DOC_SHIFT)):
            raise ValueError("too many documents for one exact-Jaccard call; verify in smaller groups")
        count = np.bincount((keys >> _DOC_SHIFT).astype(np.int64), minlength=docs)
        return cls(keys, np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64), count)


def keyed_jaccard(
    left: ShingleKeys, right: ShingleKeys, u: np.ndarray, v: np.ndarray, rows_per_chunk: int = 1 << 20
) -> np.ndarray:
    """True Jaccard of shingle sets per pair (document u of ``left``, v of ``right``): every shingle of
    ``u`` is looked up among ``right``'s keys, over chunks of pairs, so memory stays bounded by
    ``rows_per_chunk`` lookups."""
    nu, nv = left.count[u], right.count[v]
    inter = np.zeros(len(u), dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(nu)[:-1]])
    chunk_of = before // rows_per_chunk
    bounds = np.flatnonzero(np.diff(chunk_of)) + 1
    keys = right.keys
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(u)], strict=True):
        cu, cv, cn = u[lo:hi], v[lo:hi], nu[lo:hi]
        rows = np.repeat(np.arange(hi - lo), cn)
        offs = np.concatenate([[0], np.cumsum(cn)[:-1]])
        idx = left.first[cu][rows] + (np.arange(len(rows)) - offs[rows])
        q = (cv[rows].astype(np.uint64) << _DOC_SHIFT) | (left.keys[idx] & _LOW)
        pos = np.minimum(np.searchsorted(keys, q), max(len(keys) - 1, 0))
        hit = keys[pos] == q if len(keys) else np.zeros(len(q), dtype=bool)
        inter[lo:hi] = np.bincount(rows, weights=hit, minlength=hi - lo).astype(np.int64)
    return inter / np.maximum(nu + nv - inter, 1)


def exact_jaccard(
    shingles: pl.DataFrame, u: np.ndarray, v: np.ndarray, rows_per_chunk: int = 1 << 20
) -> np.ndarray:
    """True Jaccard of shingle sets per pair; ``shingles`` has columns d (document, 0..m-1) and h (hash)."""
    d = shingles["d"].to_numpy()
    m = int(max(int(d.max()) if len(d) else -1, u.max(initial=-1), v.max(initial=-1))) + 1
    keys = ShingleKeys.of(d, shingles["h"].to_numpy(), m)
    return keyed_jaccard(keys, keys, u, v, rows_per_chunk)


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Component label per node: the smallest node index in its component (deterministic)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n, dtype=np.int64))
    return first[labels]
