"""Output in a log file or a script: results on stdout, progress and diagnostics on stderr, nothing cut."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CLI = [sys.executable, "-m", "corpuskit.cli"]


def test_ingest_not_on_a_terminal_results_on_stdout_progress_lines_on_stderr(tmp_path):
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "project"
    (deep / "data").mkdir(parents=True)
    for f in range(3):
        with open(deep / "data" / f"in-{f}.jsonl", "w") as fh:
            for i in range(500):
                fh.write(json.dumps({"text": f"file {f} line {i} " + "word " * 20}) + "\n")
    (deep / "src.yaml").write_text("name: src\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: corpus\n")
    env = {**os.environ, "CORPUSKIT_PROGRESS_EVERY_S": "0", "COLUMNS": "80"}
    cmd = [*CLI, "ingest", "src.yaml", "--workers", "1"]
    r = subprocess.run(cmd, cwd=deep, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "documents written (total)" in r.stdout and "1,500" in r.stdout
    assert str(deep / "corpus" / "src") in r.stdout  # the full path on one line: not cut at 80 columns
    assert "documents written" not in r.stderr
    assert "progress: src: documents" in r.stderr and "done: src: inputs: 3/3" in r.stderr
    assert "…" not in r.stdout


def test_errors_are_never_wrapped(tmp_path):
    long = tmp_path / ("x" * 120) / "missing.yaml"
    r = subprocess.run(
        [*CLI, "ingest", str(long)], capture_output=True, text=True, env={**os.environ, "COLUMNS": "60"}
    )
    assert r.returncode == 2
    assert str(long) in r.stderr and r.stdout == ""


def test_stats_json_to_stdout_is_one_strict_json_document(tmp_path):
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "a.jsonl", "w") as fh:
        for i in range(30):
            fh.write(
                json.dumps({"text": f"The line number {i} is about the river and the town. " * 5}) + "\n"
            )
    (tmp_path / "s.yaml").write_text("name: s\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: corpus\n")
    for cmd in (["ingest", "s.yaml", "--workers", "1"], ["curate", "s.yaml"]):
        assert subprocess.run([*CLI, *cmd], cwd=tmp_path, capture_output=True).returncode == 0
    r = subprocess.run([*CLI, "stats", "corpus", "--json", "-"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    data = json.loads(r.stdout, parse_constant=refuse)  # NaN / Infinity would raise here
    assert data["sources"][0]["documents"] == 30 and "funnel" in data
    assert "corpus corpus" in r.stderr  # the tables went to stderr
    assert not (tmp_path / "-").exists()


def test_export_of_a_missing_corpus_is_an_error(tmp_path):
    r = subprocess.run([*CLI, "export", str(tmp_path / "nope")], capture_output=True, text=True)
    assert r.returncode == 2 and "not found" in r.stderr


def test_json_to_stdout_from_ingest_curate_dedup_and_doctor(tmp_path):
    (tmp_path / "data").mkdir()
    with open(tmp_path / "data" / "a.jsonl", "w") as fh:
        for i in range(20):
            fh.write(
                json.dumps({"text": f"Story {i % 5} is about the river and the town near the old mill. " * 6})
                + "\n"
            )
    (tmp_path / "s.yaml").write_text("name: s\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: corpus\n")

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    outs = {}
    for cmd in (
        ["ingest", "s.yaml", "--workers", "1"],
        ["curate", "s.yaml"],
        ["dedup", "s.yaml"],
        ["export", "corpus", "--out", "exp", "--format", "datatrove"],
        ["doctor"],
    ):
        r = subprocess.run([*CLI, *cmd, "--json", "-"], cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs[cmd[0]] = json.loads(r.stdout, parse_constant=refuse)
    assert outs["ingest"]["sources"][0]["documents"] == 20 and outs["ingest"]["sources"][0]["failed"] == []
    assert outs["curate"]["sources"]["s"]["documents_in"] == 20
    assert outs["dedup"]["per_source"]["s"]["kept"] == 5  # five distinct stories
    assert outs["export"]["sources"] == [{"source": "s", "documents": 20, "files": 1, "folder": "exp/s"}]
    assert any(c["check"] == "trafilatura" and c["status"] == "ok" for c in outs["doctor"]["checks"])


def test_quiet_keeps_results_and_errors_and_drops_progress(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.jsonl").write_text(
        "".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(5))
    )
    (tmp_path / "s.yaml").write_text("name: s\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: corpus\n")
    env = {**os.environ, "CORPUSKIT_PROGRESS_EVERY_S": "0"}
    r = subprocess.run(
        [*CLI, "-q", "ingest", "s.yaml"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert r.returncode == 0 and "documents written (total)" in r.stdout and r.stderr == ""
    r = subprocess.run([*CLI, "-q", "ingest", "missing.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and "error:" in r.stderr


def test_verbose_names_each_unit_of_work_on_stderr(tmp_path):
    (tmp_path / "data").mkdir()
    for f in range(2):
        (tmp_path / "data" / f"{f}.jsonl").write_text(
            "".join(json.dumps({"text": f"file {f} line {i} about the river"}) + "\n" for i in range(5))
        )
    (tmp_path / "s.yaml").write_text("name: s\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: corpus\n")
    r = subprocess.run([*CLI, "-v", "ingest", "s.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    committed = [line for line in r.stderr.splitlines() if line.startswith("info: committed ")]
    assert len(committed) == 2 and all("5 documents" in line for line in committed)
    r = subprocess.run([*CLI, "-v", "curate", "s.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.count("info: signals of s/") == 2
    r = subprocess.run([*CLI, "ingest", "s.yaml", "--force"], cwd=tmp_path, capture_output=True, text=True)
    assert "info:" not in r.stderr  # without -v: progress only


def test_the_command_table_is_what_the_cli_offers():
    from corpuskit.cli import COMMANDS, _command_names

    assert sorted(_command_names()) == sorted(n for _, names in COMMANDS for n in names)
