"""Ingest runner: resume after SIGKILL, determinism, bad records counted, stale parts, export and stats."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from corpuskit.config import load_source_config
from corpuskit.documents import list_parts, read_manifest, scan_documents
from corpuskit.ingest import ingest


def make_jsonl_inputs(folder: Path, files: int, lines: int, bad_every: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with open(folder / f"in-{f:03d}.jsonl", "w") as fh:
            for i in range(lines):
                if bad_every and i % bad_every == bad_every - 1:
                    fh.write('{"text": "broken\n')
                    continue
                fh.write(json.dumps({"text": f"file {f} line {i} " + "word " * (i % 17), "url": f"u{f}/{i}"}))
                fh.write("\n")


def make_config(
    tmp_path: Path, name: str = "src", inputs: str = "data/*.jsonl", out: str = "corpus", file: str = ""
) -> Path:
    p = tmp_path / (file or f"{name}.yaml")
    p.write_text(
        f"name: {name}\nkind: jsonl\ninputs: ['{inputs}']\noutput: {out}\n"
        "options: {text_field: text, url_field: url}\n"
    )
    return p


def documents(corpus: Path, source: str = "src") -> pl.DataFrame:
    return scan_documents(corpus, source).collect().sort("id")


def test_ingest_counts_bad_records_and_keeps_good_ones(tmp_path):
    make_jsonl_inputs(tmp_path / "data", files=3, lines=50, bad_every=10)
    cfg = load_source_config(make_config(tmp_path))
    summary = ingest(cfg, workers=1)
    assert summary.documents == 3 * 45
    assert sum(summary.errors.values()) == 3 * 5
    df = documents(tmp_path / "corpus")
    assert df.height == 135 and df["id"].n_unique() == 135
    assert df["url"].null_count() == 0
    manifest = read_manifest(tmp_path / "corpus", "src")
    assert manifest["documents"] == 135
    assert manifest["config_hash"] == cfg.config_hash()
    assert sum(manifest["errors_by_reason"].values()) == 15
    ex = manifest["error_examples"][0]
    assert ex["file"].endswith(".jsonl") and ex["record"] and ex["reason"]


def test_workers_and_reruns_give_identical_bytes(tmp_path):
    make_jsonl_inputs(tmp_path / "data", files=4, lines=300)
    a = load_source_config(make_config(tmp_path, out="a", file="a.yaml"))
    b = load_source_config(make_config(tmp_path, out="b", file="b.yaml"))
    ingest(a, workers=1)
    ingest(b, workers=2)
    fa = sorted((tmp_path / "a/src/documents").glob("*.parquet"))
    fb = sorted((tmp_path / "b/src/documents").glob("*.parquet"))
    assert [f.name for f in fa] == [f.name for f in fb]
    assert [f.read_bytes() for f in fa] == [f.read_bytes() for f in fb]
    # a second run resumes everything and changes nothing
    before = [f.stat().st_mtime_ns for f in fa]
    summary = ingest(a, workers=1)
    assert all(r.skipped for r in summary.results)
    assert [f.stat().st_mtime_ns for f in fa] == before


def test_removed_input_and_changed_config(tmp_path):
    make_jsonl_inputs(tmp_path / "data", files=3, lines=20)
    cfg_path = make_config(tmp_path)
    ingest(load_source_config(cfg_path), workers=1)
    (tmp_path / "data/in-002.jsonl").unlink()
    summary = ingest(load_source_config(cfg_path), workers=1)
    assert len(summary.removed_stale) == 1
    assert documents(tmp_path / "corpus").height == 40
    # a changed config redoes the inputs instead of mixing outputs of two configs
    cfg_path.write_text(cfg_path.read_text().replace("url_field: url", "url_field: nothere"))
    summary = ingest(load_source_config(cfg_path), workers=1)
    assert not any(r.skipped for r in summary.results)
    assert documents(tmp_path / "corpus")["url"].null_count() == 40


def _run_cli(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "corpuskit.cli", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_sigkill_then_resume_gives_same_documents(tmp_path):
    make_jsonl_inputs(tmp_path / "data", files=40, lines=3000)
    make_config(tmp_path, out="killed")
    make_config(tmp_path, out="ref", file="ref.yaml")
    ref = _run_cli("ingest", "ref.yaml", "--workers", "2", cwd=tmp_path)
    assert ref.wait(timeout=300) == 0, ref.stderr.read().decode()

    proc = _run_cli("ingest", "src.yaml", "--workers", "2", cwd=tmp_path)
    ddir = tmp_path / "killed/src/documents"
    commits = tmp_path / "killed/src/_commits/documents"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(commits.glob("part-*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: the CLI and its workers
    proc.wait(timeout=30)
    n_done = len(list(commits.glob("part-*.json")))
    assert 0 < n_done < 40, "kill should land mid-run"

    resumed = _run_cli("ingest", "src.yaml", "--workers", "2", cwd=tmp_path)
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read().decode()
    got, want = documents(tmp_path / "killed"), documents(tmp_path / "ref")
    assert got.height == want.height == 40 * 3000
    assert got.equals(want)
    assert not list(ddir.glob(".*.tmp"))
    assert len(list_parts(tmp_path / "killed", "src")) == 40


def test_export_dolma_and_stats_cli(tmp_path):
    make_jsonl_inputs(tmp_path / "data", files=2, lines=30, bad_every=15)
    ingest(load_source_config(make_config(tmp_path)), workers=1)
    out = tmp_path / "export"
    r = subprocess.run(
        [sys.executable, "-m", "corpuskit.cli", "export", str(tmp_path / "corpus"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    rows = []
    for f in sorted((out / "src" / "documents").glob("*.jsonl.gz")):
        with gzip.open(f, "rt") as fh:
            rows += [json.loads(line) for line in fh]
    assert len(rows) == 56
    assert set(rows[0]) == {"id", "text", "source", "added", "metadata"}  # created unknown: absent, not null
    assert all(v is not None for r in rows for v in r.values())
    assert rows[0]["source"] == "src"
    first = sorted((out / "src" / "documents").glob("*.jsonl.gz"))[0].read_bytes()
    subprocess.run(
        [sys.executable, "-m", "corpuskit.cli", "export", str(tmp_path / "corpus"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted((out / "src" / "documents").glob("*.jsonl.gz"))[0].read_bytes() == first

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "corpuskit.cli",
            "stats",
            str(tmp_path / "corpus"),
            "--json",
            str(tmp_path / "s.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    stats = json.loads((tmp_path / "s.json").read_text())["sources"][0]
    assert stats["documents"] == 56 and stats["inputs"] == 2
    assert sum(stats["errors_by_reason"].values()) == 4
    assert "src" in r.stderr + r.stdout


def test_missing_input_is_a_clear_error(tmp_path):
    cfg = make_config(tmp_path, inputs="nowhere/*.jsonl")
    r = subprocess.run(
        [sys.executable, "-m", "corpuskit.cli", "ingest", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "nowhere" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_real_cc_net_jsonl(tmp_path, shared_data, workers):
    src = shared_data / "web/commoncrawl_ccnet_jsonl"
    p = tmp_path / "cc.yaml"
    p.write_text(f"name: ccnet\nkind: jsonl\ninputs: ['{src}/*.jsonl.gz']\noutput: corpus\n")
    summary = ingest(load_source_config(p), workers=workers)
    assert summary.documents >= 10
    df = documents(tmp_path / "corpus", "ccnet")
    assert df["text"].str.len_chars().min() > 100


def test_ids_survive_moving_the_project(tmp_path):
    import shutil

    make_jsonl_inputs(tmp_path / "p1/data", files=2, lines=10)
    ingest(load_source_config(make_config(tmp_path / "p1")), workers=1)
    shutil.copytree(tmp_path / "p1", tmp_path / "p2", ignore=shutil.ignore_patterns("corpus"))
    ingest(load_source_config(tmp_path / "p2/src.yaml"), workers=1)
    a, b = documents(tmp_path / "p1/corpus"), documents(tmp_path / "p2/corpus")
    assert a["id"].to_list() == b["id"].to_list()
    assert a["locator"][0].startswith("data/in-")


def test_real_warcs_including_malformed_ones(tmp_path, shared_data):
    web = shared_data / "web"
    p = tmp_path / "web.yaml"
    p.write_text(
        "name: web\nkind: warc\noutput: corpus\n"
        f"inputs: ['{web}/commoncrawl_warc/*.warc.gz', '{web}/commoncrawl_whirlwind/*.warc*.gz',"
        f" '{web}/warc_malformed/*']\n"
    )
    summary = ingest(load_source_config(p), workers=2)
    assert summary.documents >= 15  # the CC excerpt's pages + whirlwind WARC/WET + the good malformed ones
    assert summary.errors, "malformed samples must be counted, not silently dropped"
    assert all(r.documents or r.errors for r in summary.results)
    df = documents(tmp_path / "corpus", "web")
    assert "https://an.wikipedia.org/wiki/Escopete" in df["url"].to_list()
    assert df["created"].null_count() < df.height


def test_ingest_http_inputs_through_the_cache(tmp_path, shared_data):
    """URL inputs are downloaded once (into the cache beside the config) and give the same documents as
    the local file; a failing URL is a failed input while the other inputs are kept."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(shared_data / "web"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        local = shared_data / "web/commoncrawl_whirlwind/whirlwind.warc.gz"
        (tmp_path / "http.yaml").write_text(
            "name: web\nkind: warc\noutput: corpus_http\nfetch: {retries: 0, timeout_s: 5}\ninputs:\n"
            f"  - {base}/commoncrawl_whirlwind/whirlwind.warc.gz\n  - {base}/nowhere/missing.warc.gz\n"
        )
        (tmp_path / "local.yaml").write_text(
            f"name: web\nkind: warc\noutput: corpus_local\ninputs: ['{local}']\n"
        )
        summary = ingest(load_source_config(tmp_path / "http.yaml"), workers=1)
        (failed,) = summary.failed  # a failed input is not committed: the rest is, and the run says so
        assert "missing.warc.gz" in failed.uri and "404" in str(failed.failed)
        ingest(load_source_config(tmp_path / "local.yaml"), workers=1)
    finally:
        httpd.shutdown()
    got = documents(tmp_path / "corpus_http", "web")
    want = documents(tmp_path / "corpus_local", "web")
    assert got.height == want.height > 0
    assert got["text"].to_list() == want["text"].to_list()
    assert got["url"].to_list() == want["url"].to_list()
    assert got["locator"][0].startswith("http://127.0.0.1:")
    assert any((tmp_path / ".corpuskit-cache").rglob("*whirlwind*"))
