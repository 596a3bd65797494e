"""Run an ablation: every (mixture, seed) is one resumable unit; then the summary and the outputs.

Layout of ``<output>/``::

    mixtures/<name>/                 mixtures built from weights (explicit or swarm)
    sweep/                           the learning-rate sweep, when asked for (see :mod:`.sweep`)
    runs/<mixture>/seed-<s>/curve.csv, scores.json, done.json   (done.json written last = completion marker)
    runs/<mixture>/seed-<s>/failed.json                          a run that diverged (its curve is kept)
    results.csv                      one row per finished mixture × seed × eval set
    summary.json                     means ± std, comparisons, seed σ, trust, failed runs, regression
    timings.json                     train and eval wall time, tokens/s and MFU per run (not reproducible)
    bpb_per_set.png, regression.png

A killed ablation is simply run again: finished units (marker present, same run hash) are loaded, not
retrained. A marker from a different model/training/eval config is an error, never silently mixed in.
A run that diverges is recorded as failed and the others go on; the summary names it and what to change.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpuskit.ablate.config import AblationConfig
from corpuskit.ablate.evalsets import eval_sets
from corpuskit.ablate.evaluate import EvalSet, SetScore, evaluate
from corpuskit.ablate.mixtures import mixture_hash, resolve_mixtures
from corpuskit.ablate.packing import pack_runs
from corpuskit.ablate.summary import summarise, write_outputs
from corpuskit.ablate.train import Trainer, TrainingDiverged, TrainResult
from corpuskit.config import ConfigError
from corpuskit.mix import Mixture
from corpuskit.progress import SILENT, Meter, Reporter
from corpuskit.store.atomic import atomic_write_json


@dataclass
class Unit:
    """One (mixture, seed) run and the files of its ``directory`` (the layout above), named only here."""

    mixture: str
    seed: int
    directory: Path
    curve: Path = field(init=False, repr=False, compare=False)  # appended while training; kept on divergence
    scores: Path = field(init=False, repr=False, compare=False)  # the eval sets' scores
    marker: Path = field(init=False, repr=False, compare=False)  # done.json, written last: run complete
    failure: Path = field(init=False, repr=False, compare=False)  # failed.json: why training diverged

    def __post_init__(self) -> None:
        names = ("curve.csv", "scores.json", "done.json", "failed.json")
        self.curve, self.scores, self.marker, self.failure = (self.directory / n for n in names)


@dataclass
class Meters:
    """The ablation's two progress counters: optimizer steps trained and eval tokens scored."""

    train: Meter
    eval: Meter


def run_unit(
    trainer: Trainer,
    mixture: Mixture,
    tokenizer,
    sets: list[EvalSet],
    unit: Unit,
    cfg: AblationConfig,
    meters: Meters | None = None,
) -> list[SetScore]:
    """Train + evaluate one (mixture, seed), then write the marker last."""
    meters = meters or Meters(Meter(), Meter())
    unit.directory.mkdir(parents=True, exist_ok=True)
    unit.failure.unlink(missing_ok=True)
    result = trainer.train(
        mixture,
        seed=unit.seed,
        init_seed=cfg.training.init_seed + unit.seed,
        curve_path=unit.curve,
        meter=meters.train,
    )
    return finish_unit(trainer, result, mixture, tokenizer, sets, unit, cfg, meters.eval)


def finish_unit(
    trainer: Trainer,
    result: TrainResult,
    mixture: Mixture,
    tokenizer,
    sets: list[EvalSet],
    unit: Unit,
    cfg: AblationConfig,
    meter: Meter,
) -> list[SetScore]:
    """Evaluate the trained weights in ``trainer.model``, write the scores, then the marker last."""
    t0 = time.perf_counter()
    scores = evaluate(
        trainer.model,
        tokenizer,
        sets,
        trainer.model_cfg.context,
        device=trainer.device,
        batch_size=cfg.eval.batch_size,
        meter=meter,
    )
    eval_s = time.perf_counter() - t0
    eval_tokens = int(sum(int(s.tokens.sum()) for s in scores))
    atomic_write_json(unit.scores, {"sets": [s.to_json() for s in scores]})
    atomic_write_json(
        unit.marker,
        {
            "run_hash": cfg.run_hash(),
            "mixture": unit.mixture,
            "mixture_hash": mixture_hash(mixture),
            "seed": unit.seed,
            "steps": result.steps,
            "train_tokens": result.tokens,
            "final_loss": result.final_loss,
            "seconds": result.seconds,
            "tokens_per_second": result.tokens_per_second,
            "mfu": result.mfu,
            "device": str(trainer.device),
            "lr": trainer.cfg.lr,
            "eval_seconds": eval_s,
            "eval_tokens": eval_tokens,
            "eval_tokens_per_second": eval_tokens / eval_s if eval_s > 0 else None,
        },
    )
    return scores


def run_pack(
    trainer: Trainer,
    mixtures: dict[str, Mixture],
    tokenizer,
    sets: list[EvalSet],
    pack: list[Unit],
    cfg: AblationConfig,
    meters: Meters,
) -> tuple[dict[tuple[str, int], list[SetScore]], list[dict[str, Any]]]:
    """Train a pack of same-shape units at once (:mod:`.packed`), then evaluate each member in turn."""
    from corpuskit.ablate.packed import PackedTrainer

    for u in pack:
        u.directory.mkdir(parents=True, exist_ok=True)
        u.failure.unlink(missing_ok=True)
    results = PackedTrainer(trainer.model_cfg, trainer.cfg).train(
        [trainer.cfg] * len(pack),
        [mixtures[u.mixture] for u in pack],
        seeds=[u.seed for u in pack],
        init_seeds=[cfg.training.init_seed + u.seed for u in pack],
        curve_paths=[u.curve for u in pack],
        meter=meters.train,
    )
    scores, failed = {}, []
    for u, res in zip(pack, results, strict=True):
        if res.diverged is not None:
            failed.append(record_failure(u, cfg, res.diverged))
            continue
        res.load_into(trainer.model)
        scores[(u.mixture, u.seed)] = finish_unit(
            trainer, res.result, mixtures[u.mixture], tokenizer, sets, u, cfg, meters.eval
        )
    return scores, failed


