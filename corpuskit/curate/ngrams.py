"""Gopher repetition's n-gram statistics in one compiled pass per document (numba).

Gopher (Rae et al. 2021, Table A1) measures, over a document's words, the character share of the most
frequent n-gram (n = 2..4) and of all repeated n-grams (n = 5..10). datatrove builds each n-gram as a
string and counts them in a ``Counter``/``set`` per n; here words are 64-bit ids and an n-gram is a
polynomial hash of its word ids (a false match needs a 64-bit collision), counted in an open-addressing
table, so a 1000-word document is ~9 x 1000 table probes instead of 9000 string joins.

Semantics kept from datatrove (``gopher_repetition_filter.py``): the top n-gram is the first to reach the
highest count (``Counter.most_common(1)``), its length ``len(" ".join(words))`` times its count; repeated
n-grams are found by ``find_all_duplicate``'s left-to-right scan that jumps n words after a repeat, and
measure ``len("".join(words))`` (no separators). One known difference: datatrove's ``"".join`` makes
``"ab" + "c"`` equal to ``"a" + "bc"``; word ids do not.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOP_NGRAMS = (2, 3, 4)  # Gopher Table A1: top n-gram character fractions
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)  # Gopher Table A1: duplicate n-gram character fractions
_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the n-gram polynomial hash


@njit(cache=True)
def _count(keys, alive, n_alive, table_keys, table_count, table_first, table_stamp, stamp, slot_of):
    """Count the keys of positions ``alive[:n_alive]`` (increasing) in the table, whose slots of other
    stamps are empty; ``slot_of[j]`` = the slot of the j-th alive position's key."""
    mask = table_keys.shape[0] - 1
    for j in range(n_alive):
        p = alive[j]
        k = keys[p]
        i = np.int64((k * _MUL) >> np.uint64(32)) & mask
        while table_stamp[i] == stamp and table_keys[i] != k:
            i = (i + 1) & mask
        if table_stamp[i] != stamp:
            table_stamp[i] = stamp
            table_keys[i] = k
            table_first[i] = p
            table_count[i] = 0
        table_count[i] += 1
        slot_of[j] = i


@njit(cache=True)
def ngram_chars(ids, lens, top_n, dup_n):
    """(top n-gram characters for each ``top_n``, repeated n-gram characters for each ``dup_n``), as
    float64 numerators; divide by the document's characters.

    An n-gram can repeat only where its (n-1)-gram repeats, so each n counts only the positions whose
    (n-1)-gram occurred more than once ("alive"); the others have count 1. In prose most 5-grams are
    unique, so n = 6..10 cost little."""
    m = ids.shape[0]
    out = np.zeros(top_n.shape[0] + dup_n.shape[0], dtype=np.float64)
    if m < 2:
        return out
    cum = np.zeros(m + 1, dtype=np.int64)
    for p in range(m):
        cum[p + 1] = cum[p] + lens[p]
    size = 1
    while size < 2 * m:
        size *= 2
    table_keys = np.empty(size, dtype=np.uint64)
    table_count = np.empty(size, dtype=np.int64)
    table_first = np.empty(size, dtype=np.int64)
    table_stamp = np.zeros(size, dtype=np.int64)
    seen = np.zeros(size, dtype=np.int64)  # stamp of the n whose scan saw the slot
    slot_of = np.empty(m, dtype=np.int64)
    alive = np.arange(m)
    n_alive = m
    keys = ids + np.uint64(1)
    n_max = max(top_n.max(), dup_n.max())
    for n in range(2, n_max + 1):
        npos = m - n + 1
        if npos <= 0:
            break
        k = 0
        for j in range(n_alive):
            p = alive[j]
            if p < npos:
                keys[p] = keys[p] * _MUL + ids[p + n - 1] + np.uint64(1)
                alive[k] = p
                k += 1
        n_alive = k
        _count(keys, alive, n_alive, table_keys, table_count, table_first, table_stamp, n, slot_of)
        for t in range(top_n.shape[0]):
            if top_n[t] == n:
                best, where = 1, 0  # every position not alive has count 1; the first is position 0
                for j in range(n_alive):
                    s = slot_of[j]
                    c = table_count[s]
                    if c > best or (c == best and table_first[s] < where):
                        best, where = c, table_first[s]
                out[t] = (cum[where + n] - cum[where] + n - 1) * best
        for t in range(dup_n.shape[0]):
            if dup_n[t] == n:
                repeated, next_p = 0, 0
                for j in range(n_alive):
                    p = alive[j]
                    s = slot_of[j]
                    if p < next_p or table_count[s] < 2:
                        continue
                    if seen[s] == n:
                        repeated += cum[p + n] - cum[p]
                        next_p = p + n  # datatrove's scan jumps past a repeat
                    else:
                        seen[s] = n
                out[top_n.shape[0] + t] = repeated
        k = 0
        for j in range(n_alive):
            if table_count[slot_of[j]] > 1:
                alive[k] = alive[j]
                k += 1
        n_alive = k
    return out


_TOP = np.array(TOP_NGRAMS, dtype=np.int64)
_DUP = np.array(DUP_NGRAMS, dtype=np.int64)


def ngram_signals(words: list[str], n_chars: int) -> list[float]:
    """Top n-gram (n=2..4) and duplicate n-gram (n=5..10) character fractions of Gopher repetition."""
    m = len(words)
    if m < 2:
        return [0.0] * (len(TOP_NGRAMS) + len(DUP_NGRAMS))
    # word ids: Python's string hash (distinct words collide with probability ~m^2 / 2^64)
    ids = np.fromiter(map(hash, words), dtype=np.int64, count=m).view(np.uint64)
    lens = np.fromiter(map(len, words), dtype=np.int64, count=m)
    return (ngram_chars(ids, lens, _TOP, _DUP) / n_chars).tolist()
