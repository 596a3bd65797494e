"""``dedup_sources``: exact then near-duplicate removal over sources of a corpus, with stored signatures.

Stages:
1. **Signatures** (:mod:`corpuskit.dedup.signatures`; attribute set ``minhash``, one file per document
   file, one unit of work each, reused when current).
2. **Exact**: documents with the same ``text_hash`` are one group; only one representative per group
   goes on to LSH.
3. **Near**, with bounded memory (:mod:`corpuskit.dedup.partitioned`): band keys hash-partitioned into
   files, each partition bucketed, candidate edges verified per edge partition, then connected
   components over exact + near edges. :func:`cluster_rows` is the same computation in memory, for
   signatures already in an array (evaluation, benchmarks); both give the same labels.
4. **Decision** (attribute set ``dedup``, :mod:`corpuskit.dedup.decisions`): per cluster of more than
   one document one is kept by the keep policy, read for those documents only;
   ``dup_cluster`` is the kept document's id, so clusters are comparable across sources and runs.
   Dropped documents get ``dedup_drop_reason`` ``exact_duplicate`` (same normalised text as the kept one)
   or ``near_duplicate``.

``against`` sources take part with their stored signatures but are never rewritten: their earlier
decisions win (a document kept before stays the cluster's kept one), which is how a new source is
deduplicated against an already deduplicated corpus. Every unit (signatures, bands, groups,
verification) runs in-process, in the local pool (``workers``) or as Ray tasks (``executor="ray"``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.configs import ConfigError
from corpuskit.dedup.clusters import (
    ClusterStats,
    candidate_pairs,
    components,
    estimated_jaccard,
    exact_jaccard,
    exact_roots,
    sorted_unique,
)
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.decisions import (
    decide_clustered,
    dedup_params,
    overlap_of,
    source_counts,
    write_decisions,
)
from corpuskit.dedup.loading import load_source
from corpuskit.dedup.minhash import batch_bounds
from corpuskit.dedup.overlap import overlap_file, save_overlap
from corpuskit.dedup.partitioned import near_clusters
from corpuskit.dedup.shingles import ShingleSpec, normalize, shingle_hashes
from corpuskit.dedup.signatures import ensure_signatures
from corpuskit.executors import StageRun
from corpuskit.progress import SILENT, Reporter
from corpuskit.store import (
    SourceStore,
    list_sources,
    require_complete,
    source_locks,
)

# ---------------------------------------------------------------------------------------------- clustering


@dataclass
class Clustering:
    """Cluster labels plus the evidence: each row's exact-duplicate root and the accepted near edges."""

    labels: np.ndarray
    exact_root: np.ndarray
    near_u: np.ndarray
    near_v: np.ndarray
    stats: ClusterStats


