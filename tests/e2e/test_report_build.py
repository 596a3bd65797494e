"""`corpuskit report` without a browser: what it reads, what it tolerates, what it refuses."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.report import build_report


def test_same_outputs_give_the_same_bytes(demo_outputs: Path, tmp_path: Path) -> None:
    d = demo_outputs
    args = {"mixes": [d / "mixes"], "ablations": [d / "ablation"]}
    a = build_report(d / "corpus", out=tmp_path / "a", **args).read_bytes()
    b = build_report(d / "corpus", out=tmp_path / "b", **args).read_bytes()
    assert a == b
    # the demo's own report is the same page
    assert (d / "report" / "index.html").read_bytes() == a


def test_page_is_self_contained_and_shows_every_stage(demo_outputs: Path) -> None:
    html = (demo_outputs / "report" / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html), "no external resource"
    assert "Content-Security-Policy" in html
    for text in (
        "Curation funnel: web",
        "Cross-source near-duplicate overlap",
        "Token shares: books-heavy",
        "Bits per byte per eval set",
        "Training loss per run",
        "Seed noise",
    ):
        assert text in html, text
    summary = json.loads((demo_outputs / "ablation" / "summary.json").read_text())
    for c in summary["comparisons"]:  # the verdicts of the terminal table
        assert f"<td>{c['verdict']}</td>" in html


def test_tolerates_added_fields_and_missing_optional_files(demo_outputs: Path, tmp_path: Path) -> None:
    abl = tmp_path / "ablation"
    shutil.copytree(demo_outputs / "ablation", abl)
    shutil.rmtree(abl / "runs")  # no loss curves
    (abl / "timings.json").unlink()
    summary = json.loads((abl / "summary.json").read_text())
    summary["new_top_level_field"] = {"anything": [1, 2]}
    for m in summary["mixtures"].values():
        m["tokens_per_second_new"] = 123.0
    (abl / "summary.json").write_text(json.dumps(summary))
    empty = tmp_path / "not-run-yet"
    empty.mkdir()
    mix = tmp_path / "mix"
    shutil.copytree(demo_outputs / "mixes" / "balanced", mix)
    manifest = json.loads((mix / "manifest.json").read_text())
    manifest["sources"]["web"]["a_new_count"] = 7
    (mix / "manifest.json").write_text(json.dumps(manifest))
    html = build_report(demo_outputs / "corpus", mixes=[mix], ablations=[abl, empty], out=tmp_path / "r")
    text = html.read_text()
    assert "Training loss per run" not in text and "Bits per byte per eval set" in text
    assert "no summary.json (has `corpuskit ablate` finished there?)" in text
    assert "Token shares: balanced" in text and "Token shares: web-heavy" not in text


def test_cli_writes_the_page_and_prints_its_path(demo_outputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    res = CliRunner().invoke(app, ["report", str(demo_outputs / "corpus"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"report: {out / 'index.html'}" in res.output
    assert (out / "index.html").stat().st_size > 10_000


def test_cli_refuses_missing_inputs_with_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "corpus folder not found" in res.output
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    res = CliRunner().invoke(app, ["report", str(corpus), "--ablation", str(tmp_path / "gone")])
    assert res.exit_code == 2 and "folder not found" in res.output
    assert not (tmp_path / "r").exists()


def test_swarm_regression_and_proposal_are_shown(
    demo_outputs: Path, swarm_ablation: Path, tmp_path: Path
) -> None:
    text = build_report(demo_outputs / "corpus", ablations=[swarm_ablation], out=tmp_path / "r").read_text()
    assert "Swarm: predicted vs measured (ρ = 0.80)" in text
    assert "Proposed mixture: predicted macro BPB 6.4700 (95 % interval 6.4600–6.4800)" in text


def test_an_ingested_only_corpus_gets_notes_for_the_later_stages(tmp_path: Path) -> None:
    import yaml

    from corpuskit.config import load_source_config
    from corpuskit.ingest import ingest

    (tmp_path / "a.jsonl").write_text("".join(json.dumps({"text": f"document {i}"}) + "\n" for i in range(3)))
    cfg = tmp_path / "a.yaml"
    cfg.write_text(yaml.safe_dump({"name": "a", "kind": "jsonl", "inputs": ["a.jsonl"], "output": "corpus"}))
    assert not ingest(load_source_config(cfg), workers=1).failed
    text = build_report(tmp_path / "corpus", out=tmp_path / "r").read_text()
    for line in (
        "No source is curated yet (run `corpuskit curate`).",
        "No source is deduplicated yet (run `corpuskit dedup`).",
        "No mixtures given (--mixes DIR).",
    ):
        assert line in text
    assert "<td>a</td><td>jsonl</td>" in text
