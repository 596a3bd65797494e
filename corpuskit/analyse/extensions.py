"""Sections that curation and dedup add to `corpuskit stats`: each takes a corpus folder, prints its
tables and returns its numbers for the JSON output (or None when that stage has not run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpuskit.progress import results
from corpuskit.store import SourceStore, list_sources


def funnel_section(corpus: Path) -> dict[str, Any] | None:
    from corpuskit.analyse.funnel import funnel_for_source, render_funnel

    out = {}
    for source in list_sources(corpus):
        if not SourceStore(corpus, source).attribute_sets():
            continue
        data = funnel_for_source(corpus, source)
        results.print(render_funnel(data))
        out[source] = data
    return {"funnel": out} if out else None


def overlap_section(corpus: Path) -> dict[str, Any] | None:
    from corpuskit.dedup.overlap import overlap_for_corpus, render_overlap

    data = overlap_for_corpus(corpus)
    if not data:
        return None
    results.print(render_overlap(data))
    return {"overlap": data}