def cluster_rows(
    text_hash: np.ndarray,
    n_shingles: np.ndarray,
    sig: np.ndarray,
    cfg: DedupConfig,
    shingles_of: Callable[[np.ndarray], pl.DataFrame] | None = None,
    progress: Reporter = SILENT,
) -> Clustering:
    """Cluster label per row (smallest row of its cluster) from exact hashes and signatures.

    ``shingles_of(rows)`` must return a frame (d = position in ``rows``, h = shingle hash) when
    ``cfg.verify == "exact"``. Rows without shingles (empty text) stay alone.
    """
    n = len(text_hash)
    stats = ClusterStats()
    rows = np.arange(n, dtype=np.int64)
    root, reps = exact_roots(text_hash, n_shingles, cfg.exact)
    ex_u, ex_v = rows[root != rows], root[root != rows]
    stats.representatives = len(reps)
    near_u = near_v = np.zeros(0, dtype=np.int64)
    if cfg.near and len(reps) > 1:
        t0 = time.perf_counter()
        banding = cfg.banding()
        meter = progress.meter("dedup: LSH bands", "bands", total=banding.bands)
        pairs = candidate_pairs(
            sig[reps], banding, all_pairs=cfg.verify != "none", on_band=lambda b: meter.advance(1)
        )
        pu, pv = pairs["u"].to_numpy().astype(np.int64), pairs["v"].to_numpy().astype(np.int64)
        stats.candidate_pairs = len(pu)
        stats.seconds["lsh"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if cfg.verify == "estimate":
            ok = estimated_jaccard(sig[reps], pu, pv) >= cfg.threshold
            pu, pv = pu[ok], pv[ok]
        elif cfg.verify == "exact" and len(pu):
            if shingles_of is None:
                raise ValueError("verify='exact' needs the documents' texts")
            involved = sorted_unique(np.concatenate([pu, pv]))
            sh = shingles_of(reps[involved])
            local = np.searchsorted(involved, np.concatenate([pu, pv]))
            ok = exact_jaccard(sh, local[: len(pu)], local[len(pu) :]) >= cfg.threshold
            pu, pv = pu[ok], pv[ok]
        stats.verified_pairs = len(pu)
        stats.seconds["verify"] = time.perf_counter() - t0
        near_u, near_v = reps[pu], reps[pv]
    labels = components(n, np.concatenate([ex_u, near_u]), np.concatenate([ex_v, near_v]))
    return Clustering(labels, root, near_u, near_v, stats)


def shingle_table(texts: pl.Series, spec: ShingleSpec) -> pl.DataFrame:
    """(d, h) rows: the 64-bit shingle hashes of each text, for exact Jaccard verification."""
    norm = normalize(texts)
    lengths = norm.str.len_chars().fill_null(0).to_numpy()
    parts = []
    for lo, hi in batch_bounds(lengths, 1 << 30):
        h, offsets, _ = shingle_hashes(norm.slice(lo, hi - lo), spec)
        d = np.repeat(np.arange(lo, hi, dtype=np.uint32), np.diff(offsets))
        parts.append(pl.DataFrame({"d": d, "h": h}))
    return pl.concat(parts) if parts else pl.DataFrame(schema={"d": pl.UInt32, "h": pl.UInt64})


# ---------------------------------------------------------------------------------------------- run


@dataclass
class DedupResult:
    per_source: dict[str, dict[str, int]]
    clusters: int
    stats: ClusterStats
    overlap: dict[str, Any]
    seconds: dict[str, float]
    banding: tuple[int, int]


def dedup_sources(
    corpus: Path | str,
    sources: Sequence[str],
    cfg: DedupConfig,
    *,
    against: Sequence[str] = (),
    overlap_path: Path | None = None,
    run: StageRun = StageRun(),
    progress: Reporter = SILENT,
    **run_options: Any,
) -> DedupResult:
    """Deduplicate ``sources`` (within and across them, and against ``against``); write ``dedup`` sets.

    Holds the lock of every source it writes (``against`` sources: a shared lock, they are only read);
    refuses sources with failed or missing inputs unless ``run.allow_incomplete``. ``run_options``: fields
    of ``run`` to change (``executor="ray"``); ``run.workers``, when given, replaces ``cfg.workers``.
    A remote ``corpus`` (``s3://...``) is worked on in a local working copy (:mod:`~.store.corpus_root`)."""
    from corpuskit.store.corpus_root import local_corpus

    run = run.replace(**run_options)
    if run.workers is not None:
        cfg = cfg.model_copy(update={"workers": run.workers})
    against = [s for s in against if s not in sources]
    with local_corpus(corpus, "corpuskit dedup", write=sources, read=against, wait=run.wait) as local:
        _check_sources(local, [*sources, *against], run.allow_incomplete)
        stores = [SourceStore(local, s) for s in sources]
        shared = [SourceStore(local, s) for s in against]
        with source_locks(stores, "corpuskit dedup", wait=run.wait, shared=shared):
            return _dedup_locked(local, sources, cfg, against, progress, overlap_path, run.executor)


def _check_sources(corpus: Path, names: list[str], allow_incomplete: bool) -> None:
    known = set(list_sources(corpus))
    for s in names:
        if s not in known:
            raise ConfigError(
                f"source {s!r} not found in corpus {corpus} (have: {', '.join(sorted(known)) or 'none'})"
            )
    for s in names:
        require_complete(corpus, s, stage="dedup", allow_incomplete=allow_incomplete)


def _dedup_locked(
    corpus: Path,
    sources: Sequence[str],
    cfg: DedupConfig,
    against: Sequence[str],
    progress: Reporter,
    overlap_path: Path | None,
    executor: str,
) -> DedupResult:
    seconds: dict[str, float] = {}
    per_source: dict[str, dict[str, int]] = {}

    t0 = time.perf_counter()
    for s in [*sources, *against]:
        hashed, reused = ensure_signatures(corpus, s, cfg, progress, executor)
        per_source[s] = {"hashed": hashed, "reused_files": reused}
    seconds["signatures"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    frames, files, offset = [], [], 0
    for s in [*sources, *against]:
        f, sf = load_source(corpus, s, frozen=s in against, offset=offset)
        if f.height:
            frames.append(f)
            files += sf
            offset += f.height
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    seconds["load"] = time.perf_counter() - t0
    if frame.height == 0:
        return DedupResult(per_source, 0, ClusterStats(), {}, seconds, (0, 0))

    t0 = time.perf_counter()
    labels, stats = near_clusters(corpus, frame, files, cfg, executor=executor, progress=progress)
    seconds["cluster"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    priority = cfg.source_priority or [*sources, *against]
    decisions = decide_clustered(files, labels, cfg, priority)
    write_decisions(corpus, sources, files, decisions, dedup_params(cfg, sources, against), progress)
    n_shingles = frame["n_shingles"].to_numpy()
    for s, c in source_counts(files, n_shingles, decisions).items():
        per_source[s].update(c)
    seconds["decide"] = time.perf_counter() - t0

    overlap = overlap_of(files, decisions, frame["text_hash"].to_numpy(), n_shingles)
    if overlap_path is None:
        overlap_path = overlap_file(corpus)
    save_overlap(overlap_path, overlap)
    clusters = int((np.bincount(labels, minlength=len(labels)) > 1).sum())  # labels are rows
    b = cfg.banding()
    return DedupResult(per_source, clusters, stats, overlap, seconds, (b.bands, b.rows))
