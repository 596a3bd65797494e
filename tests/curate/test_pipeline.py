"""curate_source end to end on a small corpus committed through the store: signals, decisions, resume, cheap
threshold changes, --explain, --dry-run, the funnel and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from corpuskit.config import ConfigError, load_source_config
from corpuskit.curate.config import curate_config
from corpuskit.curate.pipeline import SIGNALS_SET, curate_source, explain
from corpuskit.documents import document_id, scan_documents
from tests.support.store import attributes_dir, commit_rows

GOOD = (
    "The history of the small town begins with a group of farmers who settled near the river.\n"
    "They built houses from the stone they found in the hills and planted wheat in the valley.\n"
    "Over the years the market grew, and traders came from distant cities to sell their goods.\n"
    "A school was opened in the old church, and the children learned to read and to write.\n"
    "Today the town is known for its festivals, its bakeries and the quiet beauty of its streets.\n"
    "Visitors who walk along the river in autumn can still see the mill that the settlers used.\n"
)
GERMAN = (
    "Die Geschichte der kleinen Stadt beginnt mit einer Gruppe von Bauern, die sich am Fluss niederließen. "
    "Sie bauten Häuser aus den Steinen, die sie in den Hügeln fanden, und pflanzten Weizen im Tal. "
) * 4


def _docs() -> list[tuple[str, str]]:
    docs = []
    for i in range(6):
        docs.append((f"good-{i}", GOOD.replace("small", f"small{i}")))
    docs.append(("short", "Hello world. This is short."))
    docs.append(("german", GERMAN))
    docs.append(("dup", "\n".join(["This exact sentence is repeated many times on purpose here."] * 10)))
    docs.append(("curly", GOOD + "The function returns { value } to the caller.\n"))
    return docs


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    rows = [
        {"id": document_id("web", loc), "source": "web", "text": text, "locator": loc}
        for loc, text in _docs()
    ]
    commit_rows(corpus, "web", "abc", rows, rows_per_file=4)  # 3 files: resume is per file
    cfg = {"name": "web", "kind": "jsonl", "inputs": ["x.jsonl"], "output": str(corpus)}
    cfg["curate"] = {"langid": {"languages": ["en"]}}
    path = tmp_path / "web.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _ids(*locs: str) -> list[str]:
    return [document_id("web", loc) for loc in locs]


def test_curate_source_decisions_and_funnel(source: Path) -> None:
    cfg = load_source_config(source)
    funnel = curate_source(cfg)
    corpus = Path(cfg.output)
    lf = scan_documents(corpus, "web").select("id", "drop_reason").collect()
    reason = dict(lf.iter_rows())
    good = _ids(*[f"good-{i}" for i in range(6)])
    assert all(reason[i] is None for i in good)
    short, german, dup, curly = _ids("short", "german", "dup", "curly")
    assert reason[german] == "langid:language"
    assert reason[short] == "gopher_repetition:top_2_gram"
    assert reason[dup] == "gopher_repetition:dup_line_frac"
    assert reason[curly] == "c4:curly_bracket"
    assert scan_documents(corpus, "web", kept_only=True).collect().height == 6
    # funnel: stages add up, examples are real ids, JSON written
    assert funnel["documents_in"] == 10 and funnel["documents_kept"] == 6
    assert sum(s["dropped"] for s in funnel["stages"]) == 4
    stage = {s["filter"]: s for s in funnel["stages"]}
    assert stage["langid"]["examples"] == [german]
    assert stage["c4"]["reasons"][0]["reason"] == "curly_bracket"
    assert {la["lang"] for la in funnel["languages"]} == {"en", "de"}
    assert funnel["histograms"]["gopher_words"]["kept"]
    on_disk = json.loads((corpus / "web" / "funnel.json").read_text())
    assert on_disk["documents_kept"] == 6


def test_resume_and_threshold_change_do_not_recompute_signals(source: Path) -> None:
    cfg = load_source_config(source)
    first = curate_source(cfg)
    assert first["run"]["computed"] == 3 and first["run"]["skipped"] == 0
    sdir = attributes_dir(Path(cfg.output), "web", SIGNALS_SET)
    mtimes = {p.name: p.stat().st_mtime_ns for p in sdir.glob("part-*.parquet")}
    # a crashed run: one signals file missing -> only that file is recomputed
    victim = sorted(sdir.glob("part-*.parquet"))[1]
    victim.unlink()
    again = curate_source(cfg)
    assert again["run"]["computed"] == 1 and again["run"]["skipped"] == 2
    # a threshold change re-applies rules only
    data = yaml.safe_load(source.read_text())
    data["curate"]["gopher_repetition"] = {"top_n_grams": {2: 0.9, 3: 0.9, 4: 0.9}}
    data["curate"]["gopher_quality"] = {"min_doc_words": None}
    data["curate"]["c4"] = {"min_num_sentences": 1}
    data["curate"]["filters"] = ["gopher_repetition", "c4"]
    source.write_text(yaml.safe_dump(data))
    changed = curate_source(load_source_config(source))
    assert changed["run"]["computed"] == 0
    for p in sdir.glob("part-*.parquet"):
        if p.name != victim.name:
            assert p.stat().st_mtime_ns == mtimes[p.name]
    short = _ids("short")[0]
    dec = pl.read_parquet(attributes_dir(Path(cfg.output), "web", "curate") / "*.parquet")
    assert dec.filter(pl.col("id") == short)["curate_drop_reason"].item() is None
    assert changed["documents_kept"] == 7
    # a signal parameter change recomputes everything
    data["curate"]["signals"] = {"fineweb_short_line_length": 20}
    source.write_text(yaml.safe_dump(data))
    assert curate_source(load_source_config(source))["run"]["computed"] == 3


def test_dry_run_writes_no_decisions_and_explain(source: Path) -> None:
    cfg = load_source_config(source)
    funnel = curate_source(cfg, dry_run=True)
    corpus = Path(cfg.output)
    assert funnel["documents_kept"] == 6
    assert not attributes_dir(corpus, "web", "curate").exists()
    got = explain(corpus, "web", _ids("curly")[0], curate_config(cfg))
    assert got["drop_reason"] == "c4:curly_bracket"
    c4 = next(f for f in got["filters"] if f["filter"] == "c4")
    assert c4["signals"]["c4_curly_line"] == 6 and c4["thresholds"]["filter_curly_bracket"] is True
    assert explain(corpus, "web", "nope", curate_config(cfg)) is None


def test_config_errors_are_located(tmp_path: Path, source: Path) -> None:
    data = yaml.safe_load(source.read_text())
    data["curate"] = {"gopher_quality": {"min_doc_wordz": 3}, "filters": ["c5"]}
    source.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as e:
        curate_config(load_source_config(source))
    msg = str(e.value)
    assert "curate.gopher_quality.min_doc_wordz" in msg and "curate.filters.0" in msg
    data["curate"] = {"langid": {"model": "missing.ftz"}}
    source.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="curate.langid.model"):
        curate_config(load_source_config(source))


def test_cli_curate_explain_and_bad_config(source: Path) -> None:
    from corpuskit.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["curate", str(source)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["curate", str(source), "--explain", _ids("german")[0]])
    assert res.exit_code == 0 and "langid:language" in res.output
    data = yaml.safe_load(source.read_text())
    data["curate"] = {"fineweb": {"line_punct_thr": "high"}}
    source.write_text(yaml.safe_dump(data))
    res = runner.invoke(app, ["curate", str(source)])
    assert res.exit_code == 2 and "curate.fineweb.line_punct_thr" in res.output


def test_cli_curates_several_sources_in_one_command(source: Path) -> None:
    """One StageRun serves every source of the command; each gets its own funnel and summary row."""
    from corpuskit.cli import app

    data = yaml.safe_load(source.read_text())
    rows = [{"id": document_id("news", k), "source": "news", "text": t, "locator": k} for k, t in _docs()]
    commit_rows(Path(data["output"]), "news", "abc", rows, rows_per_file=5)
    other = source.with_name("news.yaml")
    other.write_text(yaml.safe_dump({**data, "name": "news"}))
    res = CliRunner().invoke(app, ["curate", str(source), str(other), "--workers", "2", "--json", "-"])
    assert res.exit_code == 0, res.output
    funnels = json.loads(res.stdout[res.stdout.index("{") :])["sources"]
    assert sorted(funnels) == ["news", "web"]
    assert [funnels[s]["run"]["computed"] for s in ("web", "news")] == [3, 2]
    assert funnels["news"]["run"]["workers"] == 2


def test_real_books_and_posts(tmp_path: Path, shared_data: Path) -> None:
    """Real text: English book chunks pass the English rules, a Chinese book is dropped by language,
    Stack Exchange posts (short) mostly fall to the word-count rules."""
    import html
    import re

    corpus = tmp_path / "corpus"
    en = (shared_data / "books" / "en_carroll_alice_pg11.txt").read_text(encoding="utf-8-sig")
    zh = (shared_data / "books" / "zh_wu_chengen_journey_to_the_west_pg23962.txt").read_text(encoding="utf-8")
    posts = (shared_data / "forums" / "stackexchange" / "coffee.stackexchange.com_Posts.xml").read_text()
    texts = [("en", en[20_000 + i * 5000 : 25_000 + i * 5000]) for i in range(10)]
    texts += [("zh", zh[50_000 + i * 3000 : 53_000 + i * 3000]) for i in range(5)]
    bodies = re.findall(r'Body="([^"]*)"', posts)[:20]
    texts += [("se", re.sub(r"<[^>]+>", "", html.unescape(b))) for b in bodies]
    rows = [
        {"id": document_id("real", f"{kind}{i}"), "source": "real", "text": text, "locator": f"{kind}{i}"}
        for i, (kind, text) in enumerate(texts)
    ]
    commit_rows(corpus, "real", "r", rows)
    cfg = tmp_path / "real.yaml"
    body = {"name": "real", "kind": "jsonl", "inputs": ["x"], "output": str(corpus)}
    body["curate"] = {"langid": {"languages": ["en"]}, "filters": ["gopher_repetition", "c4"]}
    cfg.write_text(yaml.safe_dump(body))
    curate_source(load_source_config(cfg))
    df = scan_documents(corpus, "real").select("locator", "drop_reason", "lang").collect()
    kind = df["locator"].str.slice(0, 2)
    en_rows = df.filter(kind == "en")
    assert (en_rows["lang"] == "en").all() and en_rows["drop_reason"].null_count() >= 8
    assert (df.filter(kind == "zh")["drop_reason"] == "langid:language").all()
    assert df.filter(kind == "se")["drop_reason"].null_count() < 20


@pytest.mark.parametrize("enabled", [True, False])
def test_signal_frame_runs_without_cyclic_gc_and_restores_it(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    import gc

    from corpuskit.curate import pipeline
    from corpuskit.curate.config import CurateConfig

    seen = []
    real = pipeline.quality_signals
    monkeypatch.setattr(pipeline, "quality_signals", lambda t, p: seen.append(gc.isenabled()) or real(t, p))
    (gc.enable if enabled else gc.disable)()
    try:
        frame = pipeline.signal_frame([GOOD, ""], CurateConfig(langid=None))
        assert (seen, gc.isenabled(), frame.height) == ([False], enabled, 2)
    finally:
        gc.enable()
