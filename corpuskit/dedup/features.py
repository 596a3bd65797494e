"""Verification features, computed once per candidate document and gathered by the verify units.

A verify unit's pairs have their ``u`` side in its partition (``u mod P``) and their ``v`` side anywhere,
so reading texts (or signatures) there would read nearly every document file once per partition:
~2·P x the corpus with P ∝ N, O(N²). Instead, once the group units have written which representatives
appear in a candidate edge, one **features unit** per run of consecutive document files (about
``partition_mb / 2`` of features) reads those documents once, one file at a time, and writes into the
run's work folder their features as npy arrays: each document's sorted distinct 40-bit shingle keys
(``exact``) or its signature (``estimate``). A verify unit memory-maps them and gathers only the rows
of its pairs, so verification reads the candidate documents' features about twice in all (``u`` and
``v`` sides): linear in N. The gathered keys are those :func:`~corpuskit.dedup.clusters.shingle_keys`
gives for the same documents, so every similarity, and every output, is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.dedup.clusters import (
    _DOC_SHIFT,
    _LOW,
    ShingleKeys,
    estimated_jaccard,
    keyed_jaccard,
    shingle_keys,
    sorted_unique,
)
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.loading import SignatureFile
from corpuskit.store.atomic import atomic_write_npy
from corpuskit.store.units import Unit

STORE_SHARE = 2  # a features unit writes about partition_mb / STORE_SHARE of features
CHUNK_ROWS = 1 << 20  # documents shingled at once (< 2**24, the document part of a key)
FilePart = tuple[str, str, np.ndarray]  # signature file, document file, sorted row positions in them


def store_dir(work: Path | str, g: int) -> Path:
    return Path(work) / "features" / f"g{g:06d}"


def candidate_nodes(work: Path | str) -> np.ndarray:
    """The representatives of any candidate edge (sorted), from the group units' ``nodes`` files."""
    found = [np.load(p) for p in sorted((Path(work) / "nodes").glob("*.npy"))]
    return sorted_unique(np.concatenate(found)).astype(np.int64) if found else np.zeros(0, np.int64)


def feature_units(
    work: Path | str,
    nodes: np.ndarray,
    reps: np.ndarray,
    n_shingles: np.ndarray,
    files: Sequence[SignatureFile],
    cfg: DedupConfig,
) -> tuple[list[Unit], np.ndarray]:
    """Units that write the features of ``nodes`` (sorted representative numbers), each over consecutive
    document files holding about ``partition_mb / 2`` of features; and each unit's first node (the
    stores' bounds, for :class:`FeatureStores`)."""
    rows = reps[nodes]
    per_doc, budget = cfg.num_perm * 4, cfg.partition_mb * 2**20 // STORE_SHARE
    runs: list[tuple[int, list[FilePart]]] = []  # (index of the run's first node, its files' parts)
    size = budget
    for f in files:
        lo, hi = np.searchsorted(rows, [f.offset, f.offset + f.rows])
        if hi == lo:
            continue
        if size >= budget:
            runs.append((int(lo), []))
            size = 0
        runs[-1][1].append((f.signatures, f.documents, rows[lo:hi] - f.offset))
        size += int(n_shingles[rows[lo:hi]].sum()) * 8 if cfg.verify == "exact" else int(hi - lo) * per_doc
    ends = [first for first, _ in runs[1:]] + [len(nodes)] * bool(runs)
    cfg_json = cfg.model_dump_json()
    units = [
        Unit(f"g{g:06d}", (str(work), g, nodes[first:end], parts, cfg_json))
        for g, ((first, parts), end) in enumerate(zip(runs, ends, strict=True))
    ]
    return units, np.array([nodes[first] for first, _ in runs], dtype=np.int64)


def features_unit(work: str, g: int, nodes: np.ndarray, parts: list[FilePart], cfg_json: str) -> int:
    """Unit of work: the features of ``nodes`` (in order: the rows ``parts`` name) into store ``g``:
    ``nodes.npy``, and ``offsets.npy`` + ``keys.npy`` (exact: each document's sorted distinct 40-bit
    shingle keys) or ``sig.npy`` (estimate). Returns the documents written."""
    from corpuskit.dedup.pipeline import shingle_table  # the one shingle table, shared with cluster_rows
    from corpuskit.executors.local import report

    cfg = DedupConfig.model_validate_json(cfg_json)
    out = store_dir(work, g)
    if cfg.verify == "exact":
        keys, counts = [np.zeros(0, dtype=np.uint64)], [np.zeros(0, dtype=np.int64)]
        for _, documents, pos in parts:
            texts = pl.read_parquet(documents, columns=["text"])["text"]
            for lo in range(0, len(pos), CHUNK_ROWS):
                chunk = pos[lo : lo + CHUNK_ROWS]
                tab = shingle_table(texts.gather(chunk), cfg.hasher().spec)
                k = shingle_keys(tab["d"].to_numpy(), tab["h"].to_numpy())
                counts.append(np.bincount((k >> _DOC_SHIFT).astype(np.int64), minlength=len(chunk)))
                keys.append(k & _LOW)
            del texts
        atomic_write_npy(out / "keys.npy", np.concatenate(keys))
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
        atomic_write_npy(out / "offsets.npy", offsets)
    else:
        sig = [
            pl.read_parquet(signatures, columns=["minhash"])["minhash"].to_numpy()[pos]
            for signatures, _, pos in parts
        ]
        atomic_write_npy(out / "sig.npy", np.concatenate(sig).astype(np.uint32))
    atomic_write_npy(out / "nodes.npy", np.asarray(nodes, dtype=np.int64))
    report(len(nodes))
    return len(nodes)


