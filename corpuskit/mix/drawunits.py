"""Drawing as units of work: one unit per (mixture, source), run in-process, in a local pool or on Ray.

Tokenizing is the costly, independent part of a mix, so every source of every mixture of a build is one
unit of :func:`corpuskit.store.units.run_units` (:mod:`.drawtask`: what a unit does in its worker). The
driver checks and commits each unit's files (:mod:`.drawfiles`), then gathers each mixture as before, so
the shards do not depend on the executor or the worker count.

A unit that raises is a failure (not committed; :class:`UnitsFailed` names it, the rerun redoes it and
reuses the committed ones); a mixture the data cannot satisfy (too much repetition) is a
:class:`MixError`, as in a one-process build. A pool whose source was committed to since the driver read
it is refused by the unit (a failure).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.mix import drawfiles
from corpuskit.mix.context import StudyContext
from corpuskit.mix.drawtask import DrawTask, draw_unit, hashes_digest, lending
from corpuskit.mix.plan import MixtureSettings
from corpuskit.mix.sampler import MixError, normalise_weights, split_budget
from corpuskit.mix.shards import dtype_for_vocab
from corpuskit.progress import Meter, Reporter
from corpuskit.store.atomic import atomic_write, remove_temp_files
from corpuskit.store.units import Unit, UnitFailure, UnitsFailed, run_units


@dataclass
class MixtureDraws:
    """A mixture's committed draws, by source (sorted), and the time its units took (summed)."""

    work: Path
    summaries: dict[str, dict[str, Any]]
    seconds: float = 0.0


def _save_hashes(work: Path, ctx: StudyContext) -> str:
    """The held-out n-gram set as ``decontam-<digest>.npy`` in ``work`` (written once), or ''."""
    if ctx.decontaminator is None:
        return ""
    hashes = ctx.decontaminator.hashes
    path = work / f"decontam-{hashes_digest(hashes)}.npy"
    if not path.exists():

        def save(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.save(f, hashes)

        atomic_write(path, save)
    return str(path)


def plan_tasks(ctx: StudyContext, run: MixtureSettings, out: Path) -> list[DrawTask]:
    """The units of one mixture (sources with a positive target, by name); creates its draws folder."""
    weights, _ = normalise_weights(run.mixture.weights, sorted(ctx.pools))
    targets = split_budget(weights, run.mixture.tokens)
    work = drawfiles.draws_dir(Path(out).resolve())
    work.mkdir(parents=True, exist_ok=True)
    remove_temp_files(work)
    decontam = _save_hashes(work, ctx)
    spec = ctx.tokenizer_spec if ctx.tokenizer_spec == "bytes" else str(Path(ctx.tokenizer_spec).resolve())
    return [
        DrawTask(
            run.name,
            s,
            str(work),
            str(Path(ctx.corpus).resolve()),
            ctx.heldout_settings.model_dump_json(),
            ctx.pools[s].state,
            spec,
            ctx.tokenizer.hash,
            decontam,
            ctx.decontam_settings.ngram,
            targets[s],
            run.seed,
            run.max_epochs,
            run.allow_repeat,
        )
        for s in sorted(targets)
        if targets[s] > 0
    ]


class _Progress:
    """Per-mixture token meters. Counts reported while units run go to a mixture when it is clear whose
    they are (units run one at a time in this process, or the build has one mixture); otherwise a
    mixture's meter moves as each of its units finishes."""

    def __init__(self, meters: dict[str, Meter], units: list[Unit], sequential: bool):
        self.meters, self.pending = meters, [u.args[0] for u in units]
        self.live = sequential or len({t.mixture for t in self.pending}) <= 1

    def report(self, n: int) -> None:
        if self.live and self.pending:
            self.meters[self.pending[0].mixture].advance(n)

    def finished(self, key: str) -> None:
        t = next(t for t in self.pending if f"{t.mixture}/{t.source}" == key)
        self.pending.remove(t)
        if not self.live:
            self.meters[t.mixture].advance(t.target)


def run_draws(
    ctx: StudyContext,
    runs: list[tuple[MixtureSettings, Path]],
    *,
    workers: int,
    executor: str,
    progress: Reporter,
) -> dict[str, MixtureDraws]:
    """Draw every source of every mixture in ``runs`` (committed draws of an earlier run are reused)."""
    itemsize = dtype_for_vocab(ctx.tokenizer.vocab_size).itemsize
    meters = {run.name: progress.meter(run.name, "tokens", total=run.mixture.tokens) for run, _ in runs}
    tasks = [t for run, out in runs for t in plan_tasks(ctx, run, out)]
    draws = {run.name: MixtureDraws(drawfiles.draws_dir(Path(out).resolve()), {}) for run, out in runs}
    units = []
    for t in tasks:
        done = drawfiles.committed(Path(t.work), t.source, t.settings(), itemsize)
        if done is None:
            units.append(Unit(f"{t.mixture}/{t.source}", (t,)))
        else:
            draws[t.mixture].summaries[t.source] = done
            meters[t.mixture].advance(t.target)
    units.sort(key=lambda u: (u.args[0].source, u.key))  # a worker's next unit is often the same pool
    sequential = executor == "local" and (workers <= 1 or len(units) <= 1)
    if sequential:
        units.sort(key=lambda u: [r.name for r, _ in runs].index(u.args[0].mixture))
    tracker = _Progress(meters, units, sequential)
    memory_mb = 512 + 2 * max((ctx.pools[u.args[0].source].bytes for u in units), default=0) // 2**20
    by_key = {u.key: u.args[0] for u in units}
    rank = {f"{r.name}/{s}": (i, s) for i, (r, _) in enumerate(runs) for s in ctx.pools}
    failed, refused = [], {}
    with lending(ctx, tasks[0].decontam if tasks else ""):
        on = {"workers": workers, "executor": executor, "memory_mb": memory_mb}
        results = run_units(draw_unit, units, on_progress=tracker.report, **on)
        for key, res in results:
            tracker.finished(key)
            mixture, source = key.split("/", 1)
            if isinstance(res, UnitFailure):
                failed.append(f"{key}: {res}")
            elif "refused" in res:
                refused[key] = res["refused"]
            else:
                t = by_key[key]
                try:
                    drawfiles.check_files(Path(t.work), source, res, itemsize)
                except drawfiles.DrawCorrupt as e:
                    failed.append(f"{key}: DrawCorrupt: {e}")
                    continue
                drawfiles.commit(Path(t.work), source, t.settings(), res)
                draws[mixture].summaries[source] = res
                draws[mixture].seconds += res["seconds"]
    if refused:
        raise MixError(refused[min(refused, key=rank.__getitem__)])  # the first, as one process meets them
    if failed:
        raise UnitsFailed("mix draw", sorted(failed))
    for d in draws.values():
        d.summaries = dict(sorted(d.summaries.items()))
    return draws
