"""Cross-source overlap: how many documents of source A have a duplicate in source B.

``near[A][B]`` counts documents of A whose duplicate cluster (exact or near) holds another document of
B; ``exact[A][B]`` the same for identical normalised text. The diagonal counts duplicates within a
source. Rows are not symmetric: 100 copies in A of one page in B give near[A][B] = 100, near[B][A] = 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table

from corpuskit.store import DEDUP, MINHASH, current_attribute_files, doc_records, list_sources
from corpuskit.store.layout import overlap_file

__all__ = ["overlap_file", "overlap_for_corpus", "overlap_matrix", "render_overlap", "save_overlap"]


def _pair_counts(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    """(source, other, n): documents of ``source`` sharing ``group`` with another document of ``other``."""
    per = frame.group_by(group, "source").agg(pl.len().alias("c"))
    multi = per.group_by(group).agg(pl.col("c").sum().alias("total")).filter(pl.col("total") > 1)
    docs = (
        frame.join(multi.select(group), on=group, how="semi")
        .group_by(group, "source")
        .agg(pl.len().alias("k"))
    )
    joined = docs.join(per.rename({"source": "other"}), on=group)
    # the k documents of `source` in this group see c documents of `other`, minus themselves when equal
    joined = joined.filter(pl.col("c") - (pl.col("source") == pl.col("other")).cast(pl.Int64) > 0)
    return joined.group_by("source", "other").agg(pl.col("k").sum().alias("n"))


def overlap_matrix(frame: pl.DataFrame, documents: dict[str, int] | None = None) -> dict[str, Any]:
    """Overlap from a frame with ``source``, ``cluster`` and ``text_hash`` (null hash = not compared).

    With ``documents`` (every source's document count) ``frame`` may hold only the rows that share a
    cluster or a text hash with another row: the others count nowhere but in ``documents``."""
    if documents is None:
        docs = frame.group_by("source").agg(pl.len().alias("n"))
        documents = {r["source"]: r["n"] for r in docs.iter_rows(named=True)}
    sources = sorted(documents)
    out: dict[str, Any] = {"sources": sources, "documents": documents}
    for name, group, sub in (
        ("near", "cluster", frame),
        ("exact", "text_hash", frame.filter(pl.col("text_hash").is_not_null())),
    ):
        m = {a: dict.fromkeys(sources, 0) for a in sources}
        for r in _pair_counts(sub.select("source", group), group).iter_rows(named=True):
            m[r["source"]][r["other"]] = int(r["n"])
        out[name] = m
    return out


def overlap_for_corpus(corpus: Path | str, sources: list[str] | None = None) -> dict[str, Any]:
    """Overlap matrix of a corpus from its ``dedup`` (clusters) and ``minhash`` (text hashes) attributes.

    Only sources that have been deduplicated take part. Cluster ids are the id of the kept document, so
    clusters match across sources and across incremental runs.
    """
    frames = []
    for src in sources or list_sources(corpus):
        docs = doc_records(corpus, src)
        ded_of = current_attribute_files(corpus, src, DEDUP, docs)
        sig_of = current_attribute_files(corpus, src, MINHASH, docs)
        if not docs or len(ded_of) < len(docs):
            continue
        lf = pl.scan_parquet(list(ded_of.values())).select("id", pl.col("dup_cluster").alias("cluster"))
        if len(sig_of) == len(docs):
            hashes = pl.scan_parquet(list(sig_of.values())).select("id", "text_hash", "n_shingles")
            hashes = hashes.with_columns(
                pl.when(pl.col("n_shingles") > 0).then(pl.col("text_hash")).alias("text_hash")
            ).drop("n_shingles")
            lf = lf.join(hashes, on="id", how="left")
        else:
            lf = lf.with_columns(pl.lit(None, dtype=pl.UInt64).alias("text_hash"))
        frames.append(lf.with_columns(pl.lit(src).alias("source")).select("source", "cluster", "text_hash"))
    if not frames:
        return {"sources": [], "documents": {}, "near": {}, "exact": {}}
    return overlap_matrix(pl.concat(pl.collect_all(frames)))


def save_overlap(path: Path, overlap: dict[str, Any]) -> None:
    from corpuskit.store.atomic import atomic_write_json

    atomic_write_json(path, overlap)


def load_overlap(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def render_overlap(overlap: dict[str, Any]) -> Table:
    """Rich table: one row per source A, one column per source B, cells 'near (exact)' with near %."""
    sources = overlap.get("sources", [])
    table = Table(
        title="Cross-source overlap: docs of ROW with a duplicate in COLUMN — near (exact)",
        title_justify="left",
    )
    table.add_column("source")
    table.add_column("docs", justify="right")
    for b in sources:
        table.add_column(b, justify="right")
    for a in sources:
        n = overlap["documents"].get(a, 0)
        cells = []
        for b in sources:
            near, exact = overlap["near"][a][b], overlap["exact"][a][b]
            pct = f" {100 * near / n:.1f}%" if n else ""
            cells.append(f"{near:,} ({exact:,}){pct}")
        table.add_row(a, f"{n:,}", *cells)
    return table
