"""Near-duplicate edges verified per edge partition, then connected components over them.

**Verify unit** (one per edge partition): the partition's unique candidate edges (every copy of an edge
is in one partition, so uniqueness is global), checked by estimated or exact Jaccard with only the
signatures or texts of the documents they involve, read from the files that hold them. A partition is
verified in ranges of ``u`` so that one range's edge rows take at most ``partition_mb`` (whatever the
number of candidate pairs); the ``u`` side's features (signatures, or 8-byte shingle keys) are loaded
once per range, the ``v`` side one file at a time. Memory: ``partition_mb`` for the edges plus the
range's ``u`` documents' features (at most the partition's, which ``partition_mb`` sizes) and one
file's documents.

**Components**: the verified edges of all partitions (documents that have a near duplicate, never all N)
are labelled with scipy's compiled connected components on compacted node numbers; each row's cluster is
then the label of its exact-duplicate root. This equals one ``components`` call over exact + near edges:
a representative is the smallest row of its exact group, so the smallest row of a cluster is its
smallest representative.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.dedup.bands import partition_dir
from corpuskit.dedup.clusters import (
    ShingleKeys,
    components,
    estimated_jaccard,
    keyed_jaccard,
    shingle_keys,
    sorted_unique,
)
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.loading import SignatureFile, rows_by_file
from corpuskit.store.atomic import atomic_write_parquet

_EDGES = {"u": pl.Int64, "v": pl.Int64}
EDGE_ROW_PEAK = 64  # bytes per edge row while a range is de-duplicated, sorted and verified


def gather_signatures(rows: np.ndarray, files: Sequence[SignatureFile], num_perm: int) -> np.ndarray:
    """Signatures of sorted global ``rows``, reading one file at a time."""
    out = np.empty((len(rows), num_perm), dtype=np.uint32)
    for f, pos, lo in rows_by_file(rows, files):
        out[lo : lo + len(pos)] = pl.read_parquet(f.signatures, columns=["minhash"])["minhash"].to_numpy()[
            pos
        ]
    return out


class _Features:
    """What a similarity is computed from, for sorted global rows numbered 0..k-1 in that order:
    signatures (``estimate``) or sorted shingle keys (``exact``), built one file at a time so that only
    one file's texts and shingle rows are in memory next to the keys (8 bytes per distinct shingle)."""

    def __init__(self, rows: np.ndarray, files: Sequence[SignatureFile], cfg: DedupConfig):
        from corpuskit.dedup.pipeline import shingle_table  # the one shingle table, shared with cluster_rows

        self.exact = cfg.verify == "exact"
        if not self.exact:
            self.sig = gather_signatures(rows, files, cfg.num_perm)
            return
        parts = [np.zeros(0, dtype=np.uint64)]
        for f, pos, lo in rows_by_file(rows, files):
            tab = shingle_table(
                pl.read_parquet(f.documents, columns=["text"])["text"].gather(pos), cfg.hasher().spec
            )
            parts.append(
                shingle_keys(tab["d"].to_numpy().astype(np.uint64) + np.uint64(lo), tab["h"].to_numpy())
            )
        self.keys = ShingleKeys.of_keys(np.concatenate(parts), len(rows))

    def similarity(self, other: _Features, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Similarity of pairs (u of these rows, v of ``other``'s)."""
        if self.exact:
            return keyed_jaccard(self.keys, other.keys, u, v)
        return estimated_jaccard(self.sig, u, v, other=other.sig)


def verify_pairs(
    pu: np.ndarray, pv: np.ndarray, reps: np.ndarray, files: Sequence[SignatureFile], cfg: DedupConfig
) -> np.ndarray:
    """Which candidate pairs (representative numbers) reach the threshold. The ``u`` side is loaded once;
    the ``v`` side streams one signature file at a time, so memory holds the pairs' ``u`` documents plus
    one file's worth of the others."""
    us = sorted_unique(pu)
    left = _Features(np.asarray(reps[us]), files, cfg)
    lu = np.searchsorted(us, pu)
    v_rows = np.asarray(reps[pv])
    starts = np.array([f.offset for f in files], dtype=np.int64)
    which = np.searchsorted(starts, v_rows, side="right") - 1
    order = np.argsort(which, kind="stable")
    bounds = np.flatnonzero(np.diff(which[order])) + 1
    ok = np.zeros(len(pu), dtype=bool)
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(order)], strict=True):
        idx = order[lo:hi]
        if not len(idx):
            continue
        vs = sorted_unique(pv[idx])
        right = _Features(np.asarray(reps[vs]), [files[int(which[idx[0]])]], cfg)
        ok[idx] = left.similarity(right, lu[idx], np.searchsorted(vs, pv[idx])) >= cfg.threshold
    return ok


def edge_ranges(rows: int, representatives: int, budget_bytes: int) -> list[tuple[int, int]]:
    """Ranges of ``u`` that split an edge partition of ``rows`` edge rows (copies included) so that
    one range's edges, de-duplicated and sorted (~64 bytes per row at the peak), fit ``budget_bytes``."""
    pieces = max(1, -(-rows * EDGE_ROW_PEAK // max(budget_bytes, 1)))
    cuts = np.linspace(0, representatives, pieces + 1).round().astype(np.int64).tolist()
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


def verify_unit(
    work: str, q: int, reps_path: str, files: Sequence[SignatureFile], cfg_json: str
) -> tuple[int, int]:
    """Unit of work: verify edge partition ``q`` in ``u`` ranges of bounded size; writes the accepted
    edges (global rows, sorted) to ``work/near/p{q}/edges.parquet``; returns (candidate pairs, accepted)."""
    cfg = DedupConfig.model_validate_json(cfg_json)
    src = partition_dir(work, "edges", q)
    out = partition_dir(work, "near", q) / "edges.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    reps = np.load(reps_path, mmap_mode="r")
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
                ok = verify_pairs(pu, pv, reps, files, cfg)
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
