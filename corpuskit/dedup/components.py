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

import numpy as np
import polars as pl

from corpuskit.dedup.bands import partition_dir
from corpuskit.dedup.clusters import components, estimated_jaccard, exact_jaccard, sorted_unique
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.loading import SignatureFile
from corpuskit.store.atomic import atomic_write_parquet

_EDGES = {"u": pl.Int64, "v": pl.Int64}


def _by_file(rows: np.ndarray, files: Sequence[SignatureFile]) -> list[tuple[SignatureFile, np.ndarray, int]]:
    """(file, positions in it, index of its first row in ``rows``) for sorted global ``rows``."""
    starts = np.array([f.offset for f in files], dtype=np.int64)
    which = np.searchsorted(starts, rows, side="right") - 1
    out = []
    bounds = np.flatnonzero(np.diff(which)) + 1
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(rows)], strict=True):
        if hi > lo:
            f = files[int(which[lo])]
            out.append((f, rows[lo:hi] - f.offset, lo))
    return out


def gather_signatures(rows: np.ndarray, files: Sequence[SignatureFile], num_perm: int) -> np.ndarray:
    """Signatures of sorted global ``rows``, reading one file at a time."""
    out = np.empty((len(rows), num_perm), dtype=np.uint32)
    for f, pos, lo in _by_file(rows, files):
        out[lo : lo + len(pos)] = pl.read_parquet(f.signatures, columns=["minhash"])["minhash"].to_numpy()[
            pos
        ]
    return out


def gather_texts(rows: np.ndarray, files: Sequence[SignatureFile]) -> pl.Series:
    """Texts of sorted global ``rows`` (a signature file's rows are its document file's rows, in order)."""
    parts = [
        pl.read_parquet(f.documents, columns=["text"])["text"].gather(pos)
        for f, pos, _ in _by_file(rows, files)
    ]
    return pl.concat(parts) if parts else pl.Series("text", [], dtype=pl.String)


def verify_unit(
    work: str, q: int, reps_path: str, files: Sequence[SignatureFile], cfg_json: str
) -> tuple[int, int]:
    """Unit of work: verify edge partition ``q``; writes the accepted edges (global rows) to
    ``work/near/p{q}/edges.parquet``; returns (candidate pairs, accepted pairs)."""
    from corpuskit.dedup.pipeline import shingle_table  # the one shingle table, shared with cluster_rows

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
        involved = sorted_unique(np.concatenate([pu, pv]))
        rows = np.asarray(reps[involved])
        lu, lv = np.searchsorted(involved, pu), np.searchsorted(involved, pv)
        if cfg.verify == "estimate":
            sim = estimated_jaccard(gather_signatures(rows, files, cfg.num_perm), lu, lv)
        else:
            sim = exact_jaccard(shingle_table(gather_texts(rows, files), cfg.hasher().spec), lu, lv)
        ok = sim >= cfg.threshold
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
