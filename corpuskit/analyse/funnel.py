"""Per-source curation funnel: what came in, what each filter dropped (and why), what was kept.

Drops are attributed like a datatrove pipeline: a document counts against the *first* filter (in decision
order) that drops it, so the stages add up to documents in minus documents kept; ``alone`` also counts
what each filter would drop on its own. Everything is plain JSON for later plotting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from corpuskit.store import CURATE, SIGNALS, SourceStore, current_attribute_files, document_files

EXAMPLES = 3
TOP_LANGUAGES = 15
# signal -> histogram bin edges (fixed, so histograms of different sources and runs compare)
HISTOGRAMS: dict[str, list[float]] = {
    "gopher_words": [0, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 100_000, float("inf")],
    "gopher_mean_word_length": [0, 2, 3, 4, 5, 6, 7, 8, 10, 15, float("inf")],
    "gopher_alpha_words_ratio": [i / 10 for i in range(11)],
    "gopher_dup_line_frac": [i / 10 for i in range(11)],
    "fineweb_line_punct_ratio": [i / 10 for i in range(11)],
    "lang_score": [i / 10 for i in range(11)],
    "quality_score": [i / 10 for i in range(11)],
}


def _read_set(corpus: Path, source: str, name: str, columns: list[str] | None = None) -> pl.DataFrame | None:
    files = list(current_attribute_files(corpus, source, name).values())
    if not files:
        return None
    lf = pl.scan_parquet(files)
    if columns is not None:
        have = lf.collect_schema().names()
        lf = lf.select([c for c in columns if c in have])
    return lf.collect()


def funnel_for_source(
    corpus: Path | str,
    source: str,
    *,
    decisions: pl.DataFrame | None = None,
    filters: list[str] | None = None,
) -> dict[str, Any]:
    """The funnel of one source as a JSON-ready dict (decisions from the ``curate`` set unless given)."""
    corpus = Path(corpus)
    files = document_files(corpus, source)
    docs = (
        pl.scan_parquet(files).select("id", pl.col("text").str.len_bytes().alias("bytes")).collect()
        if files
        else pl.DataFrame(schema={"id": pl.String, "bytes": pl.UInt32})
    )
    if decisions is None:
        decisions = _read_set(corpus, source, CURATE)
    if filters is None:
        meta = SourceStore(corpus, source).summary("curate.json")
        if meta.exists():
            filters = json.loads(meta.read_text()).get("filters")
        elif decisions is not None:
            filters = [
                c[: -len("_reason")]
                for c in decisions.columns
                if c.endswith("_reason") and c != "curate_drop_reason"
            ]
    filters = filters or []
    out: dict[str, Any] = {
        "source": source,
        "documents_in": docs.height,
        "bytes_in": int(docs["bytes"].sum() or 0),
        "filters": filters,
    }
    if decisions is None:
        out.update(stages=[], documents_kept=docs.height, bytes_kept=out["bytes_in"], curated=False)
    else:
        df = docs.join(decisions, on="id", how="left")
        reason = pl.col("curate_drop_reason")
        stage_of = reason.str.split_exact(":", 1).struct.field("field_0")
        df = df.with_columns(stage_of.alias("_stage"))
        stages = []
        for name in filters:
            sub = df.filter(pl.col("_stage") == name)
            col = f"{name}_reason"
            reasons = (
                sub.group_by(reason)
                .agg(pl.len().alias("n"), pl.col("id").sort().head(EXAMPLES).alias("ex"))
                .sort(["n", "curate_drop_reason"], descending=[True, False])
            )
            stages.append(
                {
                    "filter": name,
                    "dropped": sub.height,
                    "dropped_bytes": int(sub["bytes"].sum() or 0),
                    "share": sub.height / docs.height if docs.height else 0.0,
                    "alone": int(df[col].is_not_null().sum()) if col in df.columns else None,
                    "examples": sub["id"].sort().head(EXAMPLES).to_list(),
                    "reasons": [
                        {"reason": r.split(":", 1)[1], "count": n, "examples": ex}
                        for r, n, ex in reasons.iter_rows()
                    ],
                }
            )
        kept = df.filter(reason.is_null())
        out.update(
            stages=stages,
            documents_kept=kept.height,
            bytes_kept=int(kept["bytes"].sum() or 0),
            curated=True,
        )
    out.update(_signal_stats(corpus, source, decisions))
    return out


def _signal_stats(corpus: Path, source: str, decisions: pl.DataFrame | None) -> dict[str, Any]:
    sig = _read_set(corpus, source, SIGNALS, ["id", "lang", *HISTOGRAMS])
    if sig is None:
        return {"languages": [], "histograms": {}}
    langs: list[dict[str, Any]] = []
    if "lang" in sig.columns:
        counts = sig.group_by("lang").agg(pl.len().alias("n")).sort(["n", "lang"], descending=[True, False])
        total = sig.height
        langs = [
            {"lang": la, "count": n, "share": n / total if total else 0.0}
            for la, n in counts.head(TOP_LANGUAGES).iter_rows()
        ]
    kept_ids = None
    if decisions is not None:
        kept_ids = decisions.filter(pl.col("curate_drop_reason").is_null()).select("id")
    hists = {}
    for col, edges in HISTOGRAMS.items():
        if col not in sig.columns:
            continue
        values = sig[col].drop_nulls().to_numpy()
        entry = {"edges": edges, "all": np.histogram(values, bins=edges)[0].tolist()}
        if kept_ids is not None:
            kept_vals = sig.join(kept_ids, on="id", how="semi")[col].drop_nulls().to_numpy()
            entry["kept"] = np.histogram(kept_vals, bins=edges)[0].tolist()
        hists[col] = entry
    return {"languages": langs, "histograms": hists}


def _bar(n: int, peak: int, width: int = 24) -> str:
    return "█" * (round(width * n / peak) if peak else 0)


def _edge(x: float) -> str:
    return "∞" if x == float("inf") else (f"{x:g}" if x < 1000 else f"{x / 1000:g}k")


def render_funnel(data: dict[str, Any]) -> Group:
    """Rich rendering: the funnel table, the language distribution and one histogram per key signal."""
    n_in = data["documents_in"]
    title = f"curation funnel: {data['source']}" + ("" if data.get("curated", True) else " (not curated yet)")
    if data.get("rules_profile"):
        title += f" — rules: {data['rules_profile']}"
    t = Table(title=title, title_justify="left")
    for c, j in [("stage", "left"), ("documents", "right"), ("share", "right"), ("bytes", "right")]:
        t.add_column(c, justify=j)
    t.add_column("top reasons (examples)")
    t.add_row("in", f"{n_in:,}", "100%", f"{data['bytes_in']:,}", "")
    for st in data.get("stages", []):
        reasons = "; ".join(
            f"{r['reason']} {r['count']:,} ({', '.join(e[:10] for e in r['examples'][:2])})"
            for r in st["reasons"][:3]
        )
        t.add_row(
            f"− {st['filter']}",
            f"{st['dropped']:,}",
            f"{st['share']:.1%}",
            f"{st['dropped_bytes']:,}",
            reasons,
        )
    kept_share = data["documents_kept"] / n_in if n_in else 0.0
    t.add_row(
        "kept",
        f"{data['documents_kept']:,}",
        f"{kept_share:.1%}",
        f"{data['bytes_kept']:,}",
        "",
        style="bold",
    )
    parts: list[Any] = [t]
    if data.get("languages"):
        lt = Table(title="languages (all documents)", title_justify="left")
        lt.add_column("lang")
        lt.add_column("documents", justify="right")
        lt.add_column("share", justify="right")
        for la in data["languages"]:
            lt.add_row(str(la["lang"]), f"{la['count']:,}", f"{la['share']:.1%}")
        parts.append(lt)
    for col, h in data.get("histograms", {}).items():
        ht = Table(title=f"{col} (all | kept)", title_justify="left", show_header=False, box=None)
        peak = max(h["all"]) if h["all"] else 0
        kept = h.get("kept", [None] * len(h["all"]))
        for i, n in enumerate(h["all"]):
            label = f"[{_edge(h['edges'][i])}, {_edge(h['edges'][i + 1])})"
            k = "" if kept[i] is None else f"{kept[i]:,}"
            ht.add_row(label, f"{n:,}", Text(_bar(n, peak), style="cyan"), k)
        parts.append(ht)
    return Group(*parts)
