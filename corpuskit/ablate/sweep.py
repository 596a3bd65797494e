"""A short learning-rate sweep on the baseline mixture, so an ablation trains at a rate that neither
diverges nor wastes the budget on *this* data and model (``sweep:`` or ``corpuskit ablate --lr-sweep``).

Each candidate lr (``factors`` × the preset's or the configured lr) trains the baseline for ``tokens``
with every sweep seed, with the ablation's schedule shape (the warmup minimum scaled to the shorter run).
A candidate that diverges on any seed is out; of the others, the score is the worst seed's final loss
(mean of the last logged points) and the chosen lr is the smallest within ``tolerance`` of the best score
(the safe side of the edge). Runs are stored under ``<output>/sweep/`` and reused when the ablation is
run again; the result goes into ``summary.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

import numpy as np

from corpuskit.ablate.config import AblationConfig
from corpuskit.ablate.train import TrainConfig, Trainer, TrainingDiverged
from corpuskit.config import ConfigError
from corpuskit.mix import Mixture
from corpuskit.progress import SILENT, Reporter
from corpuskit.store.atomic import atomic_write_json, json_safe, read_json

TAIL_POINTS = 3  # final loss = mean of the last logged points (one point is too noisy)


def final_loss(curve: list[dict[str, float]]) -> float:
    return float(np.mean([p["loss"] for p in curve[-TAIL_POINTS:]]))


def choose(runs: list[dict[str, Any]], tolerance: float) -> float | None:
    """The smallest lr that never diverged and whose worst-seed loss is within ``tolerance`` of the best."""
    ok = [r for r in runs if not r["diverged"]]
    if not ok:
        return None
    best = min(r["loss"] for r in ok)
    return min(r["lr"] for r in ok if r["loss"] <= best * (1 + tolerance))


def sweep_lrs(
    trainer_for: Any, mixture: Mixture, lrs: list[float], seeds: list[int], store: Any, init_seed: int,
    progress: Reporter = SILENT,
) -> list[dict[str, Any]]:  # fmt: skip
    """Train ``mixture`` at every lr × seed (``trainer_for(lr)`` gives the trainer); one row per lr.
    ``store`` (or None) has ``load(lr, seed)`` and ``save(lr, seed, row)``: finished runs are reused."""
    rows = []
    m = progress.meter("lr sweep", "runs", total=len(lrs) * len(seeds))
    for lr in lrs:
        losses, diverged = [], False
        for seed in seeds:
            got = store.load(lr, seed) if store else None
            if got is None:
                trainer = trainer_for(lr)
                try:
                    curve = trainer.train(mixture, seed=seed, init_seed=init_seed + seed).curve
                    got = {"diverged": False, "loss": final_loss(curve), "curve": curve}
                except TrainingDiverged as e:
                    got = {"diverged": True, "loss": e.loss, "step": e.step, "curve": e.curve}
                if store:
                    store.save(lr, seed, got)
            m.advance(1)
            diverged |= got["diverged"]
            losses.append(got["loss"])
        worst = float("inf") if diverged else max(losses)
        rows.append({"lr": lr, "seeds": seeds, "loss": worst, "losses": losses, "diverged": diverged})
    return rows


class _Store:
    def __init__(self, folder, key: str):
        self.folder, self.key = folder, key

    def _path(self, lr: float, seed: int):
        return self.folder / f"lr-{lr:.3e}-seed-{seed}.json"

    def load(self, lr: float, seed: int) -> dict[str, Any] | None:
        got = read_json(self._path(lr, seed))
        return got if isinstance(got, dict) and got.get("key") == self.key else None

    def save(self, lr: float, seed: int, row: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self._path(lr, seed), json_safe({**row, "key": self.key}))


def apply_sweep(
    cfg: AblationConfig, baseline: Mixture, *, progress: Reporter = SILENT
) -> tuple[AblationConfig, dict[str, Any]]:
    """Run the sweep; returns the config with ``training.lr`` set to the chosen rate, and the sweep record."""
    sw = cfg.sweep
    assert sw is not None
    base_tc: TrainConfig = cfg.training.train_config(cfg.model.preset)
    tokens = sw.tokens or max(1, cfg.training.tokens // 4)
    lrs = sorted({round(base_tc.lr * f, 12) for f in sw.factors})
    model_cfg = cfg.model.build(baseline.vocab_size)
    key = hashlib.sha256(
        json.dumps([cfg.run_hash(), tokens, str(baseline.path)], sort_keys=True).encode()
    ).hexdigest()[:16]
    trainers: dict[str, Trainer] = {}
    # the same schedule shape as the ablation's runs: the warmup minimum shrinks with the shorter run
    short = replace(base_tc, tokens=tokens)
    short = replace(short, warmup_min_steps=round(base_tc.warmup_min_steps * tokens / cfg.training.tokens))

    def trainer_for(lr: float) -> Trainer:
        t = trainers.get("t")
        if t is None:
            t = trainers["t"] = Trainer(model_cfg, short)
        t.cfg = replace(short, lr=lr)  # one model (and compiled graph) for every lr
        return t

    store = _Store(cfg.resolve(cfg.output) / "sweep", key)
    rows = sweep_lrs(trainer_for, baseline, lrs, sw.seeds, store, cfg.training.init_seed, progress)
    chosen = choose(rows, sw.tolerance)
    if chosen is None:
        raise ConfigError(
            f"lr sweep: every rate in {', '.join(f'{x:.2e}' for x in lrs)} diverged on the baseline; "
            "give lower sweep.factors or a lower training.lr, or raise training.warmup_min_steps"
        )
    for r in rows:
        r["chosen"] = r["lr"] == chosen
    record = {"chosen_lr": chosen, "tokens": tokens, "baseline": cfg.baseline_name(), "runs": rows}
    training = cfg.training.model_copy(update={"lr": chosen})
    return cfg.model_copy(update={"training": training}), record
