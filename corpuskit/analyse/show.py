"""``corpuskit show``: look at documents with their signals and decisions (selected, sampled, or by id)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from corpuskit.configs import ConfigError
from corpuskit.store import list_sources, scan_documents


def select_documents(
    corpus: Path,
    source: str,
    *,
    id_prefix: str | None = None,
    dropped_by: str | None = None,
    kept: bool = False,
    sample: int = 5,
    seed: int = 0,
) -> pl.DataFrame:
    """Documents of ``source`` joined with every current attribute set, filtered, then a seeded sample
    (the same seed gives the same documents). ``dropped_by`` matches a filter (``gopher_quality``) or a
    full reason (``gopher_quality:gopher_short_doc``), ``exact_duplicate`` / ``near_duplicate`` too."""
    if source not in list_sources(corpus):
        raise ConfigError(
            f"source {source!r} not found in {corpus} (have: {', '.join(list_sources(corpus)) or 'none'}); "
            "run `corpuskit ingest` first"
        )
    lf = scan_documents(corpus, source)
    cols = lf.collect_schema().names()
    lf = lf.drop([c for c in ("minhash",) if c in cols])
    if id_prefix:
        lf = lf.filter(pl.col("id").str.starts_with(id_prefix))
    if kept and "drop_reason" in cols:
        lf = lf.filter(pl.col("drop_reason").is_null())
    if dropped_by:
        if "drop_reason" not in cols:
            raise ConfigError(f"source {source!r} has no decisions yet; run `corpuskit curate` first")
        lf = lf.filter(
            (pl.col("drop_reason") == dropped_by) | pl.col("drop_reason").str.starts_with(f"{dropped_by}:")
        )
    # a seeded order by hash of (seed, id): stable, independent of file order, no full shuffle in memory
    lf = lf.with_columns(pl.col("id").hash(seed).alias("_order")).sort("_order").drop("_order")
    return lf.head(sample).collect()


def as_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.iter_rows(named=True):
        out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
    return out


def signal_columns(frame: pl.DataFrame) -> list[str]:
    base = {"id", "source", "text", "url", "locator", "created", "metadata", "drop_reason"}
    return [c for c in frame.columns if c not in base and frame[c].dtype.is_numeric()]
