"""Word hashes straight from Python strings, in compiled code (numba), with no encoding step.

CPython stores a string as one code point per 1, 2 or 4 bytes (its "kind"); numba passes a ``str``
to compiled code as a pointer to that storage, so the kernel reads code points in place. Encoding the
batch to UTF-8 first (and decoding it again in the kernel) cost more than all the hashing after it.

One table lookup per code point (:func:`corpuskit.dedup.folding.word_table`) gives what normalisation
makes of it: its lower case, :data:`SEP` for a separator, :data:`EXPANDS` for a character NFKC replaces
by several, or :data:`UNFOLDABLE` when only Python's NFKC can fold it.
The loop is branch-free per character (word boundaries are unpredictable, so a branch on them mispredicts
about once a word): every step stores the running word's hash at the current slot and moves to the next
slot only when a word ends; the word's polynomial ``sum_k c_k * P^k`` takes ``P^k`` from a table as
long as the batch's longest text. Texts with an expansion (rare) are scanned again by a loop that
handles it.

The words' hashes are ``acc ^ length``, before the finaliser: callers apply ``fmix64`` in a separate,
vectorised loop (see :mod:`corpuskit.dedup.kernels`).
"""

from __future__ import annotations

import warnings

import numpy as np
from numba import njit
from numba.core.errors import NumbaPendingDeprecationWarning
from numba.cpython.unicode import _get_code_point, deref_uint8, deref_uint16, deref_uint32

SEP = np.uint32(0x80000000)  # table value of a separator (code points are < 2^21)
UNFOLDABLE = np.uint32(0xC0000000)  # table value of a character only Python's NFKC + lower can fold
EXPANDS = np.uint32(0xA0000000)  # | offset in the table of (length, values...): NFKC gives several
_UNFOLDABLE_BIT = np.uint32(0x40000000)
_EXPANDS_BIT = np.uint32(0x20000000)
_OFFSET = np.uint32(0x1FFFFFFF)


@njit(cache=True)
def _pow(base, e):
    r = np.uint64(1)
    while e:
        if e & 1:
            r *= base
        base *= base
        e >>= 1
    return r


@njit(cache=True, inline="always")
def _step(c, p, nw, acc, length, prev, words):
    """One code point's table value ``c`` into the word state, ``p`` = P^length; no branch: ``sep`` is
    the top bit (1 for a separator) and masks reset the word after one."""
    sep = c >> np.uint32(31)
    keep = np.uint64(sep) - np.uint64(1)  # all ones inside a word
    words[nw] = acc ^ np.uint64(length)  # the running word; kept only when the next step ends it
    nw += prev & sep
    acc = (acc + np.uint64(c) * p) & keep
    length = (length + 1) & np.int64(keep)
    return nw, acc, length, np.uint32(1) - sep


@njit(cache=True)
def _doc_words_fast(s, table, pw, base, words):
    """:func:`doc_words` for texts without expansions (-3 when there is one)."""
    nw = 0
    acc = np.uint64(0)
    length = 0
    prev = np.uint32(0)
    seen = np.uint32(0)
    data = s._data
    n = len(s)
    if s._kind == 1:  # one loop per storage width, so the width is not tested per character
        for i in range(n):
            c = table[deref_uint8(data, i)]
            seen |= c
            nw, acc, length, prev = _step(c, pw[length], nw, acc, length, prev, words)
    elif s._kind == 2:
        for i in range(n):
            c = table[deref_uint16(data, i)]
            seen |= c
            nw, acc, length, prev = _step(c, pw[length], nw, acc, length, prev, words)
    else:
        for i in range(n):
            c = table[deref_uint32(data, i)]
            seen |= c
            nw, acc, length, prev = _step(c, pw[length], nw, acc, length, prev, words)
    if seen & _UNFOLDABLE_BIT:
        return -1
    if seen & _EXPANDS_BIT:
        return -3
    words[nw] = acc ^ np.uint64(length)
    return nw + (length > 0)


@njit(cache=True)
def _doc_words_exact(s, table, pw, base, words):
    """:func:`doc_words` for texts with expansions: one loop over code points and the characters of
    their expansions (no nested loop: that made numba count references per character); a word may be
    longer than the text here, so its power may be past the table."""
    nw = 0
    acc = np.uint64(0)
    length = 0
    prev = np.uint32(0)
    n = len(s)
    i = 0
    e = 0
    end = 0
    while True:
        if e < end:
            c = table[e]
            e += 1
        elif i < n:
            c = table[_get_code_point(s, i)]
            i += 1
            if c & _EXPANDS_BIT:
                e = (c & _OFFSET) + 1
                end = e + table[e - 1]
                if nw + (end - e) + (n - i) // 2 + 2 > words.shape[0]:
                    return -2
                continue
        else:
            break
        p = pw[length] if length < pw.shape[0] else _pow(base, length)
        nw, acc, length, prev = _step(c, p, nw, acc, length, prev, words)
    words[nw] = acc ^ np.uint64(length)
    return nw + (length > 0)


@njit(cache=True)
def doc_words(s, table, pw, base, words):
    """Unmixed hashes of the words of string ``s`` into ``words`` (room for ``len(s) // 2 + 2``), with
    ``pw`` = :func:`powers` for at least ``len(s) + 1``; returns their count, -1 when ``s`` has a
    character the table cannot fold, or -2 when expansions need more room than that (then
    :func:`words_room` is enough)."""
    nw = _doc_words_fast(s, table, pw, base, words)
    if nw == -3:
        return _doc_words_exact(s, table, pw, base, words)
    return nw


@njit(cache=True)
def words_room(n, table):
    """Room for the words of any text of ``n`` characters: each may expand to the longest expansion."""
    longest = 1
    at = 0x110000
    while at < table.shape[0]:
        longest = max(longest, table[at])
        at += table[at] + 1
    return n * longest + 2


@njit(cache=True)
def powers(base, n):
    """``P^k mod 2^64`` for ``k < n``: the table :func:`doc_words` reads (per batch, as long as its
    longest text, so no word's power is past it and the loop has no branch for that), and the shingle
    polynomial's for n-grams."""
    pw = np.empty(max(n, 1), dtype=np.uint64)
    pw[0] = 1
    for k in range(1, n):
        pw[k] = pw[k - 1] * base
    return pw


def on_strings(kernel, texts: list[str], *args):
    """``kernel(texts, *args)`` for a non-empty list of ``str``: numba passes it as a "reflected list",
    whose pending deprecation it warns about when compiling; the list is only read, never reflected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaPendingDeprecationWarning)
        return kernel(texts, *args)
