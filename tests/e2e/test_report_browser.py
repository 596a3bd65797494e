"""`corpuskit report` on the demo's outputs, opened in headless Chromium: no console error, no failed or
non-local load, every chart drawn, tables sort, nothing wider than a phone; screenshots kept as artifacts
(in ``$CORPUSKIT_ARTIFACTS`` when set, else the test's tmp folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, Browser

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium); .ci/run installs it"
)

PROBE = """(() => {
  const figs = [...document.querySelectorAll("figure.chart")];
  const drawn = figs.filter(f => {
    const svg = f.querySelector("svg"); if (!svg) return false;
    const r = svg.getBoundingClientRect();
    return r.width > 50 && r.height > 50 && svg.querySelectorAll("path, text, use, image").length > 5;
  });
  const sections = [...document.querySelectorAll("main > section")].map(s => s.id);
  const notes = [...document.querySelectorAll("p.note")].map(p => p.textContent);
  return {figures: figs.length, drawn: drawn.length, sections, notes,
          width: document.documentElement.scrollWidth, tables: document.querySelectorAll("table").length};
})()"""

SORT = """(() => {
  const t = [...document.querySelectorAll("#sources table")][0];
  const col = [...t.tHead.rows[0].cells].findIndex(c => c.textContent.startsWith("documents"));
  const values = () => [...t.tBodies[0].rows].map(r => parseFloat(r.cells[col].dataset.v));
  t.tHead.rows[0].cells[col].click();
  const up = values();
  t.tHead.rows[0].cells[col].click();
  return {up, down: values()};
})()"""


@pytest.fixture()
def demo_report(demo_outputs: Path) -> Path:
    return demo_outputs / "report" / "index.html"


def _artifacts(tmp_path: Path) -> Path:
    root = Path(os.environ.get("CORPUSKIT_ARTIFACTS") or tmp_path) / "report"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _clean(res) -> None:
    assert res.console_errors == [], res.console_errors
    assert res.exceptions == [], res.exceptions
    assert res.failed_requests == [], res.failed_requests
    assert res.dialogs == [], res.dialogs
    foreign = [u for u in res.requests if not u.startswith(("file:", "data:"))]
    assert foreign == [], f"the report loaded something from the network: {foreign}"


def test_demo_report_renders_in_chromium(demo_report: Path, tmp_path: Path) -> None:
    assert demo_report.name == "index.html" and demo_report.is_file()
    shots = _artifacts(tmp_path)
    with Browser() as b:
        session, res = b.open_page(demo_report.as_uri(), PROBE)
        b.screenshot(session, shots / "report-1280.png")
        b.screenshot(session, shots / "report-1280-full.png", full_page=True)
        _clean(res)
        info = res.probe
        assert info["sections"] == ["sources", "curation", "dedup", "mixtures", "ablation"]
        # 3 sources × (funnel, languages, histograms), heatmap, cluster sizes, 3 mixtures, BPB, curves
        assert info["figures"] >= 3 * 3 + 2 + 3 + 2
        assert info["drawn"] == info["figures"], info
        assert info["width"] <= 1280
        _, sort = b.open_page(demo_report.as_uri(), SORT)
        assert (
            sort.probe["up"] == sorted(sort.probe["up"])
            and sort.probe["down"] == sorted(sort.probe["up"])[::-1]
        )
        assert len(set(sort.probe["up"])) > 1
        session, phone = b.open_page(demo_report.as_uri(), PROBE, width=390, height=844, mobile=True)
        b.screenshot(session, shots / "report-390.png")
        _clean(phone)
        assert phone.probe["drawn"] == phone.probe["figures"]
        assert phone.probe["width"] <= 390, "the page scrolls sideways on a phone"
    for name in ("report-1280.png", "report-1280-full.png", "report-390.png"):
        assert (shots / name).stat().st_size > 10_000


def test_report_skips_absent_sections_with_a_note(demo_report: Path, tmp_path: Path) -> None:
    from corpuskit.report import build_report

    corpus = demo_report.parent.parent / "corpus"
    page = build_report(corpus, out=tmp_path / "r")
    with Browser() as b:
        _, res = b.open_page(page.as_uri(), PROBE)
    _clean(res)
    assert res.probe["drawn"] == res.probe["figures"] > 0
    assert "No mixtures given (--mixes DIR)." in res.probe["notes"]
    assert "No ablation given (--ablation DIR)." in res.probe["notes"]


def test_swarm_plot_renders(demo_outputs: Path, swarm_ablation: Path, tmp_path: Path) -> None:
    from corpuskit.report import build_report

    page = build_report(demo_outputs / "corpus", ablations=[swarm_ablation], out=tmp_path / "r")
    with Browser() as b:
        session, res = b.open_page(page.as_uri(), PROBE)
        b.screenshot(session, _artifacts(tmp_path) / "report-swarm-full.png", full_page=True)
    _clean(res)
    assert res.probe["drawn"] == res.probe["figures"]
