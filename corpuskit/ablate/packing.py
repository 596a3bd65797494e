"""Which runs can train as one pack: same model shape and the same step count, batch and device.

The runner groups its (mixture, seed) units with :func:`pack_runs` and trains each group with
:class:`corpuskit.ablate.packed.PackedTrainer`; a group of one is simply a single run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from corpuskit.ablate.model import GPTConfig
from corpuskit.ablate.train import TrainConfig

#: TrainConfig fields every member of a pack must share: they fix the step count, the batch shape and
#: where/how the pack runs. Every other field (lr, schedule, decay, betas, clip, ...) may differ per member.
SHARED_FIELDS = ("tokens", "batch_size", "grad_accum", "device", "threads", "compile")
R = TypeVar("R")


def pack_key(model_cfg: GPTConfig, cfg: TrainConfig) -> tuple:
    """Runs with equal keys can share a pack: same model shape and the :data:`SHARED_FIELDS`."""
    return (model_cfg, *(getattr(cfg, f) for f in SHARED_FIELDS))


def pack_runs(
    runs: Iterable[R], key: Callable[[R], Hashable] | None = None, max_size: int = 16
) -> list[list[R]]:
    """Group runs that can train together, in first-seen order, each group at most ``max_size`` long.

    ``key`` maps a run to its shape; by default ``pack_key(run.model_cfg, run.train_cfg)``.
    """
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    keyf = key or (lambda r: pack_key(r.model_cfg, r.train_cfg))  # type: ignore[attr-defined]
    groups: dict[Hashable, list[R]] = {}
    for r in runs:
        groups.setdefault(keyf(r), []).append(r)
    return [g[i : i + max_size] for g in groups.values() for i in range(0, len(g), max_size)]


def check_packable(cfgs: Sequence[TrainConfig]) -> None:
    if not cfgs:
        raise ValueError("a pack needs at least one member")
    for f in SHARED_FIELDS:
        vals = {getattr(c, f) for c in cfgs}
        if len(vals) > 1:
            raise ValueError(f"members of one pack must share training.{f}; got {sorted(map(str, vals))}")
    if cfgs[0].batch_size % cfgs[0].grad_accum:
        raise ValueError(
            f"batch_size={cfgs[0].batch_size} is not divisible by grad_accum={cfgs[0].grad_accum}"
        )
