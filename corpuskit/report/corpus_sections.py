"""The corpus part of the page: sources, curation (funnel, languages, signals, sample drops) and dedup."""

from __future__ import annotations

from typing import Any

import numpy as np

from corpuskit.report import charts as ch
from corpuskit.report.html import Raw, cell, charts, esc, figure, note, pct, section, sub, table


def sources_section(sources: list[dict[str, Any]]) -> str:
    if not sources:
        return section("sources", "Sources", note("No sources in this corpus (run `corpuskit ingest`)."))
    rows = [
        [
            s["source"],
            s.get("kind") or "—",
            cell(s.get("inputs")),
            cell(s.get("documents")),
            cell((s.get("bytes") or 0) / 1e6, 3, "MB"),
            cell(s.get("p50_bytes"), 0, "B"),
            cell(s.get("p90_bytes"), 0, "B"),
            cell(sum(x["count"] for x in s.get("skipped", []))),
            cell(len(s.get("incomplete_inputs", []))),
        ]
        for s in sources
    ]
    cols = [
        "source",
        "kind",
        "inputs",
        "documents",
        "text",
        "median doc",
        "p90 doc",
        "skipped records",
        "failed/missing inputs",
    ]
    parts = [table(cols, rows, "Documents and text bytes per source (UTF-8)")]
    skipped = [
        [
            s["source"],
            x["reason"],
            cell(x["count"]),
            Raw(
                "<br>".join(f"{esc(e.get('file', ''))} — {esc(e.get('record', ''))}" for e in x["examples"])
                or "—"
            ),
        ]
        for s in sources
        for x in s.get("skipped", [])
    ]
    if skipped:
        parts.append(
            table(
                ["source", "reason", "records", "examples (file — record)"],
                skipped,
                "Records skipped at ingest, by reason",
            )
        )
    else:
        parts.append(note("No record was skipped at ingest."))
    incomplete = [[s["source"], line] for s in sources for line in s.get("incomplete_inputs", [])]
    if incomplete:
        parts.append(table(["source", "input"], incomplete, "Inputs that failed or are not ingested yet"))
    return section("sources", "Sources", *parts)


def curation_section(funnels: list[dict[str, Any]]) -> str:
    if not funnels:
        return section("curation", "Curation", note("No source is curated yet (run `corpuskit curate`)."))
    return section("curation", "Curation", *[_source_curation(f) for f in funnels])


def _source_curation(f: dict[str, Any]) -> str:
    name = f["source"]
    stages = [("in", f["documents_in"], f["bytes_in"])]
    stages += [(f"− {st['filter']}", st["dropped"], st["dropped_bytes"]) for st in f.get("stages", [])]
    stages.append(("kept", f["documents_kept"], f["bytes_kept"]))
    profile = f" — rules: {f['rules_profile']}" if f.get("rules_profile") else ""
    figs = [
        figure(
            ch.funnel_chart(f"funnel-{name}", f"Curation funnel: {name}", stages),
            "Each document counts against the first filter that drops it, so the bars add up.",
        )
    ]
    langs = f.get("languages", [])
    if langs:
        figs.append(
            figure(
                ch.bar_chart(
                    f"lang-{name}",
                    f"Languages: {name}",
                    "language (fastText)",
                    "documents",
                    [str(la["lang"]) for la in langs],
                    [la["count"] for la in langs],
                ),
                "Top languages over all documents of the source.",
            )
        )
    for signal, h in f.get("histograms", {}).items():
        total = h.get("all", [])
        kept = h.get("kept", [0] * len(total))
        dropped = [a - k for a, k in zip(total, kept, strict=True)]
        thresholds = f.get("thresholds", {}).get(signal, [])
        figs.append(
            figure(
                ch.histogram_chart(
                    f"hist-{name}-{signal}",
                    f"{signal}: {name}",
                    signal,
                    h["edges"],
                    kept,
                    dropped,
                    thresholds,
                ),
                "Documents per bin, kept vs dropped by curation (any filter)"
                + (
                    "; dashed: the threshold in force."
                    if thresholds
                    else "; no threshold of an active filter."
                ),
            )
        )
    rows = [["in", cell(f["documents_in"]), "100.0 %", cell(f["bytes_in"], unit="B"), "", ""]]
    for st in f.get("stages", []):
        reasons = "; ".join(f"{r['reason']} ({r['count']:,})" for r in st.get("reasons", []))
        rows.append(
            [
                f"− {st['filter']}",
                cell(st["dropped"]),
                Raw(esc(pct(st.get("share")))),
                cell(st["dropped_bytes"], unit="B"),
                cell(st.get("alone")),
                reasons or "—",
            ]
        )
    share = f["documents_kept"] / f["documents_in"] if f["documents_in"] else None
    rows.append(["kept", cell(f["documents_kept"]), pct(share), cell(f["bytes_kept"], unit="B"), "", ""])
    cols = ["stage", "documents", "share", "bytes", "would drop alone", "reasons (documents)"]
    parts = [charts(figs), table(cols, rows, f"Funnel of {name}{profile}"), _samples(f.get("samples", []))]
    return sub(f"{name}", *parts)


