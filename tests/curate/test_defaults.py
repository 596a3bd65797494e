"""Curation defaults follow the kind of source: a Gutenberg source with no `curate:` section keeps its
books (the web rules would drop them all), and a stage that drops nearly everything says so."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.config import load_source_config
from corpuskit.curate.config import curate_config
from corpuskit.curate.pipeline import curate_source
from corpuskit.ingest import ingest

BOOKS = [
    "en_carroll_alice_pg11.txt",
    "de_carroll_alice_pg19778.txt",
    "en_austen_pride_and_prejudice_pg1342.txt",
]


def books_source(tmp_path: Path, shared_data: Path, extra: str = "") -> Path:
    (tmp_path / "books").mkdir()
    for b in BOOKS:
        shutil.copy(shared_data / "books" / b, tmp_path / "books" / b)
    cfg = tmp_path / "books.yaml"
    cfg.write_text(f"name: books\nkind: gutenberg\ninputs: ['books/*.txt']\noutput: corpus\n{extra}")
    return cfg


def test_books_without_a_curate_section_keep_their_books(tmp_path, shared_data):
    cfg = load_source_config(books_source(tmp_path, shared_data))
    assert curate_config(cfg).filters == ["gopher_repetition"] and curate_config(cfg).langid.languages is None
    ingest(cfg, workers=1)
    funnel = curate_source(cfg)
    assert funnel["documents_kept"] == 3 and funnel["rules_profile"].startswith("books defaults")


def test_a_section_overrides_only_what_it_names(tmp_path, shared_data):
    cfg = load_source_config(books_source(tmp_path, shared_data, "curate: {langid: {languages: [en]}}\n"))
    cc = curate_config(cfg)
    assert (
        cc.langid.languages == ["en"] and cc.langid.min_score == 0.5 and cc.filters == ["gopher_repetition"]
    )


def test_dropping_nearly_everything_is_said_loudly(tmp_path, shared_data):
    extra = "curate: {filters: [gopher_quality, c4, fineweb], langid: {languages: [en], min_score: 0.65}}\n"
    cfg = books_source(tmp_path, shared_data, extra)  # the web rules on books
    assert CliRunner().invoke(app, ["ingest", str(cfg), "--workers", "1"]).exit_code == 0
    res = CliRunner().invoke(app, ["curate", str(cfg)])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.output and "kept only 0 of 3" in " ".join(res.output.split())
