"""Write one mixture folder from its committed draws: gather the shards, then ids, tokenizer and manifest.

Everything is written into a staging folder that replaces the output folder at the end, and the manifest
holds no timestamps or host paths of the output, so the same inputs + seed give the same bytes. What
only a person watching needs (timings, where it went) is returned beside the manifest in a
:class:`MixtureReport`, never written into it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpuskit.documents import package_versions
from corpuskit.mix.config import MixtureConfig
from corpuskit.mix.context import StudyContext
from corpuskit.mix.draw import Drawn
from corpuskit.mix.drawfiles import read_draw
from corpuskit.mix.drawunits import MixtureDraws
from corpuskit.mix.folders import check_out, staged_dir
from corpuskit.mix.gather import write_shards
from corpuskit.mix.heldout import write_heldout_sets
from corpuskit.mix.plan import MixtureSettings
from corpuskit.mix.sampler import normalise_weights
from corpuskit.mix.shards import dtype_for_vocab, write_manifest
from corpuskit.mix.tokenizer import HFTokenizer
from corpuskit.store.atomic import atomic_write_bytes


@dataclass(frozen=True)
class MixtureReport:
    """How a build went, for the person running it (not part of the mixture)."""

    name: str
    out: Path
    total_tokens: int
    seconds: float  # drawing (below) + gathering this mixture
    tokenize_seconds: float  # decontaminating + tokenizing its sources (unit time, summed over workers)


def write_mixture(
    ctx: StudyContext,
    run: MixtureSettings,
    out: Path,
    heldout_block: dict[str, Any] | None,
    draws: MixtureDraws,
) -> tuple[dict[str, Any], MixtureReport]:
    """Gather one mixture's committed draws into its folder at ``out``; returns its manifest (as written)
    and a report.

    With ``heldout_block=None`` the held-out sets are written inside the mixture folder (``heldout/``);
    a study passes the block of its shared sets instead (paths relative to the mixture folder).
    """
    t0 = time.perf_counter()
    mix, seed, max_epochs, allow_repeat = run.mixture, run.seed, run.max_epochs, run.allow_repeat
    weights, warnings = normalise_weights(mix.weights, sorted(ctx.pools))
    out = Path(out)
    check_out(out, ctx.corpus)
    tok = ctx.tokenizer
    with staged_dir(out) as staging:
        if heldout_block is None:
            splits = {s: p.heldout for s, p in ctx.pools.items()}
            heldout_block = write_heldout_sets(splits, staging / "heldout", "heldout/")
        dtype = dtype_for_vocab(tok.vocab_size)
        read = [read_draw(draws.work, s, summary, dtype) for s, summary in draws.summaries.items()]
        drawn = [d for d, _ in read]
        fmt, ids_by_source = write_shards(staging, drawn, [c for _, c in read], tok.vocab_size, tok.eot_id)
        del read
        for source, ids in ids_by_source.items():
            atomic_write_bytes(staging / "ids" / f"{source}.txt", ("\n".join(ids) + "\n").encode())
        if isinstance(tok, HFTokenizer):
            tok.save(staging / "tokenizer.json")
        settings = {"seed": seed, "max_epochs": max_epochs, "allow_repeat": allow_repeat}
        manifest = _manifest(ctx, mix, fmt, drawn, weights, warnings, heldout_block, settings)
        write_manifest(staging, manifest)
    seconds = draws.seconds + time.perf_counter() - t0
    return manifest, MixtureReport(mix.name, out, fmt["total_tokens"], seconds, draws.seconds)


def _manifest(
    ctx: StudyContext,
    mix: MixtureConfig,
    fmt: dict[str, Any],
    drawn: list[Drawn],
    weights: dict[str, float],
    warnings: list[str],
    heldout_block: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """The manifest: what a reader needs (format, tokenizer, held-out sets) and how it was made."""
    tok = ctx.tokenizer
    total = fmt["total_tokens"]
    sources = {
        d.source: {
            **d.stats,
            "weight": weights[d.source],
            "share": d.stats["tokens"] / total,
            "ids_file": f"ids/{d.source}.txt",
        }
        for d in drawn
    }
    return {
        "name": mix.name,
        "format": fmt,
        "tokenizer": {
            "path": "tokenizer.json" if isinstance(tok, HFTokenizer) else "bytes",
            "hash": tok.hash,
            "vocab_size": tok.vocab_size,
            "eot_id": tok.eot_id,
        },
        "heldout": heldout_block,
        "weights_requested": dict(mix.weights),
        "weights": weights,
        "tokens_requested": mix.tokens,
        "sources": sources,
        "decontamination": {
            **ctx.decontam_settings.model_dump(),
            "heldout_ngrams": len(ctx.decontaminator) if ctx.decontaminator is not None else 0,
            "removed_documents": sum(d.stats["decontaminated_documents"] for d in drawn),
        },
        "seed": settings["seed"],
        "config": {
            "corpus": ctx.corpus_name or str(ctx.corpus),
            "tokenizer": ctx.tokenizer_spec,
            "mixture": mix.model_dump(mode="json"),
            "max_epochs": settings["max_epochs"],
            "allow_repeat": settings["allow_repeat"],
            "heldout": ctx.heldout_settings.model_dump(),
        },
        "warnings": warnings,
        "versions": package_versions(["numpy"]),
    }
