"""MinHash signatures for a batch of documents as array operations.

The permutations are datasketch 2.0's ``affine32`` scheme (``a * fmix32(h) + b mod 2^32``, ``a`` odd,
drawn from ``np.random.RandomState(seed)`` in datasketch's order), so the only difference between the
two modes is the 32-bit input hash of a shingle:

- ``fast``: the vectorised span hash of :mod:`corpuskit.dedup.shingles` (high 32 bits);
- ``datasketch``: ``sha1_hash32`` of the shingle's UTF-8 bytes (one hashlib call per shingle), which
  reproduces ``datasketch.MinHash(num_perm, seed).update_batch(shingles).hashvalues`` exactly, so the
  signatures can be loaded into datasketch's own LSH indexes.

Applying the permutations is a (num_perm x shingles) uint32 product and add, reduced to a per-document
minimum with ``np.minimum.reduceat`` over fixed-size chunks of the flat shingle array, so memory is
bounded by the chunk whatever the document length (a 2 MB book is just many chunks).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from corpuskit.dedup.shingles import ShingleSpec, normalize, shingle_hashes, shingle_texts

HashMode = Literal["fast", "datasketch"]
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's initial value: the signature of a document with no shingles
MAX_BATCH_CHARS = 4_000_000  # code points hashed at once: ~100 MB of temporaries, whatever the doc sizes
CHUNK_SHINGLES = 1 << 14  # (num_perm x chunk) uint32 buffer stays cache-sized

_F1, _F2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_S16, _S13 = np.uint32(16), np.uint32(13)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 32-bit finaliser, exactly as datasketch's ``_fmix(hv, 32)``."""
    h = h ^ (h >> _S16)
    h = h * _F1
    h = h ^ (h >> _S13)
    h = h * _F2
    return h ^ (h >> _S16)


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


def minhash_flat(
    hashes32: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = CHUNK_SHINGLES
) -> np.ndarray:
    """Signatures (D, num_perm) uint32 from flat 32-bit shingle hashes grouped by ``offsets`` (D+1)."""
    ndoc = len(offsets) - 1
    sig = np.full((ndoc, len(a)), EMPTY, dtype=np.uint32)
    if ndoc == 0 or offsets[-1] == 0:
        return sig
    h = fmix32(hashes32.astype(np.uint32, copy=False))
    counts = np.diff(offsets)
    nonempty = np.flatnonzero(counts > 0)
    ne_start = offsets[nonempty]
    ne_end = offsets[nonempty + 1]
    total = int(offsets[-1])
    buf = np.empty((len(a), min(chunk, total)), dtype=np.uint32)
    a_col, b_col = a[:, None], b[:, None]
    for lo in range(0, total, chunk):
        hi = min(lo + chunk, total)
        # documents with shingles in [lo, hi): they are contiguous in `nonempty`
        i0 = int(np.searchsorted(ne_end, lo, side="right"))
        i1 = int(np.searchsorted(ne_start, hi, side="left"))
        docs = nonempty[i0:i1]
        seg = np.maximum(ne_start[i0:i1], lo) - lo
        # (num_perm, shingles) layout: reduceat then runs over contiguous memory, ~10x faster than rows
        vals = buf[:, : hi - lo]
        np.multiply(a_col, h[None, lo:hi], out=vals)
        np.add(vals, b_col, out=vals)
        part = np.minimum.reduceat(vals, seg, axis=1).T
        sig[docs] = np.minimum(sig[docs], part)
    return sig


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

    def shingle_hashes32(self, normalized: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(32-bit shingle hashes, offsets, 64-bit whole-text hashes) of a normalised batch."""
        h64, offsets, text_hash = shingle_hashes(normalized, self.spec)
        if self.mode == "fast":
            return (h64 >> np.uint64(32)).astype(np.uint32), offsets, text_hash
        h32 = np.fromiter(
            (sha1_hash32(s) for t in normalized.fill_null("").to_list() for s in shingle_texts(t, self.spec)),
            dtype=np.uint32,
            count=int(offsets[-1]),
        )
        return h32, offsets, text_hash

    def signatures_normalized(
        self, normalized: pl.Series, max_docs: int = 10_000, max_chars: int = MAX_BATCH_CHARS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Signatures, text hashes and shingle counts, in batches bounded in documents and characters."""
        lengths = normalized.fill_null("").str.len_chars().to_numpy()
        sigs, hashes, counts = [], [], []
        for lo, hi in batch_bounds(lengths, max_docs, max_chars):
            h32, offsets, text_hash = self.shingle_hashes32(normalized.slice(lo, hi - lo))
            sigs.append(minhash_flat(h32, offsets, self._a, self._b))
            hashes.append(text_hash)
            counts.append(np.diff(offsets))
        if not sigs:
            return np.zeros((0, self.num_perm), np.uint32), np.zeros(0, np.uint64), np.zeros(0, np.int64)
        return np.concatenate(sigs), np.concatenate(hashes), np.concatenate(counts)

    def signatures(self, texts: list[str] | pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(signatures (D, num_perm) uint32, text hashes (D,) uint64, shingle counts (D,)) for raw texts."""
        return self.signatures_normalized(normalize(texts))
