"""Compiled loops for word-shingle hashing and the MinHash permutation minimum (numba).

The array formulation (prefix sums over every code point, a num_perm x chunk block of permuted values)
spent most of its time writing and re-reading temporaries; one pass per document over its UTF-8 bytes,
keeping its words and its signature in cache, does the same arithmetic with none of that traffic, and
lower-cases by table on the way (:mod:`corpuskit.dedup.folding` says when that equals NFKC + lower).
The values are bit-identical to the array code: a span
``[s, e)`` hashes to ``fmix64((sum_k v[s+k] * P^k) ^ (e - s))`` mod 2^64, words over code points and
shingles over word hashes, and permutation ``i`` of a 32-bit hash ``h`` is ``a[i] * fmix32(h) + b[i]``
mod 2^32.

Why numba: it installs from PyPI wheels (numba + llvmlite, no compiler needed on the machine), compiles
for the host CPU (AVX-512 where present), and ``cache=True`` keeps the machine code in ``__pycache__``,
so only the first process after an install pays the ~1-2 s compile. A C extension would need a build
step in the install and a compiler on every machine; Rust (rensa) a toolchain or per-platform wheels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)
_EMPTY32 = np.uint32(0xFFFFFFFF)


@njit(cache=True, inline="always")
def _fmix64(h):
    h ^= h >> np.uint64(33)
    h *= _M1
    h ^= h >> np.uint64(33)
    h *= _M2
    return h ^ (h >> np.uint64(33))


@njit(cache=True, inline="always")
def _fmix32(h):
    h ^= h >> np.uint32(16)
    h = np.uint32(h * _F1)
    h ^= h >> np.uint32(13)
    h = np.uint32(h * _F2)
    return h ^ (h >> np.uint32(16))


@njit(cache=True, inline="always")
def _code_point(buf, j):
    """The code point starting at byte ``j`` of valid UTF-8 (surrogates allowed) and the next offset."""
    b0 = np.uint32(buf[j])
    if b0 < 0x80:
        return b0, j + 1
    if b0 < 0xE0:
        return ((b0 & np.uint32(0x1F)) << np.uint32(6)) | (np.uint32(buf[j + 1]) & np.uint32(0x3F)), j + 2
    if b0 < 0xF0:
        c = (b0 & np.uint32(0x0F)) << np.uint32(12)
        c |= (np.uint32(buf[j + 1]) & np.uint32(0x3F)) << np.uint32(6)
        return c | (np.uint32(buf[j + 2]) & np.uint32(0x3F)), j + 3
    c = (b0 & np.uint32(0x07)) << np.uint32(18)
    c |= (np.uint32(buf[j + 1]) & np.uint32(0x3F)) << np.uint32(12)
    c |= (np.uint32(buf[j + 2]) & np.uint32(0x3F)) << np.uint32(6)
    return c | (np.uint32(buf[j + 3]) & np.uint32(0x3F)), j + 4


@njit(cache=True)
def unfoldable(buf, dstart, dlen, stable):
    """Documents with a character that :func:`_doc_words` cannot fold by table (see
    :func:`corpuskit.dedup.folding.fold_tables`): they are folded in Python instead."""
    ndoc = dstart.shape[0]
    out = np.zeros(ndoc, dtype=np.bool_)
    for d in range(ndoc):
        j = dstart[d]
        hi = j + dlen[d]
        while j < hi:
            if buf[j] < 0x80:  # ASCII: always table-foldable
                j += 1
                continue
            c, j = _code_point(buf, j)
            if c >= stable.shape[0] or not stable[c]:
                out[d] = True
                break
    return out


@njit(cache=True)
def _doc_words(buf, lo, hi, fold, lower, sep, base, out):
    """Hashes of the words (maximal runs of non-separators) of the UTF-8 bytes ``buf[lo:hi]`` into
    ``out``, lower-casing by table when ``fold``; returns their count."""
    nw = 0
    acc = np.uint64(0)
    pk = np.uint64(1)
    length = 0
    j = lo
    while j < hi:
        c, j = _code_point(buf, j)
        if fold:
            c = lower[c]
        if sep[c]:
            if length:
                out[nw] = _fmix64(acc ^ np.uint64(length))
                nw += 1
                acc = np.uint64(0)
                pk = np.uint64(1)
                length = 0
        else:
            acc += np.uint64(c) * pk
            pk *= base
            length += 1
    if length:
        out[nw] = _fmix64(acc ^ np.uint64(length))
        nw += 1
    return nw


@njit(cache=True, inline="always")
def _span(words, s, e, base):
    acc = np.uint64(0)
    pk = np.uint64(1)
    for k in range(s, e):
        acc += words[k] * pk
        pk *= base
    return _fmix64(acc ^ np.uint64(e - s))


@njit(cache=True)
def word_shingles(buf, dstart, dlen, fold, lower, sep, n, base):
    """(shingle hashes uint64, offsets (D+1), whole-text hashes (D,)) of word n-grams, as
    :func:`corpuskit.dedup.shingles.shingle_hashes` defines them (a short text is one shingle)."""
    ndoc = dstart.shape[0]
    offsets = np.zeros(ndoc + 1, dtype=np.int64)
    text_hash = np.zeros(ndoc, dtype=np.uint64)
    words = np.empty(buf.shape[0] + 1, dtype=np.uint64)  # all words of one doc, at most len / 2 + 1
    out = np.empty(max(buf.shape[0] // 2 + ndoc, 1), dtype=np.uint64)
    total = 0
    for d in range(ndoc):
        nw = _doc_words(buf, dstart[d], dstart[d] + dlen[d], fold[d], lower, sep, base, words)
        text_hash[d] = _span(words, 0, nw, base)
        if nw >= n:
            for s in range(nw - n + 1):
                out[total] = _span(words, s, s + n, base)
                total += 1
        elif nw > 0:
            out[total] = text_hash[d]
            total += 1
        offsets[d + 1] = total
    return out[:total].copy(), offsets, text_hash


@njit(cache=True)
def _row_min(row, xs, ns, a, b):
    """``row[i] = min(row[i], min_j a[i] * xs[j] + b[i])`` over the ``ns`` mixed hashes of one document:
    the inner loop runs over shingles, so it is a vectorised min-reduction with ``a[i], b[i]`` broadcast."""
    for i in range(row.shape[0]):
        ai = a[i]
        bi = b[i]
        acc = row[i]
        for j in range(ns):
            v = np.uint32(ai * xs[j] + bi)
            acc = min(acc, v)
        row[i] = acc


@njit(cache=True)
def word_minhash(buf, dstart, dlen, fold, lower, sep, n, base, a, b):
    """(signatures (D, num_perm) uint32, whole-text hashes (D,), shingle counts (D,)) of word n-grams:
    the high 32 bits of each shingle hash go through the affine32 permutations without being stored."""
    ndoc = dstart.shape[0]
    sig = np.full((ndoc, a.shape[0]), _EMPTY32, dtype=np.uint32)
    text_hash = np.zeros(ndoc, dtype=np.uint64)
    counts = np.zeros(ndoc, dtype=np.int64)
    words = np.empty(buf.shape[0] + 1, dtype=np.uint64)
    xs = np.empty(buf.shape[0] + 1, dtype=np.uint32)
    for d in range(ndoc):
        nw = _doc_words(buf, dstart[d], dstart[d] + dlen[d], fold[d], lower, sep, base, words)
        text_hash[d] = _span(words, 0, nw, base)
        ns = 0
        if nw >= n:
            for s in range(nw - n + 1):
                xs[ns] = _fmix32(np.uint32(_span(words, s, s + n, base) >> np.uint64(32)))
                ns += 1
        elif nw > 0:
            xs[0] = _fmix32(np.uint32(text_hash[d] >> np.uint64(32)))
            ns = 1
        counts[d] = ns
        _row_min(sig[d], xs, ns, a, b)
    return sig, text_hash, counts


@njit(cache=True)
def flat_minhash(hashes32, offsets, a, b):
    """Signatures (D, num_perm) from flat 32-bit shingle hashes grouped by ``offsets`` (D+1)."""
    ndoc = offsets.shape[0] - 1
    sig = np.full((ndoc, a.shape[0]), _EMPTY32, dtype=np.uint32)
    xs = np.empty(hashes32.shape[0], dtype=np.uint32)
    for j in range(hashes32.shape[0]):
        xs[j] = _fmix32(hashes32[j])
    for d in range(ndoc):
        lo = offsets[d]
        _row_min(sig[d], xs[lo:], offsets[d + 1] - lo, a, b)
    return sig
