"""Build a study: the one entry point that writes one or many mixtures from a study context opened once.

``corpuskit mix --weights`` (one mixture in ``--out``, held-out sets inside it), ``corpuskit mix --config``
(mixtures in ``<out>/<name>/`` sharing ``<out>/heldout/``) and the keyword API :func:`build_mixture` (what
ablate calls) all go through :func:`build_mixtures`: plans are checked for every mixture before any is
written, so a study never stops half built because its last mixture was impossible.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from corpuskit.executors import StageRun
from corpuskit.mix.config import DecontamSettings, MixtureConfig
from corpuskit.mix.context import StudyContext, estimate_available, open_study
from corpuskit.mix.drawunits import run_draws
from corpuskit.mix.folders import check_out
from corpuskit.mix.heldout import HeldoutSettings, write_heldout_sets
from corpuskit.mix.mixture import MixtureReport, write_mixture
from corpuskit.mix.plan import MixturePlan, MixtureSettings, check_plans, plan_study
from corpuskit.mix.sampler import DEFAULT_MAX_EPOCHS, MixError, normalise_weights, parse_tokens
from corpuskit.progress import SILENT, Reporter
from corpuskit.store import list_sources


def build_mixtures(
    ctx: StudyContext,
    plans: list[MixturePlan],
    out: Path,
    *,
    single: bool = False,
    progress: Reporter = SILENT,
    run: StageRun = StageRun(),
    **run_options: Any,
) -> list[tuple[dict[str, Any], MixtureReport]]:
    """Build every planned mixture (from :func:`~corpuskit.mix.plan.plan_study`); returns each manifest
    (as written) with its report.

    ``single=True`` is the ``mix --out DIR`` form: the one mixture is written to ``out`` with its held-out
    sets inside it. Otherwise mixtures go to ``<out>/<name>/`` and share ``<out>/heldout/``. Every source
    of every mixture is drawn as one unit (``run.workers`` processes, default 1, or Ray tasks with
    ``run.executor == "ray"``; ``run_options`` change its fields, e.g. ``workers=2``); the folders are the
    same bytes whatever runs them.
    """
    if single and len(plans) != 1:
        raise MixError(f"one output folder holds one mixture, not {len(plans)}; give a study folder")
    check_plans(plans)
    out = Path(out)
    shared_block = None
    if not single:
        check_out(out, ctx.corpus, study=True)
        splits = {s: p.heldout for s, p in ctx.pools.items()}
        shared_block = write_heldout_sets(splits, out / "heldout", "../heldout/")
    runs = [(plan, out if single else out / plan.name) for plan in plans]
    return _build(ctx, runs, shared_block, progress, run.replace(**run_options))


def build_in_study(
    ctx: StudyContext,
    mix: MixtureConfig,
    out: Path,
    *,
    seed: int,
    max_epochs: float,
    allow_repeat: bool,
    heldout_block: dict[str, Any] | None = None,
    progress: Reporter = SILENT,
    run: StageRun = StageRun(),
    **run_options: Any,
) -> dict[str, Any]:
    """Build one mixture folder at ``out`` and return its manifest exactly as written to manifest.json."""
    settings = MixtureSettings(mix, seed=seed, max_epochs=max_epochs, allow_repeat=allow_repeat)
    return _build(ctx, [(settings, Path(out))], heldout_block, progress, run.replace(**run_options))[0][0]


def _build(
    ctx: StudyContext,
    runs: list[tuple[MixtureSettings, Path]],
    heldout_block: dict[str, Any] | None,
    progress: Reporter,
    run: StageRun,
) -> list[tuple[dict[str, Any], MixtureReport]]:
    """Draw all sources of all ``runs`` as units, then gather each mixture and drop its draws folder."""
    for _, mixture_out in runs:
        check_out(mixture_out, ctx.corpus)  # before any tokenizing
    draws = run_draws(ctx, runs, workers=run.workers or 1, executor=run.executor, progress=progress)
    built = []
    for settings, mixture_out in runs:
        built.append(write_mixture(ctx, settings, mixture_out, heldout_block, draws[settings.name]))
        shutil.rmtree(draws[settings.name].work)
    return built


def build_mixture(
    *,
    weights: dict[str, float],
    corpus: Path | str,
    output: Path | str,
    tokens: int | str,
    tokenizer: str = "bytes",
    seed: int = 0,
    max_epochs: float = DEFAULT_MAX_EPOCHS,
    allow_repeat: bool = False,
    name: str | None = None,
    heldout_bytes: int = 1_000_000,
    heldout_seed: int = 0,
    decontaminate: bool = True,
    run: StageRun = StageRun(),
    **run_options: Any,
) -> dict[str, Any]:
    """Build one mixture folder from keyword arguments (the API other stages, e.g. ablate, call).

    Held-out sets go inside the folder; they depend only on the corpus and the held-out settings, not on
    ``seed`` or ``weights``, so mixtures built this way from one corpus share identical sets (same hash).
    """
    out = Path(output)
    normalise_weights(weights, list_sources(corpus))  # unknown / negative -> MixError, before any work
    mix = MixtureConfig(
        name=re.sub(r"[^A-Za-z0-9_.-]", "_", name or out.name), weights=weights, tokens=parse_tokens(tokens)
    )
    heldout = HeldoutSettings(bytes_per_source=heldout_bytes, seed=heldout_seed)
    ctx = open_study(Path(corpus), tokenizer, heldout, DecontamSettings(enabled=decontaminate))
    plans = plan_study(
        ctx, [mix], seed=seed, max_epochs=max_epochs, allow_repeat=allow_repeat, estimate=False
    )
    ((manifest, _),) = build_mixtures(ctx, plans, out, single=True, run=run.replace(**run_options))
    return manifest


def source_tokens(
    corpus: Path | str, tokenizer: str = "bytes", heldout_bytes: int = 1_000_000
) -> dict[str, int]:
    """Training tokens each source can supply after its held-out split (estimated for a trained BPE)."""
    heldout = HeldoutSettings(bytes_per_source=heldout_bytes)
    ctx = open_study(Path(corpus), tokenizer, heldout, DecontamSettings(enabled=False))
    return {s: n for s, (n, _) in estimate_available(ctx, sorted(ctx.pools), heldout.seed).items()}
