"""A study's shared state, opened once: the tokenizer, every source's pool and the held-out n-gram set.

Reading and splitting the corpus and hashing the held-out n-grams are the costly parts that do not depend
on a mixture's weights or seed, so every mixture of a study (and every member of an ablation swarm)
builds from one :class:`StudyContext`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from corpuskit.mix.config import DecontamSettings
from corpuskit.mix.decontam import Decontaminator
from corpuskit.mix.heldout import HeldoutSettings
from corpuskit.mix.pools import Pool, load_pools, pool_tokens
from corpuskit.mix.sampler import MixError
from corpuskit.mix.tokenizer import ByteTokenizer, HFTokenizer, load_tokenizer
from corpuskit.store import list_sources


@dataclass
class StudyContext:
    """What every mixture of a study shares."""

    corpus: Path
    tokenizer_spec: str
    tokenizer: ByteTokenizer | HFTokenizer
    pools: dict[str, Pool]
    heldout_settings: HeldoutSettings
    decontam_settings: DecontamSettings
    decontaminator: Decontaminator | None = None
    corpus_name: str = ""  # how manifests name the corpus when ``corpus`` is a working copy of a URL


def open_study(
    corpus: Path,
    tokenizer_spec: str,
    heldout: HeldoutSettings,
    decontam: DecontamSettings,
    sources: list[str] | None = None,
) -> StudyContext:
    """Load the tokenizer and the pools, and hash the held-out n-grams (shared by all mixtures)."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise MixError(
            f"corpus folder {corpus} does not exist; run `corpuskit ingest` first or pass --corpus"
        )
    available = list_sources(corpus)
    if not available:
        raise MixError(f"{corpus}: no sources found (expected <corpus>/<source>/documents/)")
    try:
        tok = load_tokenizer(tokenizer_spec)
    except (FileNotFoundError, ValueError) as e:
        raise MixError(str(e)) from None
    pools = load_pools(corpus, heldout, sources or available)
    ctx = StudyContext(corpus, str(tokenizer_spec), tok, pools, heldout, decontam)
    if decontam.enabled:  # every mixture is checked against every source's held-out set
        texts = [p.heldout.frame["text"] for p in pools.values()]
        ctx.decontaminator = Decontaminator(
            pl.concat(texts) if texts else pl.Series([], pl.String), decontam.ngram
        )
    return ctx


def estimate_available(ctx: StudyContext, sources: list[str], seed: int) -> dict[str, tuple[int, bool]]:
    """Training tokens per source and whether the count is exact (always for bytes; a sample for a BPE)."""
    return {s: pool_tokens(ctx.pools[s], ctx.tokenizer, seed) for s in sources}
