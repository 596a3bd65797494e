"""Compiled loops for word-shingle hashing and the MinHash permutation minimum (numba).

Per document, one pass over its characters (:func:`corpuskit.dedup.textscan.doc_words`, reading the
Python string in place and lower-casing by table; :mod:`corpuskit.dedup.folding` says when that equals
NFKC + lower) gives its word hashes; the n-gram hashes and the permutation minimum are then loops over
small arrays that stay in L1 and vectorise. The values are bit-identical to the array definition: a span
``[s, e)`` hashes to ``fmix64((sum_k v[s+k] * P^k) ^ (e - s))`` mod 2^64, words over code points and
shingles over word hashes, and permutation ``i`` of a 32-bit hash ``h`` is ``a[i] * fmix32(h) + b[i]``
mod 2^32. A whole batch is one call (a list of strings), so Python costs nothing per document.

Why numba: it installs from PyPI wheels (numba + llvmlite, no compiler needed on the machine), compiles
for the host CPU (AVX-512 where present), and ``cache=True`` keeps the machine code in ``__pycache__``,
so only the first process after an install pays the compile (a few seconds). A C extension would need a
build step in the install and a compiler on every machine; Rust (rensa) a toolchain or per-platform wheels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.dedup.textscan import doc_words, powers, words_room

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
def _span(words, s, e, base):
    acc = np.uint64(0)
    pk = np.uint64(1)
    for k in range(s, e):
        acc += words[k] * pk
        pk *= base
    return _fmix64(acc ^ np.uint64(e - s))


@njit(cache=True)
def _doc_shingles(text, table, n, base, pw, words, h):
    """Word pass of one text: its n-gram hashes into ``h`` (mixed, 64-bit) and its whole-text hash;
    returns (shingle count, text hash), count -1 when the text must be folded in Python first, -2 when
    the scratch arrays need :func:`words_room`. The loops after the character scan run over arrays, so
    they vectorise (8 lanes of uint64)."""
    nw = doc_words(text, table, pw, base, words)
    if nw < 0:
        return nw, np.uint64(0)
    for k in range(nw):
        words[k] = _fmix64(words[k])
    text_hash = _span(words, 0, nw, base)
    if nw < n:
        h[0] = text_hash
        return min(nw, 1), text_hash
    ns = nw - n + 1
    for j in range(ns):
        h[j] = words[j]
    for k in range(1, n):  # sum_k words[s + k] * P^k, all shingles at once
        pk = pw[k]
        for j in range(ns):
            h[j] += words[j + k] * pk
    nn = np.uint64(n)
    for j in range(ns):
        h[j] = _fmix64(h[j] ^ nn)
    return ns, text_hash


@njit(cache=True)
def _scratch(n):
    return np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint32)


@njit(cache=True)
def _roomy(text, table, n, base, pw):
    """:func:`_doc_shingles` with scratch arrays made for ``text``'s expansions (in the loops over
    documents the arrays are never reassigned: that made numba count references per character)."""
    words, h, xs = _scratch(words_room(len(text), table))
    ns, text_hash = _doc_shingles(text, table, n, base, pw, words, h)
    return ns, text_hash, h, xs


@njit(cache=True)
def _append(out, pos, h, ns):
    """``h[:ns]`` into ``out`` at ``pos``, in a grown copy of ``out`` when it is full."""
    if pos + ns > out.shape[0]:
        grown = np.empty(max(2 * out.shape[0], pos + ns), dtype=np.uint64)
        grown[:pos] = out[:pos]
        out = grown
    out[pos : pos + ns] = h[:ns]
    return out


@njit(cache=True)
def _longest(texts):
    longest = 0
    for t in texts:
        longest = max(longest, len(t))
    return longest


@njit(cache=True)
def word_shingles(texts, table, n, base):
    """(shingle hashes uint64, per-text counts (D,), whole-text hashes (D,)) of the word n-grams of a
    list of strings, as :func:`corpuskit.dedup.shingles.shingle_hashes` defines them (a short text is
    one shingle); count -1 marks a text :func:`doc_words` could not fold (it has no shingles here)."""
    ndoc = len(texts)
    counts = np.zeros(ndoc, dtype=np.int64)
    text_hash = np.zeros(ndoc, dtype=np.uint64)
    longest = _longest(texts)
    pw = powers(base, max(longest + 1, n))
    words, h, _ = _scratch(longest // 2 + 2)
    out = np.empty(max(longest // 2 + 2, ndoc * 64), dtype=np.uint64)
    pos = 0
    for d in range(ndoc):
        ns, text_hash[d] = _doc_shingles(texts[d], table, n, base, pw, words, h)
        if ns == -2:
            ns, text_hash[d], big, _ = _roomy(texts[d], table, n, base, pw)
            out = _append(out, pos, big, ns)
        elif ns > 0:
            out = _append(out, pos, h, ns)
        counts[d] = ns
        pos += max(ns, 0)
    return out[:pos].copy(), counts, text_hash


@njit(cache=True)
def _row_min(row, xs, ns, a, b):
    """``row[i] = min(row[i], min_j a[i] * xs[j] + b[i])`` over the ``ns`` mixed hashes of one document:
    the inner loop runs over shingles, so it is a vectorised min-reduction with ``a[i], b[i]`` broadcast;
    two permutations per pass share each load of ``xs`` (1.35x the one-permutation loop)."""
    pairs = row.shape[0] // 2 * 2
    for i in range(0, pairs, 2):
        a0, b0, a1, b1 = a[i], b[i], a[i + 1], b[i + 1]
        r0, r1 = row[i], row[i + 1]
        for j in range(ns):
            x = xs[j]
            r0 = min(r0, np.uint32(a0 * x + b0))
            r1 = min(r1, np.uint32(a1 * x + b1))
        row[i], row[i + 1] = r0, r1
    for i in range(pairs, row.shape[0]):
        r = row[i]
        for j in range(ns):
            r = min(r, np.uint32(a[i] * xs[j] + b[i]))
        row[i] = r


@njit(cache=True)
def _mixed_min(row, h, xs, ns, a, b):
    for j in range(ns):
        xs[j] = _fmix32(np.uint32(h[j] >> np.uint64(32)))
    _row_min(row, xs, ns, a, b)


@njit(cache=True)
def word_minhash(texts, table, n, base, a, b):
    """(signatures (D, num_perm) uint32, whole-text hashes (D,), shingle counts (D,)) of word n-grams
    of a list of strings: the high 32 bits of each shingle hash go through the affine32 permutations
    without being stored; count -1 as in :func:`word_shingles` (that row is left EMPTY)."""
    ndoc = len(texts)
    sig = np.full((ndoc, a.shape[0]), _EMPTY32, dtype=np.uint32)
    text_hash = np.zeros(ndoc, dtype=np.uint64)
    counts = np.zeros(ndoc, dtype=np.int64)
    longest = _longest(texts)
    pw = powers(base, max(longest + 1, n))
    words, h, xs = _scratch(longest // 2 + 2)
    for d in range(ndoc):  # independent documents: a prange over d needs only per-thread scratch
        ns, text_hash[d] = _doc_shingles(texts[d], table, n, base, pw, words, h)
        if ns == -2:
            ns, text_hash[d], big, big_xs = _roomy(texts[d], table, n, base, pw)
            _mixed_min(sig[d], big, big_xs, ns, a, b)
        elif ns > 0:
            _mixed_min(sig[d], h, xs, ns, a, b)
        counts[d] = ns
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
