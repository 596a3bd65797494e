"""What the report shows of a corpus's sources and their curation, read from what ingest and curate stored
(manifests, commit records, the ``signals`` and ``curate`` attribute sets); nothing is recomputed.

Document text leaves here only as an excerpt of at most ``excerpt_chars`` characters, so a report can be
shared without shipping the corpus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from corpuskit.analyse.funnel import funnel_for_source
from corpuskit.analyse.stats import source_stats
from corpuskit.store import CURATE, SIGNALS, SourceStore, list_sources, read_json, scan_documents

EXAMPLE_LIMIT = 5  # skipped-record examples per reason
# which stored signals explain a filter's drops (shown beside each sample document)
FILTER_SIGNALS = {
    "langid": ("lang",),
    "gopher_quality": ("gopher_",),
    "gopher_repetition": ("gopher_dup", "gopher_top"),
    "c4": ("c4_",),
    "fineweb": ("fineweb_",),
    "quality": ("quality_",),
}
# histogram signal -> the (filter, threshold key) pairs of curate.json that cut it
THRESHOLDS = {
    "gopher_words": [("gopher_quality", "min_doc_words"), ("gopher_quality", "max_doc_words")],
    "gopher_mean_word_length": [
        ("gopher_quality", "min_avg_word_length"),
        ("gopher_quality", "max_avg_word_length"),
    ],
    # datatrove compares the alphabetic-word ratio with max_non_alpha_words_ratio; so does rules.py
    "gopher_alpha_words_ratio": [("gopher_quality", "max_non_alpha_words_ratio")],
    "gopher_dup_line_frac": [("gopher_repetition", "dup_line_frac")],
    "fineweb_line_punct_ratio": [("fineweb", "line_punct_thr")],
    "lang_score": [("langid", "min_score")],
    "quality_score": [("quality", "min_score")],
}


def excerpt(text: str | None, limit: int) -> str:
    """The first ``limit`` characters, saying how long the whole text is when cut."""
    text = text or ""
    return text if len(text) <= limit else f"{text[:limit]} … [{len(text):,} characters in all]"


def gather_sources(corpus: Path) -> list[dict[str, Any]]:
    """Per source: kind, inputs, documents, bytes, skipped records by reason with (file, record) examples."""
    out = []
    for name in list_sources(corpus):
        stats = source_stats(corpus, name)
        manifest = read_json(SourceStore(corpus, name).manifest)
        examples = manifest.get("error_examples", []) if isinstance(manifest, dict) else []
        by_reason: dict[str, list[dict[str, str]]] = {}
        for ex in examples if isinstance(examples, list) else []:
            if isinstance(ex, dict):
                by_reason.setdefault(str(ex.get("reason", "")), []).append(ex)
        stats["skipped"] = [
            {"reason": r, "count": n, "examples": by_reason.get(r, [])[:EXAMPLE_LIMIT]}
            for r, n in stats["errors_by_reason"].items()
        ]
        out.append(stats)
    return out


def gather_curation(corpus: Path, *, excerpt_chars: int, samples: int) -> list[dict[str, Any]]:
    """Per curated source: the funnel, languages, signal histograms with thresholds, sample drops."""
    out = []
    for name in list_sources(corpus):
        store = SourceStore(corpus, name)
        if CURATE not in store.attribute_sets():
            continue
        funnel = funnel_for_source(corpus, name)
        meta = read_json(store.summary("curate.json"))
        thresholds = meta.get("thresholds", {}) if isinstance(meta, dict) else {}
        funnel["thresholds"] = {
            signal: [
                (f"{f}.{k}", float(thresholds[f][k]))
                for f, k in pairs
                if f in funnel["filters"] and isinstance(thresholds.get(f, {}).get(k), int | float)
            ]
            for signal, pairs in THRESHOLDS.items()
        }
        funnel["rules_profile"] = meta.get("rules_profile") if isinstance(meta, dict) else None
        funnel["samples"] = _samples(corpus, name, funnel, excerpt_chars, samples)
        out.append(funnel)
    return out


def _samples(
    corpus: Path, source: str, funnel: dict[str, Any], excerpt_chars: int, per_reason: int
) -> list[dict[str, Any]]:
    """For each drop reason, its first ``per_reason`` example documents: excerpt and the filter's signals."""
    wanted = [
        (st["filter"], r["reason"], doc_id)
        for st in funnel.get("stages", [])
        for r in st.get("reasons", [])
        for doc_id in r.get("examples", [])[:per_reason]
    ]
    if not wanted:
        return []
    ids = sorted({w[2] for w in wanted})
    lf = scan_documents(corpus, source, attributes=[SIGNALS]).filter(pl.col("id").is_in(ids))
    rows = {r["id"]: r for r in lf.collect().iter_rows(named=True)}
    out = []
    for flt, reason, doc_id in wanted:
        row = rows.get(doc_id)
        if row is None:
            continue
        prefixes = FILTER_SIGNALS.get(flt, (flt,))
        signals = {
            k: v
            for k, v in row.items()
            if v is not None
            and (k == "n_chars" or k.startswith(prefixes))
            and isinstance(v, int | float | str)
        }
        out.append(
            {
                "filter": flt,
                "reason": reason,
                "id": doc_id,
                "locator": row.get("locator") or "",
                "excerpt": excerpt(row.get("text"), excerpt_chars),
                "signals": json.loads(json.dumps(signals, default=str)),
            }
        )
    return out
