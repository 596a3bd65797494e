"""Word hashes straight from Python strings, in compiled code (numba), with no encoding step.

CPython stores a string as one code point per 1, 2 or 4 bytes (its "kind"); numba passes a ``str``
to compiled code as a pointer to that storage, so the kernel reads code points in place. Encoding the
batch to UTF-8 first (and decoding it again in the kernel) cost more than all the hashing after it.

One table lookup per code point (:func:`corpuskit.dedup.folding.word_table`) gives what normalisation
makes of it: its lower case, :data:`SEP` for a separator, :data:`EXPANDS` for a character NFKC replaces
by several, or :data:`UNFOLDABLE` when only Python's NFKC can fold it.
The loop is branch-free per character (word boundaries are unpredictable, so a branch on them mispredicts
about once a word): every step stores the running word's hash at the current slot and moves to the next
slot only when a word ends; the word's polynomial ``sum_k c_k * P^k`` takes ``P^k`` from a table of
``POWERS``. Texts with an expansion or a longer word (rare: CJK runs, say) are scanned again by a loop
that handles both, and is ~1.3x slower.

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
POWERS = 64  # P^k for k < POWERS come from a table; longer words (rare) compute the power
_MOD = POWERS - 1  # a power of two


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
    """:func:`doc_words` for texts without expansions or words of ``POWERS`` characters (-3 when there
    is one: the power is read as ``pw[length % POWERS]`` to keep a branch out of the loop)."""
    nw = 0
    acc = np.uint64(0)
    length = 0
    prev = np.uint32(0)
    seen = np.uint32(0)
    longest = 0
    data = s._data
    n = len(s)
    if s._kind == 1:  # one loop per storage width, so the width is not tested per character
        for i in range(n):
            c = table[deref_uint8(data, i)]
            seen |= c
            longest |= length
            nw, acc, length, prev = _step(c, pw[length & _MOD], nw, acc, length, prev, words)
    elif s._kind == 2:
        for i in range(n):
            c = table[deref_uint16(data, i)]
            seen |= c
            longest |= length
            nw, acc, length, prev = _step(c, pw[length & _MOD], nw, acc, length, prev, words)
    else:
        for i in range(n):
            c = table[deref_uint32(data, i)]
            seen |= c
            longest |= length
            nw, acc, length, prev = _step(c, pw[length & _MOD], nw, acc, length, prev, words)
    if seen & _UNFOLDABLE_BIT:
        return -1
    if seen & _EXPANDS_BIT or longest >= POWERS:
        return -3
    words[nw] = acc ^ np.uint64(length)
    return nw + (length > 0)


@njit(cache=True)
def _doc_words_exact(s, table, pw, base, words):
    """:func:`doc_words` for texts with expansions or long words: one loop over code points and the
    characters of their expansions (no nested loop: that made numba count references per character)."""
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
        p = pw[length] if length < POWERS else _pow(base, length)
        nw, acc, length, prev = _step(c, p, nw, acc, length, prev, words)
    words[nw] = acc ^ np.uint64(length)
    return nw + (length > 0)


@njit(cache=True)
def doc_words(s, table, pw, base, words):
    """Unmixed hashes of the words of string ``s`` into ``words`` (room for ``len(s) // 2 + 2``);
    returns their count, -1 when ``s`` has a character the table cannot fold, or -2 when expansions
    need more room than that (then :func:`words_room` is enough)."""
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


def powers(base: np.uint64, n: int) -> np.ndarray:
    """``P^k mod 2^64`` for ``k < max(POWERS, n)``: the table :func:`doc_words` reads, and the shingle
    polynomial's for n-grams of ``n`` words."""
    pw = np.ones(max(POWERS, n), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(1, len(pw)):
            pw[k] = pw[k - 1] * base
    return pw


def on_strings(kernel, texts: list[str], *args):
    """``kernel(texts, *args)`` for a non-empty list of ``str``: numba passes it as a "reflected list",
    whose pending deprecation it warns about when compiling; the list is only read, never reflected."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaPendingDeprecationWarning)
        return kernel(texts, *args)
