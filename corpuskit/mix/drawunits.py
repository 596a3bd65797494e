"""Drawing as units of work: one unit per (mixture, source), run in-process, in a local pool or on Ray.

Tokenizing is the costly, independent part of a mix, so every source of every mixture of a build is one
unit of :func:`corpuskit.store.units.run_units`. A unit reads what it needs itself (the source's pool from
the corpus, the tokenizer file, the held-out n-gram set the driver saved), draws exactly as
:func:`~corpuskit.mix.draw.draw_source` does in one process, and writes its files (:mod:`.drawfiles`); the
driver checks and commits them, then gathers each mixture as before, so the shards do not depend on the
executor or the worker count. Units that run in the driver's own process use the pools it already holds.

A unit that raises is a failure (not committed; :class:`UnitsFailed` names it, the rerun redoes it and
reuses the committed ones); a mixture the data cannot satisfy (too much repetition) is a
:class:`MixError`, as in a one-process build. A pool whose source was committed to since the driver read
it is refused (its :func:`~corpuskit.mix.pools.source_state` differs).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.mix import drawfiles
from corpuskit.mix.context import StudyContext
from corpuskit.mix.decontam import Decontaminator
from corpuskit.mix.draw import draw_source
from corpuskit.mix.heldout import HeldoutSettings
from corpuskit.mix.plan import MixtureSettings
from corpuskit.mix.pools import Pool, load_pool, source_state
from corpuskit.mix.sampler import MixError, normalise_weights, split_budget
from corpuskit.mix.shards import dtype_for_vocab
from corpuskit.mix.tokenizer import load_tokenizer
from corpuskit.progress import Meter, Reporter
from corpuskit.store.atomic import atomic_write, remove_temp_files
from corpuskit.store.units import Unit, UnitFailure, UnitsFailed, run_units

DRAW_VERSION = 1  # bump when what a unit writes changes: older committed draws are then redone

_lent: dict[str, Any] = {}  # what the driver lends to units run in its own process
_loaded: dict[str, Any] = {}  # what this worker process read itself (at most one pool)


@dataclass(frozen=True)
class DrawTask:
    """Everything one unit needs, all plain values (it crosses to a worker process or a Ray node)."""

    mixture: str
    source: str
    work: str  # the mixture's draws folder
    corpus: str
    heldout: str  # HeldoutSettings as JSON
    state: str  # the source's state when the driver read its pool
    tokenizer: str  # 'bytes' or an absolute tokenizer.json path
    tokenizer_hash: str
    decontam: str  # the held-out n-gram hashes (.npy, its digest in the name), or '' when off
    ngram: int
    target: int
    seed: int
    max_epochs: float
    allow_repeat: bool

    def settings(self) -> str:
        """What the draw depends on (not where it is written): a committed draw is reused only for these."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("work", "corpus", "tokenizer")}
        fields["decontam"] = Path(self.decontam).name
        text = json.dumps({"version": DRAW_VERSION, **fields}, sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _pool_key(corpus: str, source: str, state: str, heldout: str) -> str:
    return f"pool {corpus} {source} {state} {heldout}"


def _pool(t: DrawTask) -> Pool:
    key = _pool_key(t.corpus, t.source, t.state, t.heldout)
    pool = _lent.get(key) or _loaded.get(key)
    if pool is None:
        if source_state(Path(t.corpus), t.source) != t.state:
            raise RuntimeError(
                f"source {t.source!r} is not as the mix read it (committed to, or its files changed, since)"
            )
        settings = HeldoutSettings.model_validate_json(t.heldout)
        pool = load_pool(Path(t.corpus), t.source, settings)
        if pool.state != t.state:
            raise RuntimeError(f"source {t.source!r} is not as the mix read it (it changed while read)")
        for k in [k for k in _loaded if k.startswith("pool ")]:
            del _loaded[k]  # one pool per worker: memory stays one source's pool
        _loaded[key] = pool
    return pool


def _tokenizer(t: DrawTask) -> Any:
    key = f"tokenizer {t.tokenizer_hash}"
    tok = _lent.get(key) or _loaded.get(key)
    if tok is None:
        tok = load_tokenizer(t.tokenizer)
        if tok.hash != t.tokenizer_hash:
            raise RuntimeError(f"tokenizer {t.tokenizer} changed since the mix started (hash {tok.hash})")
        _loaded[key] = tok
    return tok


def _decontaminator(t: DrawTask) -> Decontaminator | None:
    if not t.decontam:
        return None
    key = f"decontam {Path(t.decontam).name}"
    dec = _lent.get(key) or _loaded.get(key)
    if dec is None:
        hashes = np.load(t.decontam)
        if _digest(hashes) not in Path(t.decontam).name:
            raise RuntimeError(f"{t.decontam}: held-out n-gram file does not match its name")
        dec = _loaded[key] = Decontaminator.from_hashes(hashes, t.ngram)
    return dec


def _digest(hashes: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(hashes, dtype=np.uint64).tobytes(), digest_size=8).hexdigest()


class _Reported(Meter):
    """Tokens drawn, reported to the driver (through the executor's progress channel)."""

    def advance(self, n: float = 1) -> None:
        from corpuskit.executors.local import report

        report(int(n))


def draw_unit(t: DrawTask) -> dict[str, Any]:
    """Unit of work: draw one source of one mixture into its files; returns its summary (the driver
    commits it) or ``{"refused": why}`` when the data cannot give the target (a :class:`MixError`)."""
    from corpuskit.mix.draw import TokenCache

    t0 = time.perf_counter()
    pool, tok, dec = _pool(t), _tokenizer(t), _decontaminator(t)
    work = Path(t.work)
    final = work / f"{t.source}{drawfiles.TOKENS}"
    tmp = work / f".{final.name}.{os.getpid()}.tmp"
    cache = TokenCache(tmp, dtype_for_vocab(tok.vocab_size), tok.eot_id)
    try:
        drawn = draw_source(
            pool, t.target, tok, cache, dec, t.seed, t.max_epochs, t.allow_repeat, _Reported()
        )
        cache.sync()
        cache.close()
        os.replace(tmp, final)
    except MixError as e:
        cache.close()
        tmp.unlink(missing_ok=True)
        return {"refused": str(e)}
    except BaseException:
        cache.close()
        tmp.unlink(missing_ok=True)
        raise
    return {**drawfiles.write_entries(work, drawn, cache.size), "seconds": time.perf_counter() - t0}


@dataclass
class MixtureDraws:
    """A mixture's committed draws, by source (sorted), and the time its units took (summed)."""

    work: Path
    summaries: dict[str, dict[str, Any]]
    seconds: float = 0.0


@contextmanager
def lending(ctx: StudyContext, decontam_path: str) -> Iterator[None]:
    """Units run in this process use the driver's pools, tokenizer and n-gram set (nothing read twice)."""
    corpus, heldout = str(Path(ctx.corpus).resolve()), ctx.heldout_settings.model_dump_json()
    lent = {_pool_key(corpus, s, p.state, heldout): p for s, p in ctx.pools.items()}
    lent[f"tokenizer {ctx.tokenizer.hash}"] = ctx.tokenizer
    if decontam_path:
        lent[f"decontam {Path(decontam_path).name}"] = ctx.decontaminator
    _lent.update(lent)
    try:
        yield
    finally:
        for k in lent:
            _lent.pop(k, None)


def _save_hashes(work: Path, ctx: StudyContext) -> str:
    """The held-out n-gram set as ``decontam-<digest>.npy`` in ``work`` (written once), or ''."""
    if ctx.decontaminator is None:
        return ""
    hashes = ctx.decontaminator.hashes
    path = work / f"decontam-{_digest(hashes)}.npy"
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
        )  # fmt: skip
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
