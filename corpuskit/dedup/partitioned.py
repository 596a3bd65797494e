"""Near-duplicate clusters with bounded memory, as units of work (in-process, local pool or Ray tasks).

The driver holds per document the text hash and shingle count (12 bytes) and two int64 arrays (exact
roots, labels); signatures are never all in memory. Units: one band unit per run of signature files, one group
unit per partition, one features unit per run of document files holding candidate documents, one verify
unit per partition (:mod:`corpuskit.dedup.bands`, :mod:`corpuskit.dedup.features`,
:mod:`corpuskit.dedup.components`).
The partition count ``P`` follows from ``partition_mb`` (or is given as ``partitions``); the output does
not depend on ``P``, the worker count or the executor, only on the data and the parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.dedup.bands import BAND_ROW_BYTES, SigPart, band_unit, group_unit, partitions_for, scratch
from corpuskit.dedup.clusters import ClusterStats, exact_roots
from corpuskit.dedup.components import cluster_labels, read_near_edges, verify_unit
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.features import candidate_nodes, feature_units, features_unit
from corpuskit.dedup.loading import SignatureFile
from corpuskit.progress import SILENT, Reporter
from corpuskit.store.units import Unit, UnitFailure, UnitsFailed, run_units

POLARS_FACTOR = 4  # measured: bucketing a partition peaks at ~4x its band rows (sort, window, join)
BAND_RUN_SHARE = 4  # a band unit's band rows take about partition_mb / BAND_RUN_SHARE
# measured: a band unit peaks at ~5x its band rows, 6 with a margin (frames, concat, split copies)
BAND_UNIT_FACTOR = 6


def _run_all(
    what: str,
    fn: Callable[..., Any],
    units: list[Unit],
    cfg: DedupConfig,
    executor: str,
    progress: Reporter,
    memory_mb: int,
    count: Callable[[Any], int] = lambda _: 1,
) -> list[Any]:
    """Run every unit; their results in unit order. Any failure: UnitsFailed (nothing is committed)."""
    meter = progress.meter(f"dedup: {what}", "units", total=len(units))
    out: dict[str, Any] = {}
    failed = []
    for key, res in run_units(fn, units, workers=cfg.workers, executor=executor, memory_mb=memory_mb):
        if isinstance(res, UnitFailure):
            failed.append(f"{key}: {res}")
        else:
            out[key] = res
        meter.advance(1)
    if failed:
        raise UnitsFailed(f"dedup {what}", failed)
    return [out[u.key] for u in units]


def band_units(
    reps: np.ndarray, files: Sequence[SignatureFile], cfg: DedupConfig, parts: int, work: str
) -> tuple[list[Unit], int]:
    """Band units over runs of consecutive signature files whose representatives' band rows take about
    ``partition_mb / 4`` (so that units x P band files stay few), and the MiB one needs."""
    banding, per_row = cfg.banding(), cfg.num_perm * 4
    per_rep = banding.bands * BAND_ROW_BYTES
    runs: list[list[SigPart]] = [[]]
    size = 0
    for f in files:
        lo, hi = np.searchsorted(reps, [f.offset, f.offset + f.rows])
        if hi > lo:
            runs[-1].append((f.signatures, reps[lo:hi] - f.offset, int(lo)))
            size += int(hi - lo) * per_rep
            if size >= cfg.partition_mb * 2**20 // BAND_RUN_SHARE:
                runs, size = [*runs, []], 0
    runs = [r for r in runs if r]
    first = {f.signatures: f"{f.source}/{f.name}" for f in files}
    units = [Unit(first[r[0][0]], (r, banding, parts, work, f"f{i:06d}")) for i, r in enumerate(runs)]
    most_rows = max((f.rows for f in files), default=0)
    most_reps = max((sum(len(p[1]) for p in r) for r in runs), default=0)
    return units, 256 + (most_rows * per_row + most_reps * per_rep * BAND_UNIT_FACTOR) // 2**20


def partition_load(cfg: DedupConfig, reps: int, shingles: int) -> int:
    """Bytes the partitions hold in all: band rows, or the verification features of their documents
    (shingle rows of 12 bytes for ``exact``, signatures for ``estimate``), whichever is larger."""
    band = reps * cfg.banding().bands * BAND_ROW_BYTES
    verify = {"exact": shingles * 12, "estimate": reps * cfg.num_perm * 4}.get(cfg.verify, 0)
    return max(band, verify)


def near_clusters(
    corpus: Path | str,
    frame: pl.DataFrame,
    files: Sequence[SignatureFile],
    cfg: DedupConfig,
    *,
    executor: str = "local",
    progress: Reporter = SILENT,
) -> tuple[np.ndarray, ClusterStats]:
    """Cluster label per row of ``frame`` (its cluster's smallest row), as
    :func:`corpuskit.dedup.pipeline.cluster_rows` computes it, with signatures read from ``files``."""
    n = frame.height
    stats = ClusterStats()
    root, reps = exact_roots(frame["text_hash"].to_numpy(), frame["n_shingles"].to_numpy(), cfg.exact)
    stats.representatives = len(reps)
    near_u = near_v = np.zeros(0, dtype=np.int64)
    if cfg.near and len(reps) > 1:
        load = partition_load(cfg, len(reps), int(frame["n_shingles"].to_numpy()[reps].sum()))
        parts = cfg.partitions or partitions_for(load, cfg.partition_mb)
        with scratch(corpus) as work:
            t0 = time.perf_counter()
            np.save(work / "reps.npy", reps)
            bands, unit_mb = band_units(reps, files, cfg, parts, str(work))
            _run_all("LSH band keys", band_unit, bands, cfg, executor, progress, unit_mb)
            part_mb = 256 + POLARS_FACTOR * load // parts // 2**20
            groups = [Unit(f"p{p:05d}", (str(work), p, parts, cfg.verify != "none")) for p in range(parts)]
            _run_all("LSH buckets", group_unit, groups, cfg, executor, progress, part_mb)
            stats.seconds["lsh"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            starts = np.zeros(0, dtype=np.int64)
            if cfg.verify != "none":
                nodes = candidate_nodes(work)
                units, starts = feature_units(work, nodes, reps, frame["n_shingles"].to_numpy(), files, cfg)
                del nodes
                _run_all("verification features", features_unit, units, cfg, executor, progress, part_mb)
            reps_path, cfg_json = str(work / "reps.npy"), cfg.model_dump_json()
            checks = [Unit(f"p{q:05d}", (str(work), q, reps_path, starts, cfg_json)) for q in range(parts)]
            counts = _run_all("verify pairs", verify_unit, checks, cfg, executor, progress, 2 * part_mb)
            stats.candidate_pairs = sum(c for c, _ in counts)
            stats.verified_pairs = sum(v for _, v in counts)
            near_u, near_v = read_near_edges(work, parts)
            stats.seconds["verify"] = time.perf_counter() - t0
    return cluster_labels(n, root, near_u, near_v), stats
