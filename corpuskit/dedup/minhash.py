"""MinHash signatures for a batch of documents as array operations.

The permutations are datasketch 2.0's ``affine32`` scheme (``a * fmix32(h) + b mod 2^32``, ``a`` odd,
drawn from ``np.random.RandomState(seed)`` in datasketch's order), so the only difference between the
two modes is the 32-bit input hash of a shingle:

- ``fast``: the vectorised span hash of :mod:`corpuskit.dedup.shingles` (high 32 bits);
- ``datasketch``: ``sha1_hash32`` of the shingle's UTF-8 bytes (one hashlib call per shingle), which
  reproduces ``datasketch.MinHash(num_perm, seed).update_batch(shingles).hashvalues`` exactly, so the
  signatures can be loaded into datasketch's own LSH indexes.

Applying the permutations is one compiled loop (:mod:`corpuskit.dedup.kernels`): per document and
permutation, a vectorised minimum of ``a * fmix32(h) + b`` over the document's shingles. In ``fast`` mode
with word shingles the shingle hashes go straight from the text's code points into that minimum and are
never stored; memory is bounded by the batch (``MAX_BATCH_CHARS``) whatever the document lengths.

A third mode, ``oph``, replaces the num_perm permutations by one-permutation hashing with optimal
densification (Shrivastava 2017): each shingle hash, mixed once, picks a bin from its high bits and
competes for that bin's minimum (one ``np.minimum.at`` over ``doc * num_perm + bin``), so the cost no
longer grows with num_perm; empty bins then borrow a non-empty bin's value, see :func:`densify`.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from corpuskit.dedup.shingles import (
    ShingleSpec,
    fmix,
    normalize,
    shingle_hashes,
    shingle_texts,
    text_shingle_hashes,
    word_kernel,
)

HashMode = Literal["fast", "datasketch", "oph"]
#: Version of the normalisation and hashing behind stored signatures and text hashes: bump it whenever
#: either changes, so attribute sets computed by an older version are recomputed, never mixed.
#: 2: NFKC via unicodedata, word shingles hashed from word hashes (separators no longer hashed).
SIGNATURE_VERSION = 2
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's initial value: the signature of a document with no shingles
MAX_BATCH_CHARS = 4_000_000  # code points hashed at once: ~100 MB of temporaries, whatever the doc sizes

FMIX32 = tuple(np.uint32(c) for c in (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16))  # MurmurHash3, 32-bit


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finaliser, exactly as datasketch's ``_fmix(hv, 32)``."""
    return fmix(h, FMIX32)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 parameters (a odd, b) for ``num_perm`` and ``seed``: same draws, same order."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def batch_bounds(
    lengths: np.ndarray, max_docs: int, max_chars: int = MAX_BATCH_CHARS
) -> list[tuple[int, int]]:
    """Consecutive [lo, hi) batches of at most ``max_docs`` documents and about ``max_chars`` characters."""
    n = len(lengths)
    if n == 0:
        return []
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    key = (before // max_chars) * (n + 1) + np.arange(n) // max_docs
    cuts = np.flatnonzero(np.diff(key)) + 1
    edges = [0, *cuts.tolist(), n]
    return list(zip(edges[:-1], edges[1:], strict=True))


def sha1_hash32(data: bytes) -> int:
    return struct.unpack("<I", hashlib.sha1(data).digest()[:4])[0]


def minhash_flat(hashes32: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signatures (D, num_perm) uint32 from flat 32-bit shingle hashes grouped by ``offsets`` (D+1)."""
    from corpuskit.dedup.kernels import flat_minhash

    return flat_minhash(
        np.ascontiguousarray(hashes32, dtype=np.uint32), np.asarray(offsets, dtype=np.int64), a, b
    )


def _oph_params(seed: int) -> tuple[np.uint32, np.uint64, np.uint64]:
    """(shingle-hash mixer, a odd, b) for one seed: OPH's only randomness besides the shingle hashes."""
    gen = np.random.default_rng([seed, 0x0F4])
    mix, a, b = gen.integers(0, 1 << 64, 3, dtype=np.uint64)
    return np.uint32(int(mix) & 0xFFFFFFFF), a | np.uint64(1), b


def _probe(bins: np.ndarray, attempts: np.ndarray, k: int, a: np.uint64, b: np.uint64) -> np.ndarray:
    """Bin that empty bin ``bins`` tries at ``attempts``: a 2-universal multiply-add-shift hash
    (Dietzfelbinger 1996) of the key ``attempt * 1024 + bin`` (num_perm <= 1024), scaled onto [0, k)."""
    key = (attempts.astype(np.uint64) << np.uint64(10)) | bins.astype(np.uint64)
    h32 = (key * a + b) >> np.uint64(32)
    return ((h32 * np.uint64(k)) >> np.uint64(32)).astype(np.int64)


MAX_PROBES = 1 << 16  # per empty bin; with >= 1 filled bin of 1024 the chance of running out is < e^-64


def densify(sig: np.ndarray, filled: np.ndarray, a: np.uint64, b: np.uint64) -> np.ndarray:
    """Optimal densification, in place: empty bin i of a document takes the value of the first *filled*
    bin in the sequence probe(i, 0), probe(i, 1), ... — the same sequence for every document, so two
    documents agree on a bin with probability exactly their Jaccard similarity (Shrivastava 2017, Thm 1).

    Vectorised over all (document, empty bin) pairs at once, probing a block of attempts per round and
    doubling the block, so rounds are logarithmic in the probes needed; documents with no filled bin
    keep the EMPTY signature."""
    k = sig.shape[1]
    d, i = np.nonzero(~filled & filled.any(axis=1)[:, None])
    start, block = 0, 4
    while len(d) and start < MAX_PROBES:
        attempts = np.arange(start, start + block, dtype=np.int64)
        targets = _probe(i[:, None], attempts[None, :], k, a, b)  # (pending, block)
        ok = filled[d[:, None], targets]
        first = ok.argmax(axis=1)
        hit = ok[np.arange(len(d)), first]
        # only filled bins are read and only empty ones written: order within a round does not matter
        sig[d[hit], i[hit]] = sig[d[hit], targets[np.arange(len(d)), first][hit]]
        d, i = d[~hit], i[~hit]
        start, block = start + block, min(block * 2, 1024)
    if len(d):  # practically unreachable (see MAX_PROBES); keeps termination unconditional
        sig[d, i] = sig[d, filled[d].argmax(axis=1)]
    return sig


def oph_flat(hashes32: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """One-permutation-hashing signatures (D, num_perm) uint32 from flat 32-bit shingle hashes.

    A mixed hash h falls in bin ``h * num_perm >> 32`` (its high bits); as the bin fixes those bits,
    the minimum of h within a bin is the minimum of "the rest", so h itself is stored."""
    mix, a, b = _oph_params(seed)
    ndoc = len(offsets) - 1
    sig = np.full((ndoc, num_perm), EMPTY, dtype=np.uint32)
    if ndoc == 0 or offsets[-1] == 0:
        return sig
    h = fmix32(hashes32.astype(np.uint32, copy=False) ^ mix)
    doc = np.repeat(np.arange(ndoc, dtype=np.int64), np.diff(offsets))
    flat = doc * num_perm + ((h.astype(np.uint64) * np.uint64(num_perm)) >> np.uint64(32)).astype(np.int64)
    np.minimum.at(sig.reshape(-1), flat, h)
    filled = np.zeros(ndoc * num_perm, dtype=bool)
    filled[flat] = True  # not sig != EMPTY: a shingle may hash to 0xFFFFFFFF
    return densify(sig, filled.reshape(ndoc, num_perm), a, b)


@dataclass(frozen=True)
class MinHasher:
    """Computes (signatures, normalised-text hashes, shingle counts, lengths) for batches of raw texts."""

    num_perm: int = 128
    seed: int = 1
    spec: ShingleSpec = ShingleSpec()
    mode: HashMode = "fast"

    def __post_init__(self) -> None:
        a, b = permutations(self.num_perm, self.seed)
        object.__setattr__(self, "_a", a)
        object.__setattr__(self, "_b", b)

    def _hashes32(
        self, texts: list[str | None], normalized: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(32-bit shingle hashes, offsets, 64-bit whole-text hashes) of one batch."""
        if self.mode != "datasketch":  # fast and oph share the vectorised shingle hashes
            fn = shingle_hashes if normalized else text_shingle_hashes
            h64, offsets, text_hash = fn(texts, self.spec)
            return (h64 >> np.uint64(32)).astype(np.uint32), offsets, text_hash
        norm = texts if normalized else normalize(texts).to_list()
        _, offsets, text_hash = shingle_hashes(norm, self.spec)
        h32 = np.fromiter(
            (sha1_hash32(s) for t in norm for s in shingle_texts(t or "", self.spec)),
            dtype=np.uint32,
            count=int(offsets[-1]),
        )
        return h32, offsets, text_hash

    def _word_fast(self, texts: list[str | None], normalized: bool) -> tuple[np.ndarray, ...]:
        """(signatures, text hashes, shingle counts) of word shingles in one pass (shingles never stored)."""
        from corpuskit.dedup.kernels import word_minhash

        n = self.spec.ngram
        (sig, text_hash, counts), idx, again = word_kernel(
            word_minhash, texts, not normalized, n, self._a, self._b, counts_at=2
        )
        if again is not None:
            sig[idx], text_hash[idx], counts[idx] = again
        return sig, text_hash, counts

    def _signatures(
        self, texts: list[str | None], normalized: bool, max_docs: int, max_chars: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lengths = np.fromiter((len(t or "") for t in texts), dtype=np.int64, count=len(texts))
        sigs, hashes, counts = [], [], []
        for lo, hi in batch_bounds(lengths, max_docs, max_chars):
            if self.mode == "fast" and self.spec.unit == "word":
                sig, text_hash, count = self._word_fast(texts[lo:hi], normalized)
                sigs.append(sig)
                hashes.append(text_hash)
                counts.append(count)
                continue
            h32, offsets, text_hash = self._hashes32(texts[lo:hi], normalized)
            if self.mode == "oph":
                sigs.append(oph_flat(h32, offsets, self.num_perm, self.seed))
            else:
                sigs.append(minhash_flat(h32, offsets, self._a, self._b))
            hashes.append(text_hash)
            counts.append(np.diff(offsets))
        if not sigs:
            return np.zeros((0, self.num_perm), np.uint32), np.zeros(0, np.uint64), np.zeros(0, np.int64)
        return np.concatenate(sigs), np.concatenate(hashes), np.concatenate(counts)

    def signatures_normalized(
        self, normalized: pl.Series | list[str], max_docs: int = 10_000, max_chars: int = MAX_BATCH_CHARS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signatures, text hashes and shingle counts of already normalised texts, in batches bounded in
        documents and characters."""
        texts = normalized.to_list() if isinstance(normalized, pl.Series) else list(normalized)
        return self._signatures(texts, True, max_docs, max_chars)

    def signatures(
        self, texts: list[str] | pl.Series, max_docs: int = 10_000, max_chars: int = MAX_BATCH_CHARS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(signatures (D, num_perm) uint32, text hashes (D,) uint64, shingle counts (D,)) for raw texts.

        Same values as ``signatures_normalized(normalize(texts))``; in fast mode with word shingles the
        normalised strings are never built (see :func:`corpuskit.dedup.shingles.text_shingle_hashes`)."""
        return self._signatures(
            texts.to_list() if isinstance(texts, pl.Series) else list(texts), False, max_docs, max_chars
        )
