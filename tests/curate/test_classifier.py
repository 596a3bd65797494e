"""The fastText quality classifier: trains, reports held-out metrics, is deterministic, scores in [0, 1]."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from corpuskit.curate.classifier import QualityClassifier, TrainParams, train_classifier

PROSE = [
    "The committee reviewed the proposal carefully and agreed that the design was sound.",
    "After a long winter the farmers returned to the fields and repaired the old walls.",
    "Her letter described the journey across the mountains in vivid and patient detail.",
    "Scientists measured the temperature of the lake every morning for several years.",
    "The library opened a new reading room where students could study in silence.",
]
SPAM = [
    "click here buy now cheap deals best price free shipping",
    "login signup home menu search cart checkout account",
    "hot offer limited time only click click win prize now",
    "home | about | contact | privacy | terms | sitemap | login",
    "best best cheap cheap viagra casino bonus free spins",
]


def _corpus(seed: int, base: list[str], n: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(base, 3)) for _ in range(n)]


def test_train_metrics_and_determinism(tmp_path: Path) -> None:
    pos, neg = _corpus(1, PROSE, 120), _corpus(2, SPAM, 120)
    meta = train_classifier(pos, neg, tmp_path / "q.bin", TrainParams(epoch=10))
    assert meta["heldout"]["documents"] == 24 and meta["heldout"]["accuracy"] >= 0.9
    assert meta["heldout"]["roc_auc"] >= 0.9
    assert json.loads((tmp_path / "q.bin.json").read_text())["heldout"] == meta["heldout"]
    clf = QualityClassifier(tmp_path / "q.bin")
    hi, lo = clf.score(PROSE[0] + " " + PROSE[3]), clf.score(SPAM[0] + " " + SPAM[2])
    assert 0 <= lo < 0.5 < hi <= 1
    train_classifier(pos, neg, tmp_path / "q2.bin", TrainParams(epoch=10))
    assert (tmp_path / "q.bin").read_bytes() == (tmp_path / "q2.bin").read_bytes()
    assert clf.frame(["", PROSE[1]])["quality_score"].len() == 2


def test_too_little_data(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 2 positive"):
        train_classifier(["only one"], SPAM, tmp_path / "q.bin")


def test_cli_quality_train_from_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from corpuskit.cli import app

    (tmp_path / "pos.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in _corpus(1, PROSE, 60))
    )
    (tmp_path / "neg.txt").write_text("\n\n".join(_corpus(2, SPAM, 60)))
    out = tmp_path / "m" / "q.bin"
    args = [
        "quality",
        "train",
        "--positive",
        str(tmp_path / "pos.jsonl"),
        "--negative",
        str(tmp_path / "neg.txt"),
    ]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.exists() and "held-out" in res.output
    report = tmp_path / "q.json"
    res = CliRunner().invoke(app, [*args, "--out", str(out), "--json", str(report)])
    data = json.loads(report.read_text(), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert res.exit_code == 0 and data["model"] == str(out) and 0.5 < data["heldout"]["accuracy"] <= 1.0
    res = CliRunner().invoke(app, ["quality", "train", "--positive", "nosuch", "--negative", "x"])
    assert res.exit_code == 2 and "neither a file nor a source" in res.output


def test_quality_score_is_a_signal_sources_can_threshold(tmp_path: Path) -> None:
    import polars as pl
    import yaml

    from corpuskit.config import load_source_config
    from corpuskit.curate.pipeline import curate_source
    from corpuskit.documents import document_id
    from tests.support.store import attributes_dir, commit_rows

    train_classifier(_corpus(1, PROSE, 120), _corpus(2, SPAM, 120), tmp_path / "q.bin", TrainParams(epoch=10))
    corpus = tmp_path / "corpus"
    texts = _corpus(3, PROSE, 5) + _corpus(4, SPAM, 5)
    rows = [
        {"id": document_id("s", str(i)), "source": "s", "text": t, "locator": str(i)}
        for i, t in enumerate(texts)
    ]
    commit_rows(corpus, "s", "k", rows)
    cfg = {"name": "s", "kind": "jsonl", "inputs": ["x"], "output": str(corpus)}
    cfg["curate"] = {"langid": None, "filters": [], "quality": {"model": "q.bin", "min_score": 0.5}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(cfg))  # model path relative to the config file
    curate_source(load_source_config(tmp_path / "s.yaml"))
    sig = pl.read_parquet(attributes_dir(corpus, "s", "signals") / "*.parquet")
    dec = pl.read_parquet(attributes_dir(corpus, "s", "curate") / "*.parquet")
    assert sig["quality_score"].is_between(0, 1).all()
    assert dec["curate_drop_reason"].to_list() == [None] * 5 + ["quality:low_score"] * 5
