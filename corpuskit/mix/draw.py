"""Draw one source's share of a mixture: tokenize in seeded order until the target is covered, then repeat.

Documents of the pool are visited in a seeded order; each batch is decontaminated, tokenized and appended
to a token cache until the source's token target is covered (so a 1% share of a huge source tokenizes ~1%
of it). If the pool runs out first, the source is repeated: whole epochs, each in its own seeded order,
plus a prefix of one more order; the last document is cut so the source gives exactly its target. Every
entry gets an interleaving key, by which :mod:`.gather` later orders all sources' documents.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.mix.decontam import Decontaminator
from corpuskit.mix.pools import Pool
from corpuskit.mix.sampler import MixError, SourcePlan, check_repetition, seeded_keys, seeded_order
from corpuskit.mix.tokenizer import ByteTokenizer, HFTokenizer
from corpuskit.progress import Meter

BATCH_BYTES = 4_000_000  # text per tokenize/decontaminate batch: bounds memory, keeps all cores busy
BATCH_DOCS = 2048


@dataclass
class Drawn:
    """Documents one source contributes: cache spans in draw order, plus accounting for the manifest."""

    source: str
    starts: np.ndarray  # int64 cache offsets
    lengths: np.ndarray  # int64 tokens taken, end-of-text included
    truncated: np.ndarray  # bool: cut short (the last document of the remainder)
    ids: np.ndarray  # document id per entry
    keys: np.ndarray  # uint64 interleaving key per entry
    stats: dict[str, Any] = field(default_factory=dict)


class TokenCache:
    """Append-only flat token file; each document's tokens are followed by the end-of-text token."""

    def __init__(self, path: Path, dtype: np.dtype, eot_id: int):
        self.path, self.dtype, self.eot_id = path, dtype, eot_id
        self._fh = open(path, "wb")
        self.size = 0

    def append(self, flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Write documents (``flat`` tokens split by ``lengths``), each + EOT; returns their start offsets."""
        total = int(lengths.sum()) + lengths.size
        out = np.empty(total, dtype=self.dtype)
        ends = np.cumsum(lengths + 1)  # one past each document's EOT
        starts = ends - lengths - 1
        is_eot = np.zeros(total, dtype=bool)
        is_eot[ends - 1] = True
        out[is_eot] = self.eot_id
        out[~is_eot] = flat
        self._fh.write(out.tobytes())
        base = self.size
        self.size += total
        return starts + base

    def sync(self) -> None:
        """Flush the written tokens to disk (before the file is renamed into place)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> np.memmap | np.ndarray:
        self._fh.close()
        if self.size == 0:
            return np.empty(0, dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r")


@dataclass
class Clean:
    """The clean documents tokenized for a source, in tokenize order, and what was looked at to get them."""

    rows: np.ndarray  # pool row of each document
    starts: np.ndarray  # cache offset of each document
    lengths: np.ndarray  # tokens of each document, end-of-text included
    tokens: int  # sum of ``lengths``
    examined: int  # documents looked at (clean or not)
    examined_bytes: int
    removed: int  # documents dropped by decontamination


def batch_bounds(lengths_b: np.ndarray) -> list[tuple[int, int]]:
    """Batches of ~BATCH_BYTES of text or BATCH_DOCS documents: a monotone batch key, cut where it changes."""
    key = np.maximum(np.cumsum(lengths_b) // BATCH_BYTES, np.arange(lengths_b.size) // BATCH_DOCS)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [lengths_b.size]])
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))


def tokenize_until(
    pool: Pool,
    order: np.ndarray,
    target: int,
    tokenizer: ByteTokenizer | HFTokenizer,
    cache: TokenCache,
    decontam: Decontaminator | None,
    meter: Meter,
) -> Clean:
    """Decontaminate and tokenize ``pool`` in ``order``, batch by batch, up to ``target`` tokens."""
    lengths_b = pool.docs["text"].str.len_bytes().to_numpy()[order]
    c_idx, c_start, c_len = [], [], []
    covered = removed = examined = examined_bytes = 0
    for lo, hi in batch_bounds(lengths_b):
        rows = order[lo:hi]
        texts = pool.docs["text"][rows]
        examined += len(rows)
        examined_bytes += int(lengths_b[lo:hi].sum())
        if decontam is not None:
            dirty = decontam.contaminated(texts)
            removed += int(dirty.sum())
            rows, texts = rows[~dirty], texts.filter(pl.Series(~dirty))
        if not len(rows):
            continue
        flat, lengths = tokenizer.encode_concat(texts.to_list())
        c_idx.append(rows)
        c_start.append(cache.append(flat, lengths))
        c_len.append(lengths + 1)
        gained = int(lengths.sum()) + len(rows)
        meter.advance(max(0, min(target, covered + gained) - covered))
        covered += gained
        if covered >= target:
            break

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    return Clean(cat(c_idx), cat(c_start), cat(c_len), covered, examined, examined_bytes, removed)


def repeat_to_target(pool: Pool, clean: Clean, full: int, remainder: int, seed: int) -> Drawn:
    """``full`` whole epochs of the clean documents plus a ``remainder``-token prefix of one more epoch;
    epoch 0 is the order they were tokenized in, each later epoch has its own seeded order."""
    source = pool.source
    ids_all = pool.docs["id"].to_numpy()
    clean_ids = pl.Series(ids_all[clean.rows], dtype=pl.String)
    parts: list[tuple[np.ndarray, ...]] = []
    for epoch in range(full + (1 if remainder else 0)):
        perm = (
            np.arange(clean.rows.size) if epoch == 0 else seeded_order(clean_ids, "mix", seed, source, epoch)
        )
        e_start, e_len = clean.starts[perm], clean.lengths[perm].copy()
        trunc = np.zeros(perm.size, dtype=bool)
        if epoch == full:  # the sampled remainder: a prefix of this epoch's order, last document cut
            cum = np.cumsum(e_len)
            k = int(np.searchsorted(cum, remainder)) + 1
            e_start, e_len, trunc, perm = e_start[:k], e_len[:k], trunc[:k], perm[:k]
            over = int(cum[k - 1]) - remainder
            if over:
                e_len[-1] -= over
                trunc[-1] = True
        e_ids = ids_all[clean.rows[perm]]
        keys = seeded_keys(pl.Series(e_ids, dtype=pl.String), "interleave", seed, source, epoch)
        parts.append((e_start, e_len, trunc, e_ids, keys))
    return Drawn(source, *(np.concatenate(column) for column in zip(*parts, strict=True)))


def draw_source(
    pool: Pool,
    target: int,
    tokenizer: ByteTokenizer | HFTokenizer,
    cache: TokenCache,
    decontam: Decontaminator | None,
    seed: int,
    max_epochs: float,
    allow_repeat: bool,
    meter: Meter = Meter(),  # noqa: B008 - the no-op meter holds no state
) -> Drawn:
    """Exactly ``target`` tokens of ``pool`` (see the module docstring); refuses too much repetition."""
    source = pool.source
    order = seeded_order(pool.docs["id"], "mix", seed, source, 0)
    clean = tokenize_until(pool, order, target, tokenizer, cache, decontam, meter)
    if clean.tokens == 0:
        raise MixError(f"source {source!r}: no documents left after held-out split and decontamination")
    exhausted = clean.tokens < target or clean.examined == len(order)
    if exhausted:
        available, exact = clean.tokens, True
        # the plan's count may have been an estimate (a trained BPE): check again with the exact count
        check_repetition([SourcePlan(source, 0.0, target, available, True)], max_epochs, allow_repeat)
    else:  # extrapolate from what was examined, for the report only
        available = int(round(clean.tokens * pool.bytes / max(clean.examined_bytes, 1)))
        exact = False
    full = target // clean.tokens if exhausted else 0
    remainder = target - full * clean.tokens
    drawn = repeat_to_target(pool, clean, full, remainder, seed)
    meter.advance(max(0, target - clean.tokens))  # the repeated tokens: drawn without tokenizing again
    assert int(drawn.lengths.sum()) == target, (source, int(drawn.lengths.sum()), target)
    drawn.stats = {
        "tokens": target,
        "documents": int(drawn.lengths.size),
        "unique_documents": int(np.unique(drawn.ids).size),
        "epochs": round(target / available, 6),
        "full_epochs": int(full),
        "remainder_tokens": int(remainder),
        "available_tokens": int(available),
        "available_tokens_exact": exact,
        "pool_documents": int(pool.docs.height),
        "documents_examined": int(clean.examined),
        "decontaminated_documents": int(clean.removed),
        "truncated_documents": int(drawn.truncated.sum()),
    }
    return drawn
