"""Per-source statistics of a corpus folder: documents, bytes, text-length distribution, errors.

Computed lazily with polars over the Parquet parts, so it runs on corpora larger than memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from corpuskit.documents import read_manifest
from corpuskit.store import list_parts, list_sources, scan_documents

QUANTILES = (0.1, 0.5, 0.9, 0.99)


def source_stats(corpus: Path | str, source: str) -> dict[str, Any]:
    """Numbers for one source; JSON-serialisable."""
    lf = scan_documents(corpus, source, attributes=[])
    length = pl.col("text").str.len_bytes()
    row = (
        lf.select(
            pl.len().alias("documents"),
            length.sum().alias("bytes"),
            length.mean().alias("mean_bytes"),
            length.max().alias("max_bytes"),
            *[length.quantile(q, "nearest").alias(f"p{round(q * 100)}_bytes") for q in QUANTILES],
            pl.col("url").is_not_null().sum().alias("with_url"),
            pl.col("created").min().alias("created_min"),
            pl.col("created").max().alias("created_max"),
        )
        .collect()
        .row(0, named=True)
    )
    errors: dict[str, int] = {}
    bytes_in = 0
    parts = list_parts(corpus, source)
    for part in parts:
        bytes_in += int(part.marker.get("bytes_in", 0))
        for reason, n in part.marker.get("errors", {}).items():
            errors[reason] = errors.get(reason, 0) + int(n)
    manifest = read_manifest(corpus, source)
    from corpuskit.store.read import incomplete_units

    return {
        "source": source,
        "kind": manifest.get("kind"),
        "inputs": len(parts),
        "incomplete_inputs": incomplete_units(corpus, source),
        "bytes_in": bytes_in,
        **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()},
        "errors_by_reason": dict(sorted(errors.items())),
    }


def corpus_stats(corpus: Path | str) -> list[dict[str, Any]]:
    return [source_stats(corpus, s) for s in list_sources(corpus)]