def packs(cfg: AblationConfig, todo: list[Unit], device_type: str) -> list[list[Unit]]:
    """Every run of an ablation has one shape, so all may share packs: on a GPU by default, where K small
    proxies in one pass use the device far better than one after another; on the CPU only when asked
    (it gains ~1.05-1.2x there, and a pack matches separate runs within float tolerance, not bit for bit)."""
    on = cfg.training.pack == "on" or (cfg.training.pack == "auto" and device_type == "cuda")
    if not on or len(todo) < 2:
        return [[u] for u in todo]
    return pack_runs(todo, key=lambda u: 0, max_size=cfg.training.pack_size)


def record_failure(unit: Unit, cfg: AblationConfig, error: TrainingDiverged) -> dict[str, Any]:
    """``failed.json`` beside the run's curve: what diverged, when, and what to change."""
    info = {
        "run_hash": cfg.run_hash(),
        "mixture": unit.mixture,
        "seed": unit.seed,
        "step": error.step,
        "lr": error.lr,
        "loss": error.loss,
        "error": str(error),
        "curve": str(unit.curve),
        "advice": f"lower training.lr (now {error.lr:.2e} at that step), raise training.warmup_min_steps, "
        "or run `corpuskit ablate --lr-sweep` to choose the rate on the baseline",
    }
    atomic_write_json(unit.failure, info)
    return info


def load_unit(unit: Unit, cfg: AblationConfig, mixture: Mixture) -> list[SetScore] | None:
    """Scores of a finished unit, None if unfinished; a marker from another config is an error."""
    if not unit.marker.exists():
        return None
    marker = json.loads(unit.marker.read_text())
    if marker.get("run_hash") != cfg.run_hash() or marker.get("mixture_hash") != mixture_hash(mixture):
        raise ConfigError(
            f"{unit.directory} holds a run made with a different model/training/eval config or mixture; "
            "use a new 'output' folder (or delete that run folder to retrain it)"
        )
    data = json.loads(unit.scores.read_text())
    return [SetScore.from_json(d) for d in data["sets"]]


def plan_units(cfg: AblationConfig, names: list[str], swarm_names: list[str]) -> list[Unit]:
    out = cfg.resolve(cfg.output)
    units = []
    for n in names:
        seeds = list(cfg.swarm.seeds or cfg.training.seeds[:1]) if n in swarm_names else cfg.training.seeds
        units += [Unit(n, s, out / "runs" / n / f"seed-{s}") for s in seeds]
    return units


def run_ablation(cfg: AblationConfig, *, progress: Reporter = SILENT) -> dict[str, Any]:
    """Everything ``corpuskit ablate`` does; returns the summary (also written to summary.json).

    With a ``sweep`` section the learning rate is chosen first (:mod:`.sweep`) and used for every run.
    """
    out = cfg.resolve(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    mixtures, swarm = resolve_mixtures(cfg)
    sweep_result = None
    if cfg.sweep is not None:
        from corpuskit.ablate.sweep import apply_sweep

        cfg, sweep_result = apply_sweep(cfg, mixtures[cfg.baseline_name()], progress=progress)
    first = next(iter(mixtures.values()))
    tokenizer = first.tokenizer()
    model_cfg = cfg.model.build(first.vocab_size)
    train_cfg = cfg.training.train_config(cfg.model.preset)
    sets = eval_sets(cfg, mixtures)
    units = plan_units(cfg, list(mixtures), swarm.names)

    scores: dict[tuple[str, int], list[SetScore]] = {}
    todo = []
    for u in units:
        got = load_unit(u, cfg, mixtures[u.mixture])
        if got is None:
            todo.append(u)
        else:
            scores[(u.mixture, u.seed)] = got
    failed: list[dict[str, Any]] = []
    if todo:
        trainer = Trainer(model_cfg, train_cfg)
        steps = train_cfg.steps(model_cfg.context)
        eval_tokens = sum(s.bytes for s in sets) * len(todo)  # an upper bound for BPE, exact for bytes
        meters = Meters(
            progress.meter(f"ablate: train {len(todo)} runs", "steps", total=len(todo) * steps),
            progress.meter("ablate: eval", "tokens", total=eval_tokens),
        )
        for pack in packs(cfg, todo, trainer.device.type):
            if len(pack) > 1:
                got, lost = run_pack(trainer, mixtures, tokenizer, sets, pack, cfg, meters)
                scores.update(got)
                failed += lost
                continue
            u = pack[0]
            try:
                scores[(u.mixture, u.seed)] = run_unit(
                    trainer, mixtures[u.mixture], tokenizer, sets, u, cfg, meters
                )
            except TrainingDiverged as e:
                failed.append(record_failure(u, cfg, e))
                meters.train.advance(steps - e.step - 1)
    summary = summarise(cfg, scores, sets, mixtures, swarm, failed, sweep_result)
    summary["runs"] = {"planned": len(units), "failed": len(failed)}  # no "trained now": a rerun is identical
    write_outputs(out, cfg, scores, summary, [u for u in units if (u.mixture, u.seed) in scores])
    return summary
