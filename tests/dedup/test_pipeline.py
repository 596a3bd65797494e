"""dedup_sources over a corpus: decisions, keep policy, incremental runs, overlap matrix, config errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from corpuskit.config import ConfigError
from corpuskit.dedup.commands import register
from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.overlap import overlap_for_corpus, render_overlap
from corpuskit.dedup.pipeline import dedup_sources
from corpuskit.documents import document_id, scan_documents
from tests.support.store import attach, attributes_dir, commit_rows, documents_dir


def _para(i: int, n: int = 60) -> str:
    return " ".join(f"tok{i}x{j}" for j in range(n))


def write_source(corpus: Path, source: str, texts: list[str], created=None, key: str = "k0") -> list[str]:
    ids, rows = [], []
    for i, t in enumerate(texts):
        did = document_id(source, f"{key}#{i}")
        ids.append(did)
        rows.append(
            {
                "id": did,
                "source": source,
                "text": t,
                "locator": f"{key}#{i}",
                "created": (created or {}).get(i),
            }
        )
    commit_rows(corpus, source, key, rows, rows_per_file=4)
    return ids


def frame(corpus: Path, source: str) -> pl.DataFrame:
    return scan_documents(corpus, source, attributes=["dedup"]).collect()


def test_exact_and_near_decisions_and_overlap(tmp_path):
    base = [_para(i) for i in range(6)]
    near = base[1].replace("tok1x30", "changed")  # 5 of 56 shingles differ: J ~ 0.84
    a_ids = write_source(tmp_path, "a", base)
    b_ids = write_source(tmp_path, "b", [base[0].upper(), near, _para(100), _para(101), ""])
    res = dedup_sources(tmp_path, ["a", "b"], load_dedup_config({}))
    fa, fb = frame(tmp_path, "a"), frame(tmp_path, "b")
    assert fa["dup_kept"].all()  # a comes first: default source priority is the order given
    rows = {r["id"]: r for r in fb.iter_rows(named=True)}
    assert (
        rows[b_ids[0]]["dedup_drop_reason"] == "exact_duplicate" and rows[b_ids[0]]["dup_cluster"] == a_ids[0]
    )
    assert (
        rows[b_ids[1]]["dedup_drop_reason"] == "near_duplicate" and rows[b_ids[1]]["dup_cluster"] == a_ids[1]
    )
    assert rows[b_ids[1]]["dup_cluster_size"] == 2
    assert rows[b_ids[4]]["dup_kept"] and rows[b_ids[4]]["dup_cluster_size"] == 1  # empty text stays alone
    kept_b = scan_documents(tmp_path, "b", kept_only=True).collect()
    assert kept_b.height == 3
    assert res.per_source["b"]["exact_duplicate"] == 1 and res.per_source["b"]["near_duplicate"] == 1
    ov = json.loads((tmp_path / "_dedup" / "overlap.json").read_text())
    assert ov["near"]["b"]["a"] == 2 and ov["near"]["a"]["b"] == 2 and ov["near"]["a"]["a"] == 0
    assert ov["exact"]["b"]["a"] == 1 and ov["exact"]["a"]["b"] == 1
    assert overlap_for_corpus(tmp_path) == ov
    assert render_overlap(ov).row_count == 2


def test_keep_policy_source_priority_quality_and_length(tmp_path):
    t = _para(7)
    write_source(tmp_path, "a", [t, t + " extra words here"])
    ids_b = write_source(tmp_path, "b", [t])
    cfg = load_dedup_config({"source_priority": ["b", "a"]})
    dedup_sources(tmp_path, ["a", "b"], cfg)
    assert frame(tmp_path, "b")["dup_kept"].to_list() == [True]
    assert frame(tmp_path, "a")["dup_cluster"].to_list() == [ids_b[0], ids_b[0]]

    # quality first: a quality_score attribute set decides before length
    ids_a = scan_documents(tmp_path, "a", attributes=[]).collect()["id"].to_list()
    doc_file = next(documents_dir(tmp_path, "a").glob("part-*.parquet"))
    q = pl.DataFrame({"id": ids_a, "quality_score": [0.9, 0.1]})
    attach(tmp_path, "a", "quality", doc_file, q)
    dedup_sources(tmp_path, ["a"], load_dedup_config({"keep": ["quality", "longest"]}))
    assert frame(tmp_path, "a")["dup_kept"].to_list() == [True, False]
    dedup_sources(tmp_path, ["a"], load_dedup_config({"keep": ["longest"]}))
    assert frame(tmp_path, "a")["dup_kept"].to_list() == [False, True]


def test_keep_oldest(tmp_path):
    t = _para(3)
    old, new = datetime(2001, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)
    write_source(tmp_path, "a", [t, t, t], created={0: new, 1: old})
    dedup_sources(tmp_path, ["a"], load_dedup_config({"keep": ["oldest"]}))
    assert frame(tmp_path, "a")["dup_kept"].to_list() == [False, True, False]


def test_incremental_against_existing_corpus(tmp_path):
    base = [_para(i) for i in range(8)]
    write_source(tmp_path, "old", base + [base[0]])
    dedup_sources(tmp_path, ["old"], load_dedup_config({}))
    old_dedup = sorted(attributes_dir(tmp_path, "old", "dedup").glob("*.parquet"))
    before = {p: p.read_bytes() for p in old_dedup}
    sig_before = {
        p: p.stat().st_mtime_ns for p in attributes_dir(tmp_path, "old", "minhash").glob("*.parquet")
    }
    new_ids = write_source(tmp_path, "new", [base[0].upper(), _para(50), base[0].replace("tok0x5 ", "y ")])
    # the new source prefers itself, but kept documents of the existing corpus still win
    cfg = load_dedup_config({"source_priority": ["new"]})
    res = dedup_sources(tmp_path, ["new"], cfg, against=["old"])
    assert res.per_source["old"]["hashed"] == 0 and res.per_source["old"]["reused_files"] == len(sig_before)
    assert {p: p.stat().st_mtime_ns for p in sig_before} == sig_before  # signatures not recomputed
    assert {p: p.read_bytes() for p in old_dedup} == before  # old decisions untouched
    f = frame(tmp_path, "new")
    assert f["dup_kept"].to_list() == [False, True, False]
    old0 = frame(tmp_path, "old").filter(pl.col("dup_kept"))["dup_cluster"].to_list()
    assert f["dup_cluster"][0] in old0 and f["dup_cluster"][0] == f["dup_cluster"][2]
    assert f["dup_cluster"][1] == new_ids[1]


def test_changed_signature_params_recompute(tmp_path):
    write_source(tmp_path, "a", [_para(1), _para(1)])
    dedup_sources(tmp_path, ["a"], load_dedup_config({}))
    res = dedup_sources(tmp_path, ["a"], load_dedup_config({"ngram": 3}))
    assert res.per_source["a"]["hashed"] == 2
    res = dedup_sources(tmp_path, ["a"], load_dedup_config({"ngram": 3}))
    assert res.per_source["a"]["hashed"] == 0


def test_new_signature_version_recomputes(tmp_path, monkeypatch):
    """Signatures stored by an older fast algorithm must never be mixed with new ones."""
    write_source(tmp_path, "a", [_para(1), _para(1)])
    dedup_sources(tmp_path, ["a"], load_dedup_config({}))
    monkeypatch.setattr("corpuskit.dedup.config.SIGNATURE_VERSION", 10_000)
    res = dedup_sources(tmp_path, ["a"], load_dedup_config({}))
    assert res.per_source["a"]["hashed"] == 2


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"thresold": 0.8}, "key 'dedup.thresold': unknown key"),
        ({"threshold": 1.5}, "key 'dedup.threshold'"),
        ({"bands": 4}, "give both bands and rows"),
        ({"bands": 20, "rows": 10}, "exceeds num_perm"),
        ({"preset": "nope"}, "key 'dedup.preset'"),
        ({"keep": ["random"]}, "key 'dedup.keep.0'"),
    ],
)
def test_config_errors_are_located(data, needle):
    with pytest.raises(ConfigError) as e:
        load_dedup_config(data, "sources/web.yaml")
    assert "sources/web.yaml" in str(e.value) and needle in str(e.value)


def test_presets_and_banding():
    fw = load_dedup_config({"preset": "fineweb"})
    assert (fw.ngram, fw.num_perm, fw.banding().bands, fw.banding().rows) == (5, 112, 14, 8)
    assert load_dedup_config({"preset": "fineweb", "ngram": 3}).ngram == 3
    assert load_dedup_config({"verify": "none"}).banding().bands == 9  # datasketch optimal_param(0.8, 128)


def test_cli_runs_and_reports_config_errors(tmp_path):
    write_source(tmp_path, "a", [_para(1), _para(1)])
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None: ...

    runner = CliRunner()
    ok = runner.invoke(app, ["dedup", "a", "--corpus", str(tmp_path), "--threshold", "0.7"])
    assert ok.exit_code == 0, ok.output
    assert sorted(frame(tmp_path, "a")["dup_kept"].to_list()) == [False, True]
    bad = runner.invoke(app, ["dedup", "a", "--corpus", str(tmp_path), "--bands", "3"])
    assert bad.exit_code == 2 and "give both bands and rows" in bad.output
    missing = runner.invoke(app, ["dedup", "zzz", "--corpus", str(tmp_path)])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_cli_with_source_configs(tmp_path):
    write_source(tmp_path / "corpus", "web", [_para(1), _para(1).upper(), _para(2)])
    cfg = tmp_path / "web.yaml"
    head = f"name: web\nkind: {_a_kind()}\ninputs: [x]\noutput: corpus\n"
    cfg.write_text(head + "dedup:\n  threshold: 0.9\n  nope: 1\n")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    bad = CliRunner().invoke(app, ["dedup", str(cfg)])
    assert bad.exit_code == 2 and "dedup.nope" in bad.output
    cfg.write_text(head + "dedup:\n  threshold: 0.9\n")
    ok = CliRunner().invoke(app, ["dedup", str(cfg)])
    assert ok.exit_code == 0, ok.output
    assert sorted(frame(tmp_path / "corpus", "web")["dup_kept"].to_list()) == [False, True, True]


def _a_kind() -> str:
    from corpuskit.connectors.base import known_kinds

    kinds = known_kinds()
    if not kinds:
        pytest.skip("no connector kinds registered")
    return kinds[0]
