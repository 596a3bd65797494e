"""A document carrying ``<script>alert(1)</script>`` and ``<img src=x onerror=...>`` shows up in the report
as text, and nothing of it runs in the browser; a control page with the same markup unescaped proves the
browser check would see it run. Excerpts are capped: no document is embedded whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from corpuskit.config import load_source_config
from corpuskit.curate.pipeline import curate_source
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.pipeline import dedup_sources
from corpuskit.ingest import ingest
from corpuskit.report import build_report
from tests.support.browser import CHROMIUM, Browser

SCRIPT = "<script>alert(1);window.__pwned=1</script>"
IMG = "<img src=x onerror=\"document.title='pwned';window.__pwned=2\">"
PROBE = """({title: document.title, pwned: window.__pwned || null, imgs: document.images.length,
  scripts: document.scripts.length, text: document.body.innerText})"""
PROSE = (
    "The harbour committee met on Tuesday to discuss the new ferry timetable and the price of the "
    "tickets for the coming summer season, and the members agreed that the town should ask the "
    "ministry for a small grant to repair the old pier before the visitors arrive in June. "
)


def _corpus(tmp_path: Path) -> Path:
    long_tail = "UNIQUE-TAIL " + PROSE * 12  # beyond the excerpt cap: must never reach the page
    docs = [
        {"id": "short", "text": f"{SCRIPT} {IMG}"},  # dropped by curation: shown as a sample of its reason
        {"id": "copy-a", "text": f"{PROSE * 3}{SCRIPT}\n{IMG}\n{PROSE * 2}{long_tail}"},
        {"id": "copy-b", "text": f"{PROSE * 3}{SCRIPT}\n{IMG}\n{PROSE * 2}{long_tail}"},  # exact duplicate
        *[{"id": f"ok-{i}", "text": f"Item {i}. " + PROSE * (2 + i % 3)} for i in range(6)],
    ]
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "evil.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs) + "{not json\n")
    cfg_path = tmp_path / "evil.yaml"
    cfg_path.write_text(
        yaml.safe_dump(
            {
                "name": "evil",
                "kind": "jsonl",
                "inputs": [str(inputs / "evil.jsonl")],
                "output": str(tmp_path / "corpus"),
                "curate": {"filters": ["gopher_quality"]},
            }
        )
    )
    cfg = load_source_config(cfg_path)
    assert not ingest(cfg, workers=1).failed
    curate_source(cfg)
    dedup_sources(tmp_path / "corpus", ["evil"], DedupConfig())
    return tmp_path / "corpus"


def test_planted_markup_is_text_and_nothing_runs(tmp_path: Path) -> None:
    page = build_report(_corpus(tmp_path), out=tmp_path / "report", excerpt_chars=1000)
    html = page.read_text()
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(1);window.__pwned=1&lt;/script&gt;" in html
    assert "UNIQUE-TAIL" not in html, "an excerpt went past its cap"
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install -y chromium): escaping checked, browser not")
    with Browser() as b:
        _, res = b.open_page(page.as_uri(), PROBE)
        _, control = b.open_page((_control(tmp_path)).as_uri(), PROBE)
    assert res.dialogs == [] and res.console_errors == [] and res.exceptions == []
    assert res.probe["pwned"] is None and res.probe["title"] != "pwned"
    assert res.probe["imgs"] == 0 and res.probe["scripts"] == 1  # only the report's own sort script
    shown = res.probe["text"]
    assert SCRIPT in shown and IMG in shown, "the planted markup should be visible as text"
    assert "exact_duplicate" in shown  # the copies are shown side by side too
    # the same markup unescaped does run: the checks above would have caught it
    assert control.dialogs == ["alert: 1"]
    assert control.probe["title"] == "pwned" and control.probe["pwned"] == 2


def _control(tmp_path: Path) -> Path:
    p = tmp_path / "control.html"
    p.write_text(f"<!doctype html><html><head><title>control</title></head><body>{SCRIPT}{IMG}</body></html>")
    return p


def test_chart_labels_from_data_are_escaped_and_never_math() -> None:
    from corpuskit.report.charts import bar_chart

    svg = bar_chart("k", f"title {SCRIPT}", "x", "y", [IMG, "cost $5 or $6"], [1, 2])
    assert "<script" not in svg and "<img" not in svg and "&lt;img src=x" in svg
    assert "cost $5 or $6" in svg  # dollar signs stay text (matplotlib would otherwise parse them as TeX)
