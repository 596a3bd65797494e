"""A draw unit in its worker: what it is given (:class:`DrawTask`, plain values) and what it does.

A unit reads what it needs itself (the source's pool from the corpus, the tokenizer file, the held-out
n-gram set the driver saved), refusing a source whose committed files changed since the driver read it
(:func:`~corpuskit.mix.pools.source_state`), draws exactly as :func:`~corpuskit.mix.draw.draw_source` does
in one process and writes its files (:mod:`.drawfiles`). A unit run in the driver's own process uses the
pools, tokenizer and n-gram set the driver already holds (:func:`lending`); a worker keeps one pool.
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
from corpuskit.mix.pools import Pool, load_pool, source_state
from corpuskit.mix.sampler import MixError
from corpuskit.mix.shards import dtype_for_vocab
from corpuskit.mix.tokenizer import load_tokenizer
from corpuskit.progress import Meter

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


def _held(key: str) -> Any:
    """What the driver lent or this worker already read under ``key`` (None: read it)."""
    return _lent[key] if key in _lent else _loaded.get(key)


def _pool_key(corpus: str, source: str, state: str, heldout: str) -> str:
    return f"pool {corpus} {source} {state} {heldout}"


def _pool(t: DrawTask) -> Pool:
    key = _pool_key(t.corpus, t.source, t.state, t.heldout)
    pool = _held(key)
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
    tok = _held(key)
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
    dec = _held(key)
    if dec is None:
        hashes = np.load(t.decontam)
        if hashes_digest(hashes) not in Path(t.decontam).name:
            raise RuntimeError(f"{t.decontam}: held-out n-gram file does not match its name")
        dec = _loaded[key] = Decontaminator.from_hashes(hashes, t.ngram)
    return dec


def hashes_digest(hashes: np.ndarray) -> str:
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
