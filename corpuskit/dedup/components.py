"""Near-duplicate edges verified per edge partition, then connected components over them.

**Verify unit** (one per edge partition): the partition's unique candidate edges (every copy of an edge
is in one partition, so uniqueness is global), checked by estimated or exact Jaccard with the features
(signatures, or 8-byte shingle keys) the features units wrote for the documents of candidate edges
(:mod:`corpuskit.dedup.features`), gathered by row from memory-mapped stores: a verify unit never reads
texts. A partition is verified in ranges of ``u`` so that one range's edge rows take at most
``partition_mb`` (whatever the number of candidate pairs); the ``u`` side's features are gathered once
per range, the ``v`` side's in chunks of at most ``partition_mb / 4``. Memory: ``partition_mb`` for the
edges plus the range's ``u`` documents' features (at most the partition's, which ``partition_mb``
sizes) plus ``partition_mb / 4``.

**Components**: the verified edges of all partitions (documents that have a near duplicate, never all N)
are labelled with scipy's compiled connected components on compacted node numbers; each row's cluster is
then the label of its exact-duplicate root. This equals one ``components`` call over exact + near edges:
a representative is the smallest row of its exact group, so the smallest row of a cluster is its
smallest representative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.dedup.bands import partition_dir
from corpuskit.dedup.clusters import components, sorted_unique
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.features import FeatureStores
from corpuskit.store.atomic import atomic_write_parquet

_EDGES = {"u": pl.Int64, "v": pl.Int64}
EDGE_ROW_PEAK = 64  # bytes per edge row while a range is de-duplicated, sorted and verified


def verify_pairs(pu: np.ndarray, pv: np.ndarray, stores: FeatureStores, cfg: DedupConfig) -> np.ndarray:
    """Which candidate pairs (representative numbers) reach the threshold. The ``u`` side's features are
    gathered once; the ``v`` side's in chunks of at most ``partition_mb / 4``, in ``v`` order."""
    us = sorted_unique(pu)
    left = stores.features(us)
    lu = np.searchsorted(us, pu)
    order = np.argsort(pv, kind="stable")
    sorted_v = pv[order]
    vs = sorted_unique(pv)
    chunk = np.cumsum(stores.sizes(vs)) // max(cfg.partition_mb * 2**18, 1)
    bounds = np.flatnonzero(np.diff(chunk)) + 1
    ok = np.zeros(len(pu), dtype=bool)
    for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), len(vs)], strict=True):
        if b == a:
            continue
        lo, hi = np.searchsorted(sorted_v, vs[a]), np.searchsorted(sorted_v, vs[b - 1], side="right")
        idx = order[lo:hi]
        right = stores.features(vs[a:b])
        ok[idx] = left.similarity(right, lu[idx], np.searchsorted(vs[a:b], pv[idx])) >= cfg.threshold
    return ok


def edge_ranges(rows: int, representatives: int, budget_bytes: int) -> list[tuple[int, int]]:
    """Ranges of ``u`` that split an edge partition of ``rows`` edge rows (copies included) so that
    one range's edges, de-duplicated and sorted (~64 bytes per row at the peak), fit ``budget_bytes``."""
    pieces = max(1, -(-rows * EDGE_ROW_PEAK // max(budget_bytes, 1)))
    cuts = np.linspace(0, representatives, pieces + 1).round().astype(np.int64).tolist()
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


def verify_unit(work: str, q: int, reps_path: str, starts: np.ndarray, cfg_json: str) -> tuple[int, int]:
    """Unit of work: verify edge partition ``q`` in ``u`` ranges of bounded size; writes the accepted
    edges (global rows, sorted) to ``work/near/p{q}/edges.parquet``; returns (candidate pairs, accepted)."""
    cfg = DedupConfig.model_validate_json(cfg_json)
    src = partition_dir(work, "edges", q)
    out = partition_dir(work, "near", q) / "edges.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    reps = np.load(reps_path, mmap_mode="r")
    stores = FeatureStores(work, starts, cfg)
    candidates, accepted = 0, [pl.DataFrame(schema=_EDGES)]
    if src.is_dir() and any(src.glob("*.parquet")):
        scan = pl.scan_parquet(src / "*.parquet")
        rows = scan.select(pl.len()).collect().item()
        for a, b in edge_ranges(rows, len(reps), cfg.partition_mb * 2**20):
            e = scan.filter(pl.col("u").is_between(a, b, closed="left")).unique().sort("u", "v").collect()
            pu, pv = e["u"].to_numpy().astype(np.int64), e["v"].to_numpy().astype(np.int64)
            del e
            candidates += len(pu)
            if cfg.verify != "none" and len(pu):
                ok = verify_pairs(pu, pv, stores, cfg)
                pu, pv = pu[ok], pv[ok]
            accepted.append(
                pl.DataFrame({"u": np.asarray(reps[pu]), "v": np.asarray(reps[pv])}, schema=_EDGES)
            )
    edges = pl.concat(accepted)
    atomic_write_parquet(out, edges)
    return candidates, edges.height


def read_near_edges(work: str | Path, partitions: int) -> tuple[np.ndarray, np.ndarray]:
    """The accepted near edges (global rows) of every partition."""
    paths = [partition_dir(work, "near", q) / "edges.parquet" for q in range(partitions)]
    e = pl.concat([pl.read_parquet(p) for p in paths]) if paths else pl.DataFrame(schema=_EDGES)
    return e["u"].to_numpy(), e["v"].to_numpy()


def cluster_labels(n: int, exact_root: np.ndarray, near_u: np.ndarray, near_v: np.ndarray) -> np.ndarray:
    """Cluster label per row (its cluster's smallest row) from exact roots and near edges between
    representatives; only the documents with a near edge enter the graph."""
    near = np.arange(n, dtype=np.int64)
    if len(near_u):
        nodes = sorted_unique(np.concatenate([near_u, near_v]))
        lab = components(len(nodes), np.searchsorted(nodes, near_u), np.searchsorted(nodes, near_v))
        near[nodes] = nodes[lab]
    return near[exact_root]
