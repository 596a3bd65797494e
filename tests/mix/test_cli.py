"""`corpuskit mix` / `corpuskit tokenizer train` from the command line, and mixes YAML studies."""

from __future__ import annotations

import json
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
