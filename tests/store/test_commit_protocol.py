"""The commit protocol with real faults: nothing failed is marked done, nothing stale is trusted, one
writer per source, workers die with their parent."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.config import load_source_config
from corpuskit.ingest import ingest
from corpuskit.store import SourceStore, list_parts, scan_documents

CLI = [sys.executable, "-m", "corpuskit.cli"]


def jsonl(path: Path, lines: int, text=lambda i: f"line {i} " + "word " * 40, alt=lambda i: "alt") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for i in range(lines):
            f.write(json.dumps({"text": text(i), "alt": alt(i)}) + "\n")


def config(tmp_path: Path, inputs: str = "data/*.jsonl", extra: str = "", name: str = "src") -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(f"name: {name}\nkind: jsonl\ninputs: ['{inputs}']\noutput: corpus\n{extra}")
    return p


def invoke(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, [str(a) for a in args])
    return res.exit_code, res.output


def test_an_input_that_vanishes_fails_loudly_is_not_committed_and_is_retried(tmp_path, monkeypatch):
    """An input removed between planning and reading (works as root too, unlike chmod 000) fails: exit 1
    naming it, the other input committed; once it is back, the rerun ingests it."""
    import corpuskit.ingest as ing

    jsonl(tmp_path / "data/a.jsonl", 10)
    jsonl(tmp_path / "data/b.jsonl", 7)
    cfg = config(tmp_path)
    plan = ing.plan_inputs

    def plan_then_remove(c):
        found = plan(c)
        (tmp_path / "data/b.jsonl").rename(tmp_path / "b.away")
        return found

    monkeypatch.setattr(ing, "plan_inputs", plan_then_remove)
    code, out = invoke("ingest", cfg, "--workers", "1", "--json", tmp_path / "ingest.json")
    monkeypatch.setattr(ing, "plan_inputs", plan)
    assert code == 1, out
    assert "b.jsonl" in out and "FileNotFoundError" in out
    report = json.loads((tmp_path / "ingest.json").read_text())  # a failed run still reports, in JSON too
    assert [f["input"].endswith("b.jsonl") for f in report["sources"][0]["failed"]] == [True]
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 10
    # downstream stages refuse to build on the incomplete source, and say why
    code, out = invoke("curate", cfg)
    assert code == 2 and "b.jsonl" in out and "--allow-incomplete" in out
    code, out = invoke("export", tmp_path / "corpus", "--out", tmp_path / "export")
    assert code == 2 and "b.jsonl" in out and not (tmp_path / "export").exists()
    (tmp_path / "b.away").rename(tmp_path / "data/b.jsonl")
    code, out = invoke("ingest", cfg, "--workers", "1")
    assert code == 0, out
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 17
    assert not list((tmp_path / "corpus/src/_commits/documents").glob("*.failed.json"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads chmod-000 files; the folder case above covers it")
def test_chmod_000_input_fails_then_is_retried(tmp_path):
    jsonl(tmp_path / "data/a.jsonl", 5)
    jsonl(tmp_path / "data/b.jsonl", 5)
    os.chmod(tmp_path / "data/b.jsonl", 0)
    cfg = config(tmp_path)
    code, out = invoke("ingest", cfg, "--workers", "1")
    assert code == 1 and "PermissionError" in out and "b.jsonl" in out
    os.chmod(tmp_path / "data/b.jsonl", 0o644)
    assert invoke("ingest", cfg, "--workers", "1")[0] == 0
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 10


def test_http_404_is_a_failed_input_and_the_rerun_fetches_it(tmp_path):
    served = tmp_path / "served"
    jsonl(served / "a.jsonl", 4)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        cfg = tmp_path / "http.yaml"
        cfg.write_text(
            "name: web\nkind: jsonl\noutput: corpus\nfetch: {retries: 0, timeout_s: 5}\n"
            f"inputs: ['{base}/a.jsonl', '{base}/b.jsonl']\n"
        )
        summary = ingest(load_source_config(cfg), workers=1)
        assert [r.uri.rsplit("/", 1)[1] for r in summary.failed] == ["b.jsonl"]
        assert "404" in str(summary.failed[0].failed)
        jsonl(served / "b.jsonl", 6)  # the server is fixed
        summary = ingest(load_source_config(cfg), workers=1)
        assert not summary.failed
        assert [r.skipped for r in summary.results] == [True, False]  # only the failed one is redone
        assert scan_documents(tmp_path / "corpus", "web").collect().height == 10
    finally:
        httpd.shutdown()


def test_a_part_file_that_lost_rows_is_redone(tmp_path):
    for f in "abc":
        jsonl(tmp_path / f"data/{f}.jsonl", 50)
    cfg = load_source_config(config(tmp_path))
    ingest(cfg, workers=1)
    victim = sorted((tmp_path / "corpus/src/documents").glob("*.parquet"))[1]
    pl.read_parquet(victim).head(20).write_parquet(victim)
    summary = ingest(cfg, workers=1)
    assert sorted(r.skipped for r in summary.results) == [False, True, True]
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 150


def test_changed_input_is_redone(tmp_path):
    jsonl(tmp_path / "data/a.jsonl", 5)
    jsonl(tmp_path / "data/b.jsonl", 5)
    cfg = load_source_config(config(tmp_path))
    ingest(cfg, workers=1)
    time.sleep(0.01)
    jsonl(tmp_path / "data/b.jsonl", 9)  # edited in place: size and mtime change
    summary = ingest(cfg, workers=1)
    assert [r.skipped for r in summary.results] == [True, False]
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 14


def test_reingest_with_another_text_field_recomputes_curate_and_dedup(tmp_path):
    """The old signals/decisions of a redone part are never reused: results equal a fresh run's."""
    import random

    vocab = "the and of a river town walked with to in old house light morning that was her his".split()

    def words(i: int) -> str:  # distinct prose-like texts that pass Gopher's quality rules
        rng = random.Random(i)
        return " ".join(". ".join(" ".join(rng.choices(vocab, k=9)) for _ in range(10)).split()) + "."

    jsonl(tmp_path / "data/a.jsonl", 20, text=words, alt=lambda i: "short")
    extra = "curate: {langid: null, filters: [gopher_quality]}\n"
    cfg_path = config(tmp_path, extra=extra)
    corpus = tmp_path / "corpus"
    assert invoke("ingest", cfg_path, "--workers", "1")[0] == 0
    assert invoke("curate", cfg_path)[0] == 0
    assert invoke("dedup", cfg_path)[0] == 0
    assert scan_documents(corpus, "src", kept_only=True).collect().height == 20
    # same input, another field: every text is now "short" (Gopher drops it) and all are identical
    cfg_path.write_text(cfg_path.read_text() + "options: {text_field: alt}\n")
    assert invoke("ingest", cfg_path, "--workers", "1")[0] == 0
    code, out = invoke("curate", cfg_path)
    assert code == 0, out
    df = scan_documents(corpus, "src").collect()
    assert df["gopher_words"].to_list() == [1] * 20  # signals recomputed from the new text
    assert df["curate_drop_reason"].is_not_null().all()
    assert invoke("dedup", cfg_path)[0] == 0
    df = scan_documents(corpus, "src").collect()
    assert df["dup_kept"].sum() == 1  # 20 identical texts: one kept (the stale run kept 20)


