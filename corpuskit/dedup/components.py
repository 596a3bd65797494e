"""Near-duplicate edges verified per edge partition, then connected components over them.

**Verify unit** (one per edge partition): the partition's unique candidate edges (every copy of an edge
is in one partition, so uniqueness is global), checked by estimated or exact Jaccard with only the
signatures or texts of the documents they involve, read from the files that hold them. Memory: the
partition's edges x 16 bytes plus the involved documents' signatures (or shingles).

**Components**: the verified edges of all partitions (documents that have a near duplicate, never all N)
are labelled with scipy's compiled connected components on compacted node numbers; each row's cluster is
then the label of its exact-duplicate root. This equals one ``components`` call over exact + near edges:
a representative is the smallest row of its exact group, so the smallest row of a cluster is its
smallest representative.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.dedup.bands import partition_dir
from corpuskit.dedup.clusters import components, estimated_jaccard, exact_jaccard, sorted_unique
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.loading import SignatureFile, rows_by_file
from corpuskit.store.atomic import atomic_write_parquet

_EDGES = {"u": pl.Int64, "v": pl.Int64}


def gather_signatures(rows: np.ndarray, files: Sequence[SignatureFile], num_perm: int) -> np.ndarray:
    """Signatures of sorted global ``rows``, reading one file at a time."""
    out = np.empty((len(rows), num_perm), dtype=np.uint32)
    for f, pos, lo in rows_by_file(rows, files):
        out[lo : lo + len(pos)] = pl.read_parquet(f.signatures, columns=["minhash"])["minhash"].to_numpy()[
            pos
        ]
    return out


def gather_texts(rows: np.ndarray, files: Sequence[SignatureFile]) -> pl.Series:
    """Texts of sorted global ``rows`` (a signature file's rows are its document file's rows, in order)."""
    parts = [
        pl.read_parquet(f.documents, columns=["text"])["text"].gather(pos)
        for f, pos, _ in rows_by_file(rows, files)
    ]
    return pl.concat(parts) if parts else pl.Series("text", [], dtype=pl.String)


class _Features:
    """What a similarity is computed from, for a sorted set of rows: signatures (``estimate``) or shingle
    rows ordered by document (``exact``); :meth:`take` selects some of them, renumbered 0..k-1."""

    def __init__(self, rows: np.ndarray, files: Sequence[SignatureFile], cfg: DedupConfig):
        from corpuskit.dedup.pipeline import shingle_table  # the one shingle table, shared with cluster_rows

        self.exact = cfg.verify == "exact"
        if self.exact:
            tab = shingle_table(gather_texts(rows, files), cfg.hasher().spec)
            self.d, self.h = tab["d"].to_numpy(), tab["h"].to_numpy()
            self.count = np.bincount(self.d, minlength=len(rows))
            self.first = np.concatenate([[0], np.cumsum(self.count)[:-1]]).astype(np.int64)
        else:
            self.sig = gather_signatures(rows, files, cfg.num_perm)

    def take(self, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        if not self.exact:
            return self.sig[pos]
        n = self.count[pos]
        starts = np.repeat(self.first[pos] - np.concatenate([[0], np.cumsum(n)[:-1]]), n)
        idx = starts + np.arange(int(n.sum()), dtype=np.int64)
        return np.repeat(np.arange(len(pos), dtype=np.uint32), n), self.h[idx]


def _similarity(left: Any, right: Any, k: int, lu: np.ndarray, lv: np.ndarray) -> np.ndarray:
    """Similarity of pairs (lu in ``left``, a selection of ``k`` documents; lv in ``right``)."""
    if isinstance(left, np.ndarray):
        return estimated_jaccard(np.concatenate([left, right]), lu, lv + k)
    tab = pl.DataFrame(
        {"d": np.concatenate([left[0], right[0] + np.uint32(k)]), "h": np.concatenate([left[1], right[1]])}
    )
    return exact_jaccard(tab, lu, lv + k)


def verify_pairs(
    pu: np.ndarray, pv: np.ndarray, reps: np.ndarray, files: Sequence[SignatureFile], cfg: DedupConfig
) -> np.ndarray:
    """Which candidate pairs (representative numbers) reach the threshold. The ``u`` side of a partition
    is loaded once; the ``v`` side streams one signature file at a time, so memory holds the partition's
    own documents plus one file's worth of the others."""
    us = sorted_unique(pu)
    left = _Features(np.asarray(reps[us]), files, cfg)
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
        f = files[int(which[idx[0]])]
        vs = sorted_unique(pv[idx])
        right = _Features(np.asarray(reps[vs]), [f], cfg)
        mine = sorted_unique(pu[idx])
        sim = _similarity(
            left.take(np.searchsorted(us, mine)),
            right.take(np.arange(len(vs))),
            len(mine),
            np.searchsorted(mine, pu[idx]),
            np.searchsorted(vs, pv[idx]),
        )
        ok[idx] = sim >= cfg.threshold
    return ok


def verify_unit(
    work: str, q: int, reps_path: str, files: Sequence[SignatureFile], cfg_json: str
) -> tuple[int, int]:
    """Unit of work: verify edge partition ``q``; writes the accepted edges (global rows) to
    ``work/near/p{q}/edges.parquet``; returns (candidate pairs, accepted pairs)."""
    cfg = DedupConfig.model_validate_json(cfg_json)
    src = partition_dir(work, "edges", q)
    out = partition_dir(work, "near", q) / "edges.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not src.is_dir() or not any(src.glob("*.parquet")):
        atomic_write_parquet(out, pl.DataFrame(schema=_EDGES))
        return 0, 0
    e = pl.scan_parquet(src / "*.parquet").unique().sort("u", "v").collect()
    pu, pv = e["u"].to_numpy().astype(np.int64), e["v"].to_numpy().astype(np.int64)
    candidates = len(pu)
    reps = np.load(reps_path, mmap_mode="r")
    if cfg.verify != "none" and len(pu):
        ok = verify_pairs(pu, pv, reps, files, cfg)
        pu, pv = pu[ok], pv[ok]
    atomic_write_parquet(
        out, pl.DataFrame({"u": np.asarray(reps[pu]), "v": np.asarray(reps[pv])}, schema=_EDGES)
    )
    return candidates, len(pu)


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
