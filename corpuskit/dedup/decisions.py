"""Stage 4 of dedup: which document each cluster keeps, written per file, overlap and counts.

Only the documents of a cluster with more than one member need the keep policy; every other document is
its own cluster and kept. So the policy's facts (:func:`corpuskit.dedup.loading.policy_rows`) are read
for the clustered documents only, and each file's decisions are its ids plus those of its clustered
rows: the driver holds per document only the cluster label and size arrays (8 + 4 bytes) and, for the
overlap matrix, one frame of (source, label, text hash) at ~20 bytes per document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.loading import SignatureFile, policy_rows
from corpuskit.dedup.overlap import overlap_matrix
from corpuskit.dedup.policy import choose_kept
from corpuskit.progress import SILENT, Reporter
from corpuskit.store import DEDUP, SourceStore, doc_records, write_attributes
from corpuskit.store.commits import settings_hash

OUT_COLS = ["id", "dup_cluster", "dup_cluster_size", "dup_kept", "dedup_drop_reason"]


def decide(
    frame: pl.DataFrame, labels: np.ndarray, cfg: DedupConfig, priority: Sequence[str]
) -> pl.DataFrame:
    """Add dup_cluster (kept id), dup_cluster_size, dup_kept and dedup_drop_reason to ``frame``
    (which holds every member of each of its clusters)."""
    f = frame.with_columns(pl.Series("cluster", labels))
    f = choose_kept(f, cfg.keep, priority)
    kept_id = f["id"].gather(f["kept_row"])
    kept_hash = f["text_hash"].gather(f["kept_row"])
    return f.with_columns(
        kept_id.alias("dup_cluster"),
        pl.len().over("cluster").cast(pl.UInt32).alias("dup_cluster_size"),
        pl.when(pl.col("dup_kept"))
        .then(None)
        .when(pl.lit(cfg.exact) & (pl.col("text_hash") == kept_hash))
        .then(pl.lit("exact_duplicate"))
        .otherwise(pl.lit("near_duplicate"))
        .alias("dedup_drop_reason"),
    )


@dataclass
class Decisions:
    """The decisions of the clustered rows (global row ``_g``, ascending), every row's cluster label and
    cluster size."""

    clustered: pl.DataFrame
    labels: np.ndarray
    size: np.ndarray

    def of_file(self, f: SignatureFile) -> pl.DataFrame:
        """The ``dedup`` attribute rows of one file: its ids, with the clustered rows' decisions."""
        g = self.clustered["_g"].to_numpy()
        lo, hi = np.searchsorted(g, [f.offset, f.offset + f.rows])
        part = self.clustered.slice(int(lo), int(hi - lo)).drop("source")
        ids = pl.read_parquet(f.signatures, columns=["id"])
        rows = ids.with_columns(pl.int_range(f.offset, f.offset + ids.height, dtype=pl.Int64).alias("_g"))
        out = rows.join(part, on="_g", how="left", maintain_order="left")
        return out.select(
            "id",
            pl.coalesce("dup_cluster", "id").alias("dup_cluster"),
            pl.col("dup_cluster_size").fill_null(1),
            pl.col("dup_kept").fill_null(True),
            "dedup_drop_reason",
        )


def decide_clustered(
    files: Sequence[SignatureFile], labels: np.ndarray, cfg: DedupConfig, priority: Sequence[str]
) -> Decisions:
    """Apply the keep policy to the rows whose cluster has more than one member."""
    size = np.bincount(labels, minlength=len(labels)).astype(np.uint32)[labels]
    rows = np.flatnonzero(size > 1)
    schema = {"_g": pl.Int64, "source": pl.String, **dict.fromkeys(OUT_COLS[1:], pl.String)}
    schema.update(dup_cluster_size=pl.UInt32, dup_kept=pl.Boolean)
    if not len(rows):
        return Decisions(pl.DataFrame(schema=schema), labels, size)
    frame = policy_rows(rows, files)
    decided = decide(frame, labels[rows], cfg, priority).with_columns(pl.Series("_g", rows))
    return Decisions(decided.select(list(schema)), labels, size)


def write_decisions(
    corpus: Path,
    sources: Sequence[str],
    files: Sequence[SignatureFile],
    decisions: Decisions,
    params: str,
    progress: Reporter = SILENT,
) -> None:
    """Write the ``dedup`` attribute set of every file of ``sources`` that has rows."""
    targets = [f for f in files if f.source in sources and f.rows]
    records = {s: {d.name: d for d in doc_records(corpus, s)} for s in sources}
    meter = progress.meter("dedup: write decisions", "files", total=len(targets))
    for f in targets:
        store = SourceStore(corpus, f.source)
        write_attributes(store, DEDUP, records[f.source][f.name], decisions.of_file(f), params)
        meter.advance(1)


def source_counts(
    files: Sequence[SignatureFile], n_shingles: np.ndarray, decisions: Decisions
) -> dict[str, dict[str, int]]:
    """Per source with rows: documents, empty, exact_duplicate, near_duplicate, kept."""
    dropped = decisions.clustered.group_by("source", "dedup_drop_reason").agg(pl.len().alias("n"))
    counts: dict[str, dict[str, int]] = {}
    for f in files:
        if f.rows:
            c = counts.setdefault(f.source, dict.fromkeys(["documents", "empty"], 0))
            c["documents"] += f.rows
            c["empty"] += int((n_shingles[f.offset : f.offset + f.rows] == 0).sum())
    for s, c in counts.items():
        for reason in ("exact_duplicate", "near_duplicate"):
            hit = dropped.filter((pl.col("source") == s) & (pl.col("dedup_drop_reason") == reason))
            c[reason] = int(hit["n"].sum())
        c["kept"] = c["documents"] - c["exact_duplicate"] - c["near_duplicate"]
    return dict(sorted(counts.items()))


def _repeated(values: np.ndarray) -> np.ndarray:
    """Whether each value occurs more than once."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    same = v[1:] == v[:-1]
    out = np.zeros(len(values), dtype=bool)
    out[order[1:][same]] = True
    out[order[:-1][same]] = True
    return out


def overlap_of(
    files: Sequence[SignatureFile], decisions: Decisions, text_hash: np.ndarray, n_shingles: np.ndarray
) -> dict[str, Any]:
    """The overlap matrix from the cluster labels (one per kept document, as ``dup_cluster`` is), over
    only the rows that share a cluster or a text hash with another row."""
    kind = pl.Enum(sorted({f.source for f in files}))
    labels = decisions.labels
    shared = (decisions.size > 1) | _repeated(text_hash)
    documents: dict[str, int] = {}
    parts = []
    for f in files:
        if not f.rows:
            continue
        documents[f.source] = documents.get(f.source, 0) + f.rows
        rows = f.offset + np.flatnonzero(shared[f.offset : f.offset + f.rows])
        part = pl.DataFrame({"cluster": labels[rows], "text_hash": text_hash[rows], "n": n_shingles[rows]})
        parts.append(
            part.select(
                pl.lit(f.source, dtype=kind).alias("source"),
                "cluster",
                pl.when(pl.col("n") > 0).then(pl.col("text_hash")).alias("text_hash"),
            )
        )
    return overlap_matrix(pl.concat(parts), documents)


def dedup_params(cfg: DedupConfig, sources: Sequence[str], against: Sequence[str]) -> str:
    return settings_hash({"dedup": cfg.decision_params(), "sources": sorted([*sources, *against])})
