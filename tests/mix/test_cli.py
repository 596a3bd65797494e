"""`corpuskit mix` / `corpuskit tokenizer train` from the command line, and mixes YAML studies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from corpuskit.config import ConfigError
from corpuskit.mix.commands import register
from corpuskit.mix.config import load_study_config
from corpuskit.mix.shards import open_mixture
from tests.support.mix_corpus import make_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp("clicorpus") / "corpus"
    make_corpus(root, shared_data)
    return root


@pytest.fixture(scope="module")
def cli():
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return run


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("books=0.5,web=0.5", "unknown source(s) 'web'; the corpus has: books, verse, wiki"),
        ("books=0.5,wiki=-0.5", "weights must be finite and >= 0"),
        ("books:0.5", "expected source=weight"),
        ("books=half", "not a number"),
    ],
)
def test_bad_weights_exit_2_with_message(cli, corpus, tmp_path, weights, message):
    r = cli("mix", "--weights", weights, "--tokens", "10k", "--corpus", corpus, "--out", tmp_path / "m")
    assert r.exit_code == 2, r.output
    assert message in " ".join(r.output.split())
    assert not (tmp_path / "m").exists()


def test_bad_budget_and_repeat_cap(cli, corpus, tmp_path):
    r = cli("mix", "-w", "books=1", "--tokens", "lots", "--corpus", corpus, "--out", tmp_path / "m")
    assert r.exit_code == 2 and "token budget 'lots'" in r.output
    r = cli("mix", "-w", "books=1", "--tokens", "5M", "--corpus", corpus, "--out", tmp_path / "m")
    assert r.exit_code == 2 and "--allow-repeat" in r.output and not (tmp_path / "m").exists()


def test_dry_run_prints_plan_and_writes_nothing(cli, corpus, tmp_path):
    r = cli(
        "mix",
        "-w",
        "books=2,wiki=1,verse=1",
        "-n",
        "2M",
        "--corpus",
        corpus,
        "--out",
        tmp_path / "m",
        "--dry-run",
    )
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "weights sum to 4" in out and "tokens needed" in out and "epochs" in out
    assert "1,000,000" in out and "> 4 epochs" not in out
    assert list(tmp_path.iterdir()) == []


def test_tokenizer_train_then_mix_with_it(cli, corpus, tmp_path):
    tok = tmp_path / "tok" / "tokenizer.json"
    args = [
        "tokenizer",
        "train",
        "--corpus",
        corpus,
        "--out",
        tok,
        "--vocab-size",
        "600",
        "--sample-bytes",
        "150k",
    ]
    r = cli(*args)
    assert r.exit_code == 0, r.output
    meta = json.loads(tok.with_suffix(".meta.json").read_text())
    assert meta["vocab_size"] == 600 and meta["eot_id"] == 0
    assert set(meta["sample_bytes"]) == {"books", "verse", "wiki"}
    assert all(49_990 <= n <= 50_000 for n in meta["sample_bytes"].values()), meta  # balanced: 50k each
    first = tok.read_bytes()
    assert cli(*args).exit_code == 0 and tok.read_bytes() == first  # same sample + seed -> same tokenizer

    out = tmp_path / "bpe-mix"
    r = cli(
        "mix", "-w", "books=0.5,wiki=0.5", "-n", "100k", "--corpus", corpus, "--out", out, "--tokenizer", tok
    )
    assert r.exit_code == 0, r.output
    m = open_mixture(out)
    assert m.manifest["tokenizer"] == {
        "path": "tokenizer.json",
        "hash": meta["hash"],
        "vocab_size": 600,
        "eot_id": 0,
    }
    assert m.total_tokens == 100_000 and m.tokenizer().hash == meta["hash"]
    text = m.tokenizer().decode(list(m.shards[0][:2000]))
    assert len(text) > 3000  # a BPE token covers several bytes


def test_yaml_study_shares_heldout_sets(cli, corpus, tmp_path):
    cfg = tmp_path / "mixes.yaml"
    cfg.write_text(
        f"corpus: {corpus}\nout: study\nheldout: {{bytes_per_source: 40000}}\nseed: 3\nmixtures:\n"
        "  - {name: books-heavy, weights: {books: 0.8, wiki: 0.2}, tokens: 200k}\n"
        "  - {name: even, weights: {books: 1, wiki: 1, verse: 1}, tokens: 150k, seed: 4}\n"
    )
    r = cli("mix", "--config", cfg)
    assert r.exit_code == 0, r.output
    a, b = open_mixture(tmp_path / "study" / "books-heavy"), open_mixture(tmp_path / "study" / "even")
    assert a.manifest["heldout"] == b.manifest["heldout"]
    assert a.manifest["heldout"]["wiki"]["path"] == "../heldout/wiki.jsonl"
    assert (a.path / a.manifest["heldout"]["wiki"]["path"]).is_file()
    assert a.total_tokens == 200_000 and b.total_tokens == 150_000
    assert (a.manifest["seed"], b.manifest["seed"]) == (3, 4)
    assert b.manifest["warnings"] and "sum to 3" in b.manifest["warnings"][0]


def test_yaml_errors_are_located(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("mixtures:\n  - {name: a, weights: {web: 1}, tokens: 5Q, colour: red}\n")
    with pytest.raises(ConfigError) as e:
        load_study_config(cfg)
    msg = str(e.value)
    assert str(cfg) in msg and "mixtures.0.tokens" in msg and "mixtures.0.colour" in msg
    cfg.write_text("mixtures:\n" + "  - {name: a, weights: {web: 1}, tokens: 1M}\n" * 2)
    with pytest.raises(ConfigError, match="repeated: a"):
        load_study_config(cfg)


def _strict(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)  # NaN / Infinity would raise here


CLI = [sys.executable, "-m", "corpuskit.cli"]


def test_mix_json_to_stdout_is_one_strict_document_tables_on_stderr(corpus, tmp_path):
    out = tmp_path / "m"
    env = {**os.environ, "CORPUSKIT_PROGRESS_EVERY_S": "0"}
    cmd = [*CLI, "mix", "-w", "books=0.5,wiki=0.5", "-n", "60k", "--corpus", str(corpus), "--out", str(out)]
    r = subprocess.run([*cmd, "--json", "-"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    data = _strict(r.stdout)
    (built,) = data["mixtures"]
    assert built["manifest"] == json.loads((out / "manifest.json").read_text())
    assert built["out"] == str(out) and built["seconds"] >= built["tokenize_seconds"] > 0
    assert set(data["heldout"]) == {"books", "verse", "wiki"}
    (plan,) = data["plans"]
    assert [s["source"] for s in plan["sources"]] == ["books", "wiki"] and plan["tokens"] == 60_000
    assert "Held-out sets" in r.stderr and "Mixture m" in r.stderr  # the tables moved to stderr
    assert "done: m: 60,000/60,000 (100%) tokens" in r.stderr  # progress lines: not a terminal
    assert not (tmp_path / "-").exists()
    r = subprocess.run([*cmd[:-2], "--dry-run", "--json", "-"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plan_only = _strict(r.stdout)
    assert "mixtures" not in plan_only and plan_only["plans"][0]["sources"][0]["epochs"] > 0


def test_study_and_tokenizer_json_files(cli, corpus, tmp_path):
    tok, tok_json = tmp_path / "tok" / "tokenizer.json", tmp_path / "tok.json"
    r = cli("tokenizer", "train", "--corpus", corpus, "--out", tok, "--vocab-size", "300",
            "--sample-bytes", "30k", "--json", tok_json)  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = _strict(tok_json.read_text())["tokenizer"]
    assert meta["hash"] == json.loads(tok.with_suffix(".meta.json").read_text())["hash"]
    assert meta["path"] == str(tok.resolve()) and set(meta["sample_documents"]) == {"books", "verse", "wiki"}
    cfg = tmp_path / "mixes.yaml"
    cfg.write_text(
        f"corpus: {corpus}\nout: study\ntokenizer: {tok}\nheldout: {{bytes_per_source: 30000}}\nmixtures:\n"
        "  - {name: a, weights: {books: 1}, tokens: 30k}\n"
        "  - {name: b, weights: {wiki: 1, verse: 1}, tokens: 20k}\n"
    )
    r = cli("mix", "--config", cfg, "--json", tmp_path / "study.json")
    assert r.exit_code == 0, r.output
    data = _strict((tmp_path / "study.json").read_text())
    assert [m["manifest"]["name"] for m in data["mixtures"]] == ["a", "b"]
    assert data["mixtures"][1]["out"] == str(tmp_path / "study" / "b")
    assert all(m["manifest"]["tokenizer"]["hash"] == meta["hash"] for m in data["mixtures"])
    r = cli(
        "mix",
        "-w",
        "web=1",
        "-n",
        "1k",
        "--corpus",
        corpus,
        "--out",
        tmp_path / "x",
        "--json",
        tmp_path / "e.json",
    )
    assert r.exit_code == 2 and not (tmp_path / "e.json").exists()  # a mistake writes no results


def test_tokenizer_train_json_to_stdout(corpus, tmp_path):
    tok = tmp_path / "tokenizer.json"
    cmd = [*CLI, "tokenizer", "train", "--corpus", str(corpus), "--out", str(tok), "--vocab-size", "300"]
    r = subprocess.run(
        [*cmd, "--sample-bytes", "20k", "--json", "-"], cwd=tmp_path, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    meta = _strict(r.stdout)["tokenizer"]
    assert meta["vocab_size"] == 300 and meta["path"] == str(tok) and "Tokenizer" in r.stderr
