"""Training on CPU: the loss falls, the same seed gives the same numbers, divergence stops the run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from corpuskit.ablate.model import preset
from corpuskit.ablate.train import TrainConfig, Trainer, TrainingDiverged, lr_at, read_curve
from corpuskit.mix.shards import open_mixture
from tests.support.ablate import build_mixture, write_heldout

TEXT = (
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
    "must be in want of a wife. However little known the feelings or views of such a man may be. "
) * 40


@pytest.fixture(scope="module")
def mixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    docs = [TEXT[i : i + 1500] for i in range(0, len(TEXT) - 1500, 300)]
    hb = write_heldout(root / "held", {"a": docs[:2]})
    return open_mixture(build_mixture(root / "m", {"a": docs}, {"a": 1.0}, 60_000, hb))


def _trainer(**kw) -> Trainer:
    cfg = TrainConfig(
        **{"tokens": 40 * 8 * 64, "batch_size": 8, "lr": 1e-2, "threads": 1, "log_every": 5, **kw}
    )
    return Trainer(preset("smoke", 257, context=64), cfg)


def test_loss_falls_and_curve_is_logged(mixture, tmp_path: Path) -> None:
    tr = _trainer()
    res = tr.train(mixture, seed=0, init_seed=0, curve_path=tmp_path / "curve.csv")
    assert res.steps == 40 and res.tokens == 40 * 8 * 64
    curve = read_curve(tmp_path / "curve.csv")
    assert curve[0]["loss"] == pytest.approx(math.log(257), abs=0.3)  # starts near uniform
    assert curve[-1]["loss"] < curve[0]["loss"] - 1.5
    assert res.tokens_per_second > 0 and 0 < res.mfu < 1


def test_same_seed_same_numbers_and_reuse_across_runs(mixture) -> None:
    tr = _trainer(tokens=10 * 8 * 64)
    a = tr.train(mixture, seed=1, init_seed=7)
    tr.train(mixture, seed=2, init_seed=8)  # the trainer (and its model) is reused across runs
    b = tr.train(mixture, seed=1, init_seed=7)
    c = _trainer(tokens=10 * 8 * 64).train(mixture, seed=1, init_seed=7)
    losses = [[p["loss"] for p in r.curve] for r in (a, b, c)]
    assert losses[0] == losses[1] == losses[2]
    d = tr.train(mixture, seed=2, init_seed=7)
    assert [p["loss"] for p in d.curve] != losses[0]


def test_nan_or_blowup_stops_with_clear_message(mixture) -> None:
    with pytest.raises(TrainingDiverged, match="lower training.lr"):
        _trainer(lr=50.0, warmup_fraction=0.0, tokens=30 * 8 * 64, log_every=1).train(
            mixture, seed=0, init_seed=0
        )


def test_cosine_schedule_with_warmup() -> None:
    cfg = TrainConfig(lr=1.0, min_lr_ratio=0.1, warmup_fraction=0.1)
    lrs = np.array([lr_at(s, 100, cfg) for s in range(100)])
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert (np.diff(lrs[10:]) <= 1e-12).all() and lrs[-1] == pytest.approx(0.1, abs=1e-3)


def test_vocab_mismatch_is_explained(mixture) -> None:
    tr = Trainer(preset("smoke", 300, context=64), TrainConfig(tokens=512, batch_size=8, threads=1))
    with pytest.raises(ValueError, match="one tokenizer"):
        tr.train(mixture, seed=0, init_seed=0)


def test_warmup_has_a_minimum_number_of_steps() -> None:
    cfg = TrainConfig(lr=1.0, warmup_fraction=0.05, warmup_min_steps=50)
    assert cfg.warmup(292) == 50 and cfg.warmup(10_000) == 500 and cfg.warmup(20) == 20
    assert lr_at(0, 292, cfg) == pytest.approx(1 / 50) and lr_at(49, 292, cfg) == pytest.approx(1.0)
    assert TrainConfig(warmup_fraction=0.05).warmup(292) == 14  # the fraction alone: the 14 steps


def test_a_diverged_run_keeps_its_curve(mixture, tmp_path: Path) -> None:
    with pytest.raises(TrainingDiverged) as e:
        _trainer(lr=50.0, warmup_fraction=0.0, tokens=30 * 8 * 64, log_every=1).train(
            mixture, seed=0, init_seed=0, curve_path=tmp_path / "curve.csv"
        )
    assert e.value.curve and e.value.curve[-1]["step"] == e.value.step
    assert [p["step"] for p in read_curve(tmp_path / "curve.csv")] == [p["step"] for p in e.value.curve]
