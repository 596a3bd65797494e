"""Which document of a duplicate cluster to keep: an ordered list of rules, ties broken by smallest id.

Rules: ``source`` (earlier in the priority list wins), ``quality`` (higher ``quality_score``, missing
last), ``longest``/``shortest`` (text length), ``oldest``/``newest`` (``created``, missing last). The
choice is one polars sort, not a loop over clusters. Documents that curation dropped lose to any kept one,
so a cluster is never emptied by keeping its worst member. Documents ``frozen`` from an earlier run (the
corpus deduplicated before) always win over new ones, so adding a source never changes what was kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def _sort_keys(
    frame: pl.DataFrame, rules: Sequence[str], priority: Sequence[str]
) -> tuple[list[pl.Expr], list[bool]]:
    keys: list[pl.Expr] = []
    desc: list[bool] = []
    if "frozen_rank" in frame.columns:
        keys.append(pl.col("frozen_rank"))
        desc.append(False)
    if "curated_out" in frame.columns:  # a document curation dropped only wins when all were dropped
        keys.append(pl.col("curated_out"))
        desc.append(False)
    for rule in rules:
        if rule == "source":
            rank = {s: i for i, s in enumerate(priority)}
            keys.append(pl.col("source").replace_strict(rank, default=len(rank), return_dtype=pl.Int64))
            desc.append(False)
        elif rule == "quality" and "quality_score" in frame.columns:
            keys.append(
                pl.col("quality_score").cast(pl.Float64).fill_null(float("-inf")).fill_nan(float("-inf"))
            )
            desc.append(True)
        elif rule in ("longest", "shortest"):
            keys.append(pl.col("length"))
            desc.append(rule == "longest")
        elif rule in ("oldest", "newest") and "created" in frame.columns:
            # missing dates sort last either way
            keys.append(pl.col("created").is_null())
            desc.append(False)
            keys.append(pl.col("created"))
            desc.append(rule == "newest")
    keys.append(pl.col("id"))
    desc.append(False)
    return keys, desc


def choose_kept(frame: pl.DataFrame, rules: Sequence[str], priority: Sequence[str] = ()) -> pl.DataFrame:
    """Add ``dup_kept`` (bool) and ``kept_row`` (row index of the cluster's kept document).

    ``frame`` needs ``cluster``, ``id``, ``source``, ``length``; optional ``quality_score``, ``created``
    and ``frozen_rank`` (0 = kept earlier, 1 = dropped earlier, 2 = new).
    """
    keys, desc = _sort_keys(frame, rules, priority)
    ordered = frame.with_row_index("_row").sort([pl.col("cluster"), *keys], descending=[False, *desc])
    winners = ordered.filter(pl.col("cluster").is_first_distinct()).select(
        "cluster", pl.col("_row").alias("kept_row")
    )
    out = frame.with_row_index("_row").join(winners, on="cluster", how="left", maintain_order="left")
    return out.with_columns((pl.col("_row") == pl.col("kept_row")).alias("dup_kept")).drop("_row")
