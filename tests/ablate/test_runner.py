"""The ablation runner on real text: diagonal dominance, outputs, resume after a kill, swarm + regression."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from corpuskit.ablate import mixtures, report, runner, sweep
from corpuskit.ablate.config import AblationConfig, load_ablation_config
from corpuskit.ablate.train import read_curve
from corpuskit.config import ConfigError
from tests.support.ablate import build_mixture, forum_posts, split_docs, write_heldout
from tests.support.mix_corpus import write_source

TRAIN = {"tokens": 48_000, "batch_size": 8, "lr": 3e-3, "seeds": [0], "threads": 1}


@pytest.fixture(scope="module")
def corpus(shared_data: Path):
    austen = (shared_data / "books" / "en_austen_pride_and_prejudice_pg1342.txt").read_text(
        encoding="utf-8-sig"
    )
    books = split_docs(austen[20_000:400_000])
    forums = forum_posts(shared_data)
    train = {"books": books[8:], "forums": forums[8:]}
    held = {"books": books[:8], "forums": forums[:8]}
    return train, held


def _mixtures(root: Path, corpus, specs: dict[str, dict[str, float]], tokens: int = 200_000) -> list[dict]:
    train, held = corpus
    hb = write_heldout(root / "heldout", held)
    for name, w in specs.items():
        build_mixture(root / "mixes" / name, train, w, tokens, hb)
    return [{"name": n, "path": str(root / "mixes" / n)} for n in specs]


def test_diagonal_dominance_books_vs_forums(tmp_path: Path, corpus) -> None:
    mixes = _mixtures(tmp_path, corpus, {"books": {"books": 1.0}, "forums": {"forums": 1.0}})
    cfg = AblationConfig.model_validate(
        {"output": str(tmp_path / "out"), "training": {**TRAIN, "tokens": 240_000}, "mixtures": mixes}
    )
    s = runner.run_ablation(cfg)
    bpb = {m: s["mixtures"][m]["sets"] for m in ("books", "forums")}
    assert bpb["books"]["books"]["bpb_mean"] < bpb["forums"]["books"]["bpb_mean"]
    assert bpb["forums"]["forums"]["bpb_mean"] < bpb["books"]["forums"]["bpb_mean"]
    out = tmp_path / "out"
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 2 * 1 * 2  # mixtures × seeds × eval sets
    assert {r["eval_set"] for r in rows} == {"books", "forums"}
    assert (out / "bpb_per_set.png").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["comparisons"][0]["mixture"] == "forums"
    assert (out / "runs" / "books" / "seed-0" / "curve.csv").exists()


def test_resume_after_kill_equals_uninterrupted(tmp_path: Path, corpus, monkeypatch) -> None:
    mixes = _mixtures(
        tmp_path, corpus, {"a": {"books": 0.5, "forums": 0.5}, "b": {"books": 0.8, "forums": 0.2}}
    )
    base = {
        "training": {**TRAIN, "tokens": 24_000, "seeds": [0, 1]},
        "mixtures": mixes,
        "eval": {"max_documents": 3},
    }
    full = runner.run_ablation(AblationConfig.model_validate({**base, "output": str(tmp_path / "full")}))

    real = runner.run_unit
    calls: list[tuple[str, int]] = []

    def killed_after_two(trainer, mixture, tok, sets, unit, cfg, meters=None):
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies in the middle of the ablation
        calls.append((unit.mixture, unit.seed))
        return real(trainer, mixture, tok, sets, unit, cfg, meters)

    cfg = AblationConfig.model_validate({**base, "output": str(tmp_path / "resumed")})
    monkeypatch.setattr(runner, "run_unit", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        runner.run_ablation(cfg)
    assert calls == [("a", 0), ("a", 1)]
    assert not (tmp_path / "resumed" / "runs" / "b" / "seed-0" / "done.json").exists()

    calls.clear()
    monkeypatch.setattr(
        runner, "run_unit", lambda *a, **k: (calls.append((a[4].mixture, a[4].seed)), real(*a, **k))[1]
    )
    resumed = runner.run_ablation(cfg)
    assert calls == [("b", 0), ("b", 1)]  # finished units were skipped by their markers
    assert (tmp_path / "resumed" / "results.csv").read_bytes() == (
        tmp_path / "full" / "results.csv"
    ).read_bytes()
    assert resumed["comparisons"] == full["comparisons"]

    changed = AblationConfig.model_validate(
        {**base, "output": str(tmp_path / "resumed"), "training": {**TRAIN, "seeds": [0, 1], "lr": 5e-3}}
    )
    with pytest.raises(ConfigError, match="different model/training/eval config"):
        runner.run_ablation(changed)


def test_swarm_regression_and_proposal_from_one_study(tmp_path: Path, corpus, monkeypatch) -> None:
    train, _ = corpus
    for src, docs in train.items():
        write_source(tmp_path / "corpus", src, docs)
    opened: list[Path] = []
    real_open = mixtures.open_study
    monkeypatch.setattr(mixtures, "open_study", lambda *a, **k: (opened.append(a[0]), real_open(*a, **k))[1])
    cfg = AblationConfig.model_validate(
        {
            "output": str(tmp_path / "out"),
            "training": {**TRAIN, "tokens": 16_000},
            "build": {
                "corpus": str(tmp_path / "corpus"),
                "tokens": 60_000,
                "options": {"heldout_bytes": 12_000, "decontaminate": False},
            },
            "swarm": {"runs": 5, "min_weight": 0.05, "concentration": 0.5},
            "eval": {"max_documents": 3},
            "regression": {"candidates": 2000, "top_k": 20},
        }
    )
    s = runner.run_ablation(cfg)
    assert len(opened) == 1  # one study context (corpus read and split once) for the whole swarm
    built = [
        json.loads(p.read_text())["weights_requested"]
        for p in (tmp_path / "out").glob("mixtures/*/manifest.json")
    ]
    assert len(built) == 5 and all(min(w.values()) >= 0.05 - 1e-9 for w in built)
    r = s["regression"]
    assert r["runs"] == 5 and -1 <= r["spearman_rho_heldout"] <= 1
    p = r["proposal"]
    assert sum(p["weights"].values()) == pytest.approx(1.0)
    assert p["interval_95"][0] <= p["predicted_bpb"] <= p["interval_95"][1]
    assert (tmp_path / "out" / "regression.png").exists()
    cols, rows = report.summary_rows(s)
    assert rows[0][0] == "swarm-000 (base)"


def test_a_typo_in_build_options_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "ablation.yaml"
    bad.write_text(
        "mixtures:\n  - {name: a, weights: {b: 1}}\nbuild: {corpus: c, options: {heldout_byts: 5}}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_ablation_config(bad)
    assert str(bad) in str(e.value) and "build.options.heldout_byts" in str(e.value)


def test_config_errors_are_located(tmp_path: Path) -> None:
    bad = tmp_path / "ablation.yaml"
    bad.write_text("mixtures:\n  - {name: a, path: x, weights: {b: 1}}\ntraining: {lr: -1, bogus: 2}\n")
    with pytest.raises(ConfigError) as e:
        load_ablation_config(bad)
    msg = str(e.value)
    assert "training.lr" in msg and "training.bogus" in msg and "exactly one of 'path' or 'weights'" in msg
    bad.write_text("mixtures:\n  - {name: a, weights: {b: 1}}\n")
    with pytest.raises(ConfigError, match="need a 'build' section"):
        load_ablation_config(bad)


def test_a_diverged_run_is_recorded_and_the_others_are_summarised(
    tmp_path: Path, corpus, monkeypatch
) -> None:
    from dataclasses import replace

    from typer.testing import CliRunner

    from corpuskit.ablate.train import Trainer
    from corpuskit.cli import app

    mixes = _mixtures(
        tmp_path, corpus, {"a": {"books": 0.5, "forums": 0.5}, "b": {"books": 0.8, "forums": 0.2}}
    )
    real = runner.run_unit

    def b1_at_a_huge_lr(trainer, mixture, tok, sets, unit, cfg, meters=None):
        if (unit.mixture, unit.seed) == ("b", 1):  # a real divergence: the same run at lr 50, no warmup
            bad = replace(trainer.cfg, lr=50.0, warmup_fraction=0.0, warmup_min_steps=0, log_every=1)
            trainer = Trainer(trainer.model_cfg, bad)
        return real(trainer, mixture, tok, sets, unit, cfg, meters)

    monkeypatch.setattr(runner, "run_unit", b1_at_a_huge_lr)
    cfg = tmp_path / "ablation.yaml"
    train = {**TRAIN, "tokens": 24_000, "seeds": [0, 1]}
    cfg.write_text(
        json.dumps({"output": "out", "training": train, "mixtures": mixes, "eval": {"max_documents": 3}})
    )
    res = CliRunner().invoke(app, ["ablate", str(cfg), "--json", str(tmp_path / "s.json")])
    assert res.exit_code == 1, res.output
    assert "b seed 1" in res.output and "1 of 4 runs failed" in res.output
    run = tmp_path / "out" / "runs" / "b" / "seed-1"
    failed = json.loads((run / "failed.json").read_text())
    assert failed["lr"] > 1 and "lower training.lr" in failed["advice"] and not (run / "done.json").exists()
    assert len(read_curve(run / "curve.csv")) >= 1  # the curve up to the divergence is kept
    s = json.loads((tmp_path / "s.json").read_text())  # strict JSON even with a failure
    assert s["mixtures"]["a"]["seeds"] == [0, 1] and s["mixtures"]["b"]["seeds"] == [0]
    assert [c["mixture"] for c in s["comparisons"]] == ["b"] and s["failed_runs"][0]["seed"] == 1
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert {(r["mixture"], r["seed"]) for r in rows} == {("a", "0"), ("a", "1"), ("b", "0")}
    assert any("plumbing only" in n for n in s["notes"])


def test_lr_sweep_chooses_a_rate_and_the_ablation_uses_it(tmp_path: Path, corpus, monkeypatch) -> None:
    mixes = _mixtures(
        tmp_path, corpus, {"a": {"books": 0.5, "forums": 0.5}, "b": {"books": 0.8, "forums": 0.2}}
    )
    cfg = AblationConfig.model_validate(
        {
            "output": str(tmp_path / "out"),
            "training": {**TRAIN, "tokens": 16_000, "lr": 4e-3, "warmup_min_steps": 0, "log_every": 1},
            "mixtures": mixes,
            "eval": {"max_documents": 2},
            "sweep": {"factors": [0.5, 1.0, 5000.0], "tokens": 16_000},  # lr 20 diverges
        }
    )
    s = runner.run_ablation(cfg)
    sw = s["lr_sweep"]
    assert [r["lr"] for r in sw["runs"]] == [2e-3, 4e-3, 20.0] and sw["runs"][2]["diverged"]
    assert sw["chosen_lr"] in (2e-3, 4e-3) and s["training_used"]["lr"] == sw["chosen_lr"]
    marker = json.loads((tmp_path / "out" / "runs" / "a" / "seed-0" / "done.json").read_text())
    assert marker["lr"] == sw["chosen_lr"]
    trained: list[float] = []
    real = sweep.Trainer.train
    monkeypatch.setattr(
        sweep.Trainer, "train", lambda self, *a, **k: (trained.append(self.cfg.lr), real(self, *a, **k))[1]
    )
    again = runner.run_ablation(cfg)  # the sweep runs are stored: nothing is trained again
    assert trained == [] and again["lr_sweep"]["chosen_lr"] == sw["chosen_lr"]


def test_sweep_choice_skips_diverged_and_takes_the_safe_side() -> None:
    rows = [
        {"lr": 1e-3, "loss": 2.30, "diverged": False},
        {"lr": 2e-3, "loss": 2.205, "diverged": False},
        {"lr": 4e-3, "loss": 2.20, "diverged": False},
        {"lr": 8e-3, "loss": 1.0, "diverged": True},
    ]
    assert sweep.choose(rows, 0.01) == 2e-3 and sweep.choose(rows, 0.0) == 4e-3
    assert sweep.choose([{"lr": 1.0, "loss": 9.0, "diverged": True}], 0.01) is None


def test_packed_runs_give_the_sequential_scores_and_resume(tmp_path: Path, corpus) -> None:
    """``training.pack: on``: all (mixture, seed) runs train as one pack, then each is evaluated; the
    scores match one-by-one training within float tolerance, and a rerun loads every marker."""
    mixes = _mixtures(
        tmp_path, corpus, {"a": {"books": 0.5, "forums": 0.5}, "b": {"books": 0.8, "forums": 0.2}}
    )
    summaries = {}
    for pack in ("off", "on"):
        train = {**TRAIN, "tokens": 24_000, "seeds": [0, 1], "pack": pack}
        cfg = AblationConfig.model_validate(
            {
                "output": str(tmp_path / pack),
                "training": train,
                "mixtures": mixes,
                "eval": {"max_documents": 3},
            }
        )
        summaries[pack] = runner.run_ablation(cfg)
    for m in ("a", "b"):
        for s in ("books", "forums"):
            seq = summaries["off"]["mixtures"][m]["sets"][s]["bpb_mean"]
            packed = summaries["on"]["mixtures"][m]["sets"][s]["bpb_mean"]
            assert packed == pytest.approx(seq, rel=1e-4)
    markers = sorted((tmp_path / "on" / "runs").glob("*/seed-*/done.json"))
    assert len(markers) == 4
    before = [p.read_bytes() for p in markers]
    again = runner.run_ablation(cfg)  # everything done: loaded, not retrained
    assert [p.read_bytes() for p in markers] == before and again["runs"]["failed"] == 0
