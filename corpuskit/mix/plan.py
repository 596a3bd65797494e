"""Plan a study before any work: token targets per source and mixture, and the one repetition check.

A plan is computed from the pools alone (token counts exact for bytes, estimated from a sample for a
trained BPE), so ``--dry-run`` can show it and an impossible mixture is refused before anything is
tokenized or written. Per-mixture ``seed``/``max_epochs``/``allow_repeat`` override the study's.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpuskit.mix.config import MixtureConfig
from corpuskit.mix.context import StudyContext, estimate_available
from corpuskit.mix.pools import Pool
from corpuskit.mix.sampler import (
    DEFAULT_MAX_EPOCHS,
    SourcePlan,
    check_repetition,
    normalise_weights,
    split_budget,
)
from corpuskit.mix.tokenizer import ByteTokenizer


@dataclass(frozen=True)
class MixtureSettings:
    """One mixture with the study's defaults resolved: what drawing it needs."""

    mixture: MixtureConfig
    seed: int
    max_epochs: float
    allow_repeat: bool

    @property
    def name(self) -> str:
        return self.mixture.name


@dataclass(frozen=True)
class MixturePlan(MixtureSettings):
    """A mixture's settings and its per-source targets, checked before anything is written."""

    sources: list[SourcePlan]  # sources with a positive target, by name
    warnings: list[str]


def plan_mixture(
    mix: MixtureConfig,
    pools: dict[str, Pool],
    available: dict[str, tuple[int, bool]],
) -> tuple[list[SourcePlan], list[str]]:
    """Token targets per source from the weights; raises :class:`MixError` for unknown sources or bad
    weights."""
    weights, warnings = normalise_weights(mix.weights, sorted(pools))
    targets = split_budget(weights, mix.tokens)
    plans = [SourcePlan(s, weights[s], targets[s], *available[s]) for s in sorted(weights) if targets[s] > 0]
    return plans, warnings


def plan_study(
    ctx: StudyContext,
    mixtures: list[MixtureConfig],
    *,
    seed: int = 0,
    max_epochs: float = DEFAULT_MAX_EPOCHS,
    allow_repeat: bool = False,
    estimate: bool = True,
) -> list[MixturePlan]:
    """Plan every mixture; the pools' token counts are estimated once for all of them.

    ``estimate=False`` is for a build nobody is shown the plan of: a mixture that may repeat its sources
    needs no token estimate (only the check that a pool is not empty), so a trained BPE is not run over a
    sample for it and its sources are counted in bytes (an upper bound, marked inexact).
    """
    settings = [
        MixtureSettings(
            mix,
            seed=seed if mix.seed is None else mix.seed,
            max_epochs=mix.max_epochs or max_epochs,
            allow_repeat=allow_repeat if mix.allow_repeat is None else mix.allow_repeat,
        )
        for mix in mixtures
    ]
    counted = [m.mixture for m in settings if estimate or not m.allow_repeat]
    used = sorted({s for m in counted for s, w in m.weights.items() if w > 0 and s in ctx.pools})
    available = {
        s: (p.bytes + p.docs.height, isinstance(ctx.tokenizer, ByteTokenizer)) for s, p in ctx.pools.items()
    }
    available |= estimate_available(ctx, used, ctx.heldout_settings.seed)
    plans = []
    for m in settings:
        sources, warnings = plan_mixture(m.mixture, ctx.pools, available)
        plans.append(MixturePlan(m.mixture, m.seed, m.max_epochs, m.allow_repeat, sources, warnings))
    return plans


def check_plans(plans: list[MixturePlan]) -> None:
    """Refuse the study if any mixture needs a source it cannot have, or repeats one past its cap."""
    for plan in plans:
        check_repetition(plan.sources, plan.max_epochs, plan.allow_repeat)