class Features:
    """What a similarity is computed from, for sorted nodes numbered 0..k-1 in that order: signatures
    (``estimate``) or sorted shingle keys (``exact``)."""

    def __init__(self, exact: bool, keys: ShingleKeys | None = None, sig: np.ndarray | None = None):
        self.exact, self.keys, self.sig = exact, keys, sig

    def similarity(self, other: Features, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Similarity of pairs (u of these rows, v of ``other``'s)."""
        if self.exact:
            assert self.keys is not None and other.keys is not None
            return keyed_jaccard(self.keys, other.keys, u, v)
        assert self.sig is not None and other.sig is not None
        return estimated_jaccard(self.sig, u, v, other=other.sig)


class FeatureStores:
    """The features units' stores of one run, read by node number. A store is memory-mapped only while
    its rows are gathered (the mapped pages a unit touched count in its RSS), so a verify unit maps the
    pages of one store at a time, not of every store its pairs touch: bounded whatever N."""

    def __init__(self, work: Path | str, starts: np.ndarray, cfg: DedupConfig):
        self.work, self.starts, self.exact, self.num_perm = work, starts, cfg.verify == "exact", cfg.num_perm

    def _store(self, g: int) -> dict[str, np.ndarray]:
        names = ("nodes", "offsets", "keys") if self.exact else ("nodes", "sig")
        return {n: np.load(store_dir(self.work, g) / f"{n}.npy", mmap_mode="r") for n in names}

    def _by_store(self, nodes: np.ndarray) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray, int, int]]:
        """(store, positions of nodes[lo:hi] in it, lo, hi) for sorted ``nodes``."""
        which = np.searchsorted(self.starts, nodes, side="right") - 1
        bounds = np.flatnonzero(np.diff(which)) + 1
        for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(nodes)], strict=True):
            if hi == lo:
                continue
            s = self._store(int(which[lo])) if which[lo] >= 0 else {"nodes": np.zeros(0, np.int64)}
            pos = np.searchsorted(s["nodes"], nodes[lo:hi])
            if pos[-1] >= len(s["nodes"]) or not np.array_equal(s["nodes"][pos], nodes[lo:hi]):
                raise RuntimeError("verification features are missing for some candidate documents")
            yield s, pos, lo, hi
            del s  # unmap it before the next store

    def sizes(self, nodes: np.ndarray) -> np.ndarray:
        """Bytes of features per node (sorted)."""
        if not self.exact:
            return np.full(len(nodes), self.num_perm * 4, dtype=np.int64)
        out = np.zeros(len(nodes), dtype=np.int64)
        for s, pos, lo, hi in self._by_store(nodes):
            out[lo:hi] = (s["offsets"][pos + 1] - s["offsets"][pos]) * 8
        return out

    def features(self, nodes: np.ndarray) -> Features:
        """The features of sorted ``nodes``, numbered 0..k-1 in that order."""
        if not self.exact:
            sig = np.empty((len(nodes), self.num_perm), dtype=np.uint32)
            for s, pos, lo, hi in self._by_store(nodes):
                sig[lo:hi] = s["sig"][pos]
            return Features(False, sig=sig)
        parts = [np.zeros(0, dtype=np.uint64)]
        for s, pos, lo, hi in self._by_store(nodes):
            first = np.asarray(s["offsets"][pos])
            count = np.asarray(s["offsets"][pos + 1]) - first
            before = np.cumsum(count) - count
            idx = np.repeat(first - before, count) + np.arange(int(count.sum()), dtype=np.int64)
            doc = np.repeat(np.arange(lo, hi, dtype=np.uint64), count)
            parts.append((doc << _DOC_SHIFT) | np.asarray(s["keys"][idx]))
        return Features(True, keys=ShingleKeys.of_keys(np.concatenate(parts), len(nodes)))
