"""Looking at the data on real Stack Exchange threads: `show` selects and samples documents with their
signals and decisions; `curate --explain` takes the id prefix the funnel prints and shows the text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpuskit.cli import app


@pytest.fixture(scope="module")
def curated(tmp_path_factory, shared_data) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("show")
    (root / "dump").mkdir()
    shutil.copy(
        shared_data / "forums/stackexchange/coffee.stackexchange.com_Posts.xml", root / "dump/Posts.xml"
    )
    cfg = root / "forums.yaml"
    cfg.write_text(
        "name: forums\nkind: stackexchange\ninputs: [dump]\noutput: corpus\n"
        "options: {site: coffee.stackexchange.com}\ncurate: {gopher_quality: {min_doc_words: 80}}\n"
    )
    for cmd in (["ingest", str(cfg), "--workers", "1"], ["curate", str(cfg)]):
        res = CliRunner().invoke(app, cmd)
        assert res.exit_code == 0, res.output
    return root / "corpus", cfg


def show(corpus: Path, *args: str) -> str:
    res = CliRunner().invoke(app, ["show", str(corpus), "forums", *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_show_dropped_by_a_rule_with_their_signals(curated):
    corpus, _ = curated
    out = show(corpus, "--dropped-by", "gopher_quality", "--sample", "3", "--json")
    docs = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert len(docs) == 3
    assert all(d["drop_reason"].startswith("gopher_quality:") for d in docs)
    assert all("gopher_words" in d and d["text"] for d in docs)
    again = json.loads(show(corpus, "--dropped-by", "gopher_quality", "--sample", "3", "--json"))
    assert [d["id"] for d in again] == [d["id"] for d in docs]  # same seed, same sample
    other = json.loads(
        show(corpus, "--dropped-by", "gopher_quality", "--sample", "3", "--seed", "1", "--json")
    )
    assert [d["id"] for d in other] != [d["id"] for d in docs]


def test_show_kept_and_by_id_prefix(curated):
    corpus, _ = curated
    kept = json.loads(show(corpus, "--kept", "--sample", "2", "--json"))
    assert len(kept) == 2 and all(d["drop_reason"] is None for d in kept)
    text = show(corpus, "--id", kept[0]["id"][:10])
    assert kept[0]["id"] in text and "→ kept" in text


def test_explain_accepts_the_funnels_id_prefix_and_shows_the_text(curated):
    corpus, cfg = curated
    (doc,) = json.loads(show(corpus, "--dropped-by", "gopher_quality", "--sample", "1", "--json"))
    res = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["curate", str(cfg), "--explain", doc["id"][:10]])
    assert res.exit_code == 0, res.output
    assert doc["id"] in res.output and doc["drop_reason"] in res.output
    assert doc["text"][:40].split("\n")[0] in res.output