def test_threshold_change_redoes_no_ingest_and_no_signals(tmp_path):
    for f in "ab":
        jsonl(tmp_path / f"data/{f}.jsonl", 200)
    cfg_path = config(tmp_path, extra="curate: {gopher_quality: {min_doc_words: 30}}\n")
    assert invoke("ingest", cfg_path, "--workers", "1")[0] == 0
    t0 = time.perf_counter()
    assert invoke("curate", cfg_path)[0] == 0
    first = time.perf_counter() - t0
    cfg_path.write_text(cfg_path.read_text().replace("min_doc_words: 30", "min_doc_words: 45"))
    summary = ingest(load_source_config(cfg_path), workers=1)
    assert all(r.skipped for r in summary.results)  # curate: is not part of ingest's settings
    t0 = time.perf_counter()
    from corpuskit.curate.pipeline import curate_source

    funnel = curate_source(load_source_config(cfg_path))
    again = time.perf_counter() - t0
    assert funnel["run"]["computed"] == 0 and funnel["run"]["skipped"] == 2
    assert funnel["documents_kept"] == 0  # 41 words < 45: the new threshold applied
    print(f"curate: signals + rules {first:.2f} s, rules only {again:.2f} s")


def test_a_second_writer_is_refused_with_exit_3_and_the_first_finishes_intact(tmp_path):
    """The first ingest is held mid-run deterministically: its last input is a URL whose server waits for
    the test to let it answer, so the lock is certainly held while the others try."""
    for f in range(5):
        jsonl(tmp_path / f"data/in-{f}.jsonl", 1000)
    jsonl(tmp_path / "served/slow.jsonl", 1000)
    gate = threading.Event()

    httpd = held_server(tmp_path / "served", gate)
    cfg = tmp_path / "src.yaml"
    cfg.write_text(
        "name: src\nkind: jsonl\noutput: corpus\nfetch: {timeout_s: 120, retries: 0}\n"
        f"inputs: ['data/*.jsonl', 'http://127.0.0.1:{httpd.server_address[1]}/slow.jsonl']\n"
    )
    try:
        first = subprocess.Popen(
            [*CLI, "ingest", str(cfg), "--workers", "1"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        commits = tmp_path / "corpus/src/_commits/documents"
        deadline = time.time() + 120
        while time.time() < deadline and len(list(commits.glob("part-*.json"))) < 5:
            time.sleep(0.05)
        env = {**os.environ, "COLUMNS": "300"}
        for args in (["ingest", str(cfg)], ["curate", str(cfg), "--allow-incomplete"]):
            other = subprocess.run([*CLI, *args], cwd=tmp_path, capture_output=True, text=True, env=env)
            assert other.returncode == 3, other.stderr
            assert f"pid {first.pid}" in other.stderr and "corpuskit ingest" in other.stderr
        assert first.poll() is None
        gate.set()
        assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    finally:
        gate.set()
        httpd.shutdown()
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 6 * 1000
    assert len(list_parts(tmp_path / "corpus", "src")) == 6


def test_killing_only_the_main_process_leaves_no_worker(tmp_path):
    """Both workers are held inside a download (the server waits), so the kill certainly lands mid-run."""
    for f in range(4):
        jsonl(tmp_path / f"served/in-{f}.jsonl", 2000)
    gate = threading.Event()

    httpd = held_server(tmp_path / "served", gate)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    cfg = tmp_path / "src.yaml"
    urls = ", ".join(f"'{base}/in-{f}.jsonl'" for f in range(4))
    cfg.write_text(f"name: src\nkind: jsonl\noutput: corpus\nfetch: {{timeout_s: 120}}\ninputs: [{urls}]\n")
    try:
        proc = subprocess.Popen(
            [*CLI, "ingest", str(cfg), "--workers", "2"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 120
        children: list[int] = []
        while time.time() < deadline and len(children) < 2:
            time.sleep(0.1)
            children = _workers(proc.pid)
        assert len(children) == 2, "the pool should have started its two workers"
        children += [c for c in _children(proc.pid) if "forkserver" in _cmdline(c)]  # it must go too
        os.kill(proc.pid, signal.SIGKILL)  # only the main process
        proc.wait(timeout=30)
        # a worker still importing when its parent dies exits once its initializer sees the new parent:
        # that can take many seconds on a loaded machine, so the grace is generous (a leak is forever)
        deadline = time.time() + 30
        while time.time() < deadline and any(_alive(c) for c in children):
            time.sleep(0.1)
        alive = [c for c in children if _alive(c)]
        for c in alive:
            os.kill(c, signal.SIGKILL)
        assert not alive, f"workers {alive} outlived their parent by 30 s"
        gate.set()
        # the next run cleans up and completes
        assert subprocess.run([*CLI, "ingest", str(cfg), "--workers", "2"], cwd=tmp_path).returncode == 0
    finally:
        gate.set()
        httpd.shutdown()
    assert scan_documents(tmp_path / "corpus", "src").collect().height == 4 * 2000
    assert not list((tmp_path / "corpus/src/documents").glob(".*.tmp"))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def held_server(directory: Path, gate: threading.Event) -> ThreadingHTTPServer:
    """A local file server whose answers wait until ``gate`` is set: a run downloading from it is held
    mid-run, deterministically, however fast or busy the machine."""

    class Held(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's naming
            gate.wait(120)
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Held, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _workers(pid: int) -> list[int]:
    """The pool's worker processes: spawned by ``pid``, or forked by its fork server."""
    out = []
    for c in _children(pid):
        if "spawn_main" in _cmdline(c):
            out.append(c)
        elif "forkserver" in _cmdline(c):
            out += _children(c)
    return out


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_source_names_cannot_leave_the_corpus(tmp_path):
    for bad in ("..", ".", "_x", ".hidden"):
        p = tmp_path / "bad.yaml"
        p.write_text(f"name: '{bad}'\nkind: jsonl\ninputs: ['x.jsonl']\n")
        code, out = invoke("ingest", p)
        assert code == 2 and "name" in out, (bad, out)
    with pytest.raises(ValueError):
        SourceStore(tmp_path, "../web")
