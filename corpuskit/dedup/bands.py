"""LSH with bounded memory: band keys hash-partitioned into files, then each partition bucketed on its own.

1. **Band unit** (one per run of consecutive signature files whose representatives' band rows take about
   ``partition_mb / 4``): read each file's signatures, compute every band's 64-bit key for its
   representative rows and write ``(band, k, d)`` rows to partition ``k mod P``, one file per partition
   and unit. Memory: one file's signatures plus the run's band rows (bands x 14 bytes per
   representative), ~5x while they are split.
2. **Group unit** (one per partition): read that partition's band rows from every file, bucket them by
   ``(band, k)`` (:func:`corpuskit.dedup.clusters.bucket_edges`: the same edges as the in-memory
   :func:`~corpuskit.dedup.clusters.candidate_pairs`) and write the edges, split by ``u mod P`` so that
   one edge partition holds every copy of an edge. Memory: ~ reps x bands x 14 / P bytes, times polars'
   working factor.

Partitions are independent, so they run in the local pool or as Ray tasks; the files live under the
run's work folder (on a path every worker sees).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.dedup.clusters import bucket_edges, sorted_unique
from corpuskit.dedup.lsh import Banding
from corpuskit.store.atomic import atomic_write_npy, atomic_write_parquet
from corpuskit.store.lock import pid_alive

BAND_ROW_BYTES = 14  # band (u16) + key (u64) + representative (u32)


def partition_dir(work: Path | str, kind: str, p: int) -> Path:
    return Path(work) / kind / f"p{p:05d}"


def _split_write(
    frame: pl.DataFrame, part: np.ndarray, partitions: int, work: str, kind: str, tag: str
) -> None:
    """Write ``frame``'s rows into ``work/kind/p{part}/tag.parquet`` (only non-empty partitions)."""
    if not frame.height:
        return
    frame = frame.with_columns(pl.Series("_p", part.astype(np.uint32)))
    for (p,), grp in frame.partition_by("_p", as_dict=True, maintain_order=True).items():
        out = partition_dir(work, kind, int(p)) / f"{tag}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_parquet(out, grp.drop("_p"))


SigPart = tuple[str, np.ndarray, int]  # signature file, its representatives' rows, their first number


def band_unit(parts: list[SigPart], banding: Banding, partitions: int, work: str, tag: str) -> int:
    """Unit of work: the band keys of consecutive signature files' representatives (``parts``: each file's
    rows and the number of its first representative) into the band partitions; returns rows written.
    One unit takes many files, so that the files written (units x P) stay few."""
    from corpuskit.executors.local import report

    frames = []
    for signatures, local_rows, first_rep in parts:
        sig = pl.read_parquet(signatures, columns=["minhash"])["minhash"].to_numpy()[local_rows]
        d = np.arange(first_rep, first_rep + len(local_rows), dtype=np.uint32)
        keys = np.concatenate([banding.keys(sig, b) for b in range(banding.bands)]) if len(sig) else []
        del sig
        frames.append(
            pl.DataFrame(
                {
                    "band": np.repeat(np.arange(banding.bands, dtype=np.uint16), len(local_rows)),
                    "k": np.asarray(keys, dtype=np.uint64),
                    "d": np.tile(d, banding.bands),
                }
            )
        )
    frame = pl.concat(frames)
    _split_write(frame, frame["k"].to_numpy() % np.uint64(partitions), partitions, work, "bands", tag)
    report(sum(len(r) for _, r, _ in parts))
    return frame.height


def group_unit(work: str, p: int, partitions: int, all_pairs: bool) -> int:
    """Unit of work: bucket band partition ``p`` and write its edges into the edge partitions; returns
    the edges found (before the cross-partition de-duplication). With ``all_pairs`` (pairs are to be
    verified) it also writes their sorted distinct nodes to ``work/nodes/p{p}.npy``: the documents whose
    verification features are needed."""
    src = partition_dir(work, "bands", p)
    if not src.is_dir() or not any(src.glob("*.parquet")):
        return 0
    edges = bucket_edges(pl.scan_parquet(src / "*.parquet"), ["band", "k"], all_pairs=all_pairs)
    found = edges.unique().collect()
    u = found["u"].to_numpy()
    _split_write(found, u % partitions, partitions, work, "edges", f"p{p:05d}")
    if all_pairs and found.height:
        nodes = sorted_unique(np.concatenate([u, found["v"].to_numpy()]))
        atomic_write_npy(Path(work) / "nodes" / f"p{p:05d}.npy", nodes)
    return found.height


def partitions_for(total_bytes: int, partition_mb: int) -> int:
    """Partitions so that one holds at most ``partition_mb`` MiB of ``total_bytes``."""
    return max(1, -(-total_bytes // (partition_mb * 2**20)))


@contextlib.contextmanager
def scratch(corpus: Path | str) -> Iterator[Path]:
    """A work folder for one dedup run under ``corpus/_dedup`` (seen by every worker that sees the
    corpus), removed when the run ends. Folders of runs whose process is gone (killed) go first."""
    base = Path(corpus) / "_dedup"
    base.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname()
    for old in base.glob(f"work-{host}-*"):
        pid = old.name.split("-")[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f"work-{host}-{os.getpid()}-", dir=base))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
