"""Why was this document dropped? Every rule of every filter evaluated on one document's stored signals."""

from __future__ import annotations

from typing import Any

import polars as pl

from corpuskit.curate.config import CurateConfig

# which signal columns belong to which filter (for display)
_COLUMNS = {
    "langid": lambda c: c.startswith("lang"),
    "gopher_quality": lambda c: c.startswith("gopher_") and not c.startswith(("gopher_dup_", "gopher_top_")),
    "gopher_repetition": lambda c: c.startswith(("gopher_dup_", "gopher_top_")) or c == "n_chars",
    "c4": lambda c: c.startswith("c4_"),
    "fineweb": lambda c: c.startswith("fineweb_"),
    "quality": lambda c: c == "quality_score",
}


def explain_row(row: pl.DataFrame, cc: CurateConfig, *, source: str, file: str) -> dict[str, Any]:
    """``row``: one row of the ``signals`` attribute set. The first triggered rule of the first filter (in
    decision order) is the document's drop reason."""
    thresholds = cc.thresholds()
    filters = []
    decision = None
    for name, rules in cc.rules().items():
        verdicts = row.select([cond.alias(reason) for reason, cond in rules]).row(0, named=True)
        first = next((r for r, hit in verdicts.items() if hit), None)
        if first and decision is None:
            decision = f"{name}:{first}"
        cols = [c for c in row.columns if _COLUMNS[name](c)]
        filters.append(
            {
                "filter": name,
                "reason": first,
                "rules": [{"rule": r, "triggered": bool(hit)} for r, hit in verdicts.items()],
                "signals": {c: _plain(row[c][0]) for c in cols},
                "thresholds": thresholds.get(name, {}),
            }
        )
    return {"id": row["id"][0], "source": source, "file": file, "drop_reason": decision, "filters": filters}


def _plain(v: Any) -> Any:
    if isinstance(v, pl.Series):
        return v.to_list()
    return round(v, 6) if isinstance(v, float) else v
