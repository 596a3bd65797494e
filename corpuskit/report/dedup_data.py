"""What the report shows of dedup, from what dedup stored: the overlap matrix (``_dedup/overlap.json``),
the ``dedup`` set's clusters, and the ``minhash`` set's signatures, whose share of equal values is the
MinHash estimate of a pair's Jaccard similarity (no shingling is redone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.report.corpus_data import excerpt
from corpuskit.store import (
    DEDUP,
    MINHASH,
    current_attribute_files,
    doc_records,
    list_sources,
    read_json,
    scan_documents,
)
from corpuskit.store.layout import overlap_file

# cluster sizes are counted in these buckets (a cluster of 1 is a document without duplicates)
SIZE_BUCKETS = [(2, 2), (3, 3), (4, 5), (6, 10), (11, 100), (101, None)]


def gather_dedup(corpus: Path, *, excerpt_chars: int, pairs: int) -> dict[str, Any] | None:
    """Overlap matrix, cluster-size distribution and a few near-duplicate pairs; None before dedup."""
    sources = [s for s in list_sources(corpus) if _has_current(corpus, s, DEDUP)]
    overlap = read_json(overlap_file(corpus))
    if not sources and not isinstance(overlap, dict):
        return None
    frames = [
        pl.scan_parquet(list(current_attribute_files(corpus, s, DEDUP).values()))
        .select("id", "dup_cluster", "dup_cluster_size", "dedup_drop_reason")
        .with_columns(pl.lit(s).alias("source"))
        for s in sources
    ]
    clusters = pl.concat(pl.collect_all(frames)) if frames else pl.DataFrame()
    return {
        "overlap": overlap if isinstance(overlap, dict) and overlap.get("sources") else None,
        "sizes": _size_distribution(clusters),
        "drops": _drop_counts(clusters),
        "pairs": _pairs(corpus, sources, clusters, excerpt_chars, pairs) if clusters.height else [],
    }


def _has_current(corpus: Path, source: str, set_name: str) -> bool:
    docs = doc_records(corpus, source)
    return bool(docs) and len(current_attribute_files(corpus, source, set_name, docs)) == len(docs)


def _size_distribution(clusters: pl.DataFrame) -> list[dict[str, Any]]:
    if clusters.height == 0:
        return []
    per = clusters.filter(pl.col("dup_cluster_size") > 1).unique("dup_cluster")["dup_cluster_size"].to_numpy()
    out = []
    for lo, hi in SIZE_BUCKETS:
        n = int(((per >= lo) & (per <= (hi if hi is not None else np.inf))).sum())
        label = str(lo) if lo == hi else (f"{lo}–{hi}" if hi is not None else f"> {lo - 1}")
        out.append(
            {"size": label, "clusters": n, "documents": int(per[(per >= lo) & (per <= (hi or np.inf))].sum())}
        )
    return out


def _drop_counts(clusters: pl.DataFrame) -> list[dict[str, Any]]:
    if clusters.height == 0:
        return []
    g = clusters.group_by("source").agg(
        pl.len().alias("documents"),
        (pl.col("dedup_drop_reason") == "exact_duplicate").sum().alias("exact_duplicate"),
        (pl.col("dedup_drop_reason") == "near_duplicate").sum().alias("near_duplicate"),
    )
    return g.sort("source").to_dicts()


def _pairs(
    corpus: Path, sources: list[str], clusters: pl.DataFrame, excerpt_chars: int, limit: int
) -> list[dict[str, Any]]:
    """Dropped near duplicates beside the document kept for them (near first, then exact; by id)."""
    dropped = (
        clusters.filter(pl.col("dedup_drop_reason").is_not_null())
        .sort([pl.col("dedup_drop_reason") != "near_duplicate", "id"])
        .head(limit)
    )
    if dropped.height == 0:
        return []
    ids = set(dropped["id"].to_list()) | set(dropped["dup_cluster"].to_list())
    docs: dict[str, dict[str, Any]] = {}
    for s in sources:
        lf = scan_documents(corpus, s, attributes=[MINHASH]).filter(pl.col("id").is_in(sorted(ids)))
        for r in lf.select("id", "source", "text", "locator", "minhash").collect().iter_rows(named=True):
            docs[r["id"]] = r
    out = []
    for r in dropped.iter_rows(named=True):
        a, b = docs.get(r["id"]), docs.get(r["dup_cluster"])
        if a is None or b is None:
            continue
        out.append(
            {
                "reason": r["dedup_drop_reason"],
                "jaccard": _estimate(a.get("minhash"), b.get("minhash")),
                "dropped": _side(a, excerpt_chars),
                "kept": _side(b, excerpt_chars),
            }
        )
    return out


def _side(doc: dict[str, Any], excerpt_chars: int) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "source": doc["source"],
        "locator": doc.get("locator") or "",
        "excerpt": excerpt(doc.get("text"), excerpt_chars),
    }


def _estimate(a: Any, b: Any) -> float | None:
    if a is None or b is None or len(a) != len(b) or len(a) == 0:
        return None
    return float(np.mean(np.asarray(a) == np.asarray(b)))