def _samples(samples: list[dict[str, Any]]) -> str:
    if not samples:
        return note("No document was dropped by curation.")
    rows = [
        [
            f"{s['filter']}: {s['reason']}",
            Raw(f"<code>{esc(s['id'])}</code><br>{esc(s['locator'])}"),
            Raw(f'<pre class="excerpt">{esc(s["excerpt"])}</pre>'),
            Raw("<br>".join(f"{esc(k)} = {esc(_short(v))}" for k, v in s["signals"].items())),
        ]
        for s in samples
    ]
    return table(
        ["drop reason", "document", "excerpt", "signals"],
        rows,
        "Sample documents per drop reason: is the rule right?",
    )


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def dedup_section(d: dict[str, Any] | None) -> str:
    if d is None:
        return section("dedup", "Dedup", note("No source is deduplicated yet (run `corpuskit dedup`)."))
    parts = []
    figs = []
    ov = d.get("overlap")
    if ov:
        srcs = list(ov["sources"])
        counts = np.array([[ov["near"].get(a, {}).get(b, 0) for b in srcs] for a in srcs], dtype=float)
        docs = np.array([max(1, ov.get("documents", {}).get(a, 0)) for a in srcs], dtype=float)
        figs.append(
            figure(
                ch.heatmap_chart(
                    "overlap", "Cross-source near-duplicate overlap", srcs, counts / docs[:, None], counts
                ),
                "Cell: documents of the row with a near (or exact) duplicate in the column; the "
                "diagonal counts duplicates within a source. Not symmetric.",
            )
        )
        rows = [
            [
                a,
                cell(ov.get("documents", {}).get(a)),
                *[f"{ov['near'][a][b]:,} ({ov['exact'][a][b]:,})" for b in srcs],
            ]
            for a in srcs
        ]
        parts.append(
            table(["source", "documents", *srcs], rows, "Overlap: near (exact) duplicates, row in column")
        )
    else:
        parts.append(note("No overlap matrix stored (corpus/_dedup/overlap.json)."))
    sizes = d.get("sizes", [])
    if sizes and any(s["clusters"] for s in sizes):
        figs.append(
            figure(
                ch.bar_chart(
                    "clusters",
                    "Duplicate cluster sizes",
                    "documents per cluster",
                    "clusters",
                    [s["size"] for s in sizes],
                    [s["clusters"] for s in sizes],
                ),
                "Clusters of two or more documents; each keeps one document.",
            )
        )
    drops = d.get("drops", [])
    if drops:
        parts.append(
            table(
                ["source", "documents", "exact duplicates dropped", "near duplicates dropped"],
                [
                    [r["source"], cell(r["documents"]), cell(r["exact_duplicate"]), cell(r["near_duplicate"])]
                    for r in drops
                ],
                "Dedup decisions per source",
            )
        )
    parts.insert(0, charts(figs))
    pairs = d.get("pairs", [])
    if pairs:
        parts.append("<h3>Near-duplicate pairs (dropped beside kept)</h3>")
        parts += [_pair(p) for p in pairs]
    else:
        parts.append(note("No duplicate was dropped."))
    return section("dedup", "Dedup", *parts)


def _pair(p: dict[str, Any]) -> str:
    j = "Jaccard ≈ —" if p["jaccard"] is None else f"Jaccard ≈ {p['jaccard']:.2f} (MinHash estimate)"
    sides = "".join(
        f"<div><h4>{esc(label)}: {esc(s['source'])} <code>{esc(s['id'])}</code></h4>"
        f'<pre class="excerpt">{esc(s["excerpt"])}</pre></div>'
        for label, s in (("dropped", p["dropped"]), ("kept", p["kept"]))
    )
    return f'<p><strong>{esc(p["reason"])}</strong> — {esc(j)}</p><div class="pair">{sides}</div>'
