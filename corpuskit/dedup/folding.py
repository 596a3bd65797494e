"""The lookup table of the compiled word pass, and the Python fold for the few texts it cannot fold.

:func:`corpuskit.dedup.shingles.fold` is NFKC then ``str.lower``. In Python that costs more than all the
hashing after it (NFKC's quick check reads every character of non-ASCII text, and the UTF-32 copy of the
batch was another pass), yet for almost every real text it only lower-cases characters one by one. By the
Unicode quick-check rule, a string of characters that are each *NFKC_QC = Yes* and of combining class 0
is already NFKC; such a string's fold is its per-character lower case, done by table in the kernel.
Two more kinds are table-foldable: a separator whose NFKC is only separators ("…" -> "..."), as hashing
sees nothing of separators but where they are, and a compatibility character whose NFKC is table-foldable
characters ("½" -> "1⁄2", "ﬁ" -> "fi", Arabic presentation forms; :func:`_expansions`), replaced in the
kernel. Only texts with another character (a combining mark, a Hangul jamo, a capital sigma, whose lower
case depends on context, or anything beyond plane 1) are folded in Python, after the kernel has flagged
them, and hashed again (:func:`fold_in_python`): 13 of 10,000 real documents in ``benchmarks/minhash.py``,
where "½" alone sent 150 there before.
The result is exactly ``fold``'s: ``tests/dedup/test_minhash.py`` checks it over all scripts.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import Literal, TypeVar

import numpy as np

_TABLE = 0x20000  # planes 0 and 1 (emoji included); characters beyond are folded in Python
_HANGUL_V_T = (range(0x1161, 0x1176), range(0x11A8, 0x11C3))  # compose with a preceding jamo/syllable


@functools.cache
def fold_tables() -> tuple[np.ndarray, np.ndarray]:
    """(stable, lower): ``stable[c]`` when character c (planes 0-1) needs no NFKC step, or only one that
    turns a separator into separators, and lower-cases to one character; ``lower[c]`` is that character
    (identity elsewhere). Built once per process (~0.3 s)."""
    seconds = set()  # second characters of canonical pairs: NFKC_QC = Maybe, they may compose backwards
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp)) if not 0xD800 <= cp <= 0xDFFF else ""
        if d and not d.startswith("<") and d.count(" ") == 1:
            seconds.add(int(d.split()[1], 16))
    for r in _HANGUL_V_T:
        seconds.update(r)
    from corpuskit.dedup.shingles import separator_table

    sep = separator_table()
    stable = np.zeros(_TABLE, dtype=bool)
    lower = np.arange(0x110000, dtype=np.uint32)
    for cp in range(_TABLE):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or cp in seconds or cp == 0x3A3 or unicodedata.combining(c):
            continue
        nfkc = unicodedata.normalize("NFKC", c)
        if nfkc != c:
            # a separator whose NFKC is separators only ("…" -> "..."): the words around it are the same
            stable[cp] = bool(sep[cp]) and all(sep[ord(x)] for x in nfkc)
            continue
        low = c.lower()
        if len(low) == 1:
            stable[cp] = True
            lower[cp] = ord(low)
    return stable, lower


TableKind = Literal["fold", "separators", "spaces"]
R = TypeVar("R")


def _expansions(stable: np.ndarray) -> dict[int, str]:
    """Characters whose NFKC is other characters that are each table-foldable ("½" -> "1⁄2", "ﬁ" -> "fi",
    Arabic presentation forms): in a text of table-foldable characters they may be replaced one by one.
    NFKC only composes a character with its predecessor when it is the second of a canonical pair (or
    has a combining class), and table-foldable characters are neither, so no expansion composes with
    its neighbours, nor they with it."""
    out = {}
    for cp in np.flatnonzero(~stable).tolist():
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or unicodedata.combining(c):
            continue
        nfkc = unicodedata.normalize("NFKC", c)
        if nfkc != c and all(ord(x) < _TABLE and stable[ord(x)] for x in nfkc):
            out[cp] = nfkc
    return out


@functools.cache
def word_table(kind: TableKind) -> np.ndarray:
    """uint32 over all code points: what the word pass (:mod:`corpuskit.dedup.textscan`) makes of each.

    ``fold`` (raw text): the lower case of a table-foldable character, SEP for one normalisation turns
    into a space, EXPANDS + offset for one :func:`_expansions` replaces (the offset, past the code
    points, holds the length and the folded values), UNFOLDABLE otherwise; ``separators`` (text already
    folded in Python): the character or SEP; ``spaces`` (normalised text): SEP for space and NUL only."""
    from corpuskit.dedup.shingles import separator_table
    from corpuskit.dedup.textscan import EXPANDS, SEP, UNFOLDABLE

    table = np.arange(0x110000, dtype=np.uint32)
    if kind == "spaces":
        table[[0, 32]] = SEP
        return table
    sep = separator_table()
    if kind == "separators":
        table[sep] = SEP
        return table
    stable, lower = fold_tables()
    folded = np.where(sep[lower], SEP, lower)  # meaningful where stable
    table[:_TABLE] = np.where(stable, folded[:_TABLE], UNFOLDABLE)
    table[_TABLE:] = UNFOLDABLE
    tail: list[int] = []
    for cp, nfkc in _expansions(stable).items():
        values = [int(folded[ord(x)]) for x in nfkc]
        if len(values) == 1:
            table[cp] = values[0]
        else:
            table[cp] = int(EXPANDS) | (len(table) + len(tail))
            tail += [len(values), *values]
    return np.concatenate([table, np.array(tail, dtype=np.uint32)])


def fold_in_python(
    texts: list[str], raw: bool, run: Callable[[list[str], np.ndarray], R], counts: Callable[[R], np.ndarray]
) -> tuple[R, np.ndarray, R | None]:
    """``run(texts, table)`` with the table for ``raw`` or normalised texts; when raw texts had characters
    the table cannot fold (``counts(result) < 0``), also ``run`` on those texts folded in Python.

    Returns (result, indices of the texts folded in Python, result on them or None)."""
    first = run(texts, word_table("fold" if raw else "spaces"))
    idx = np.flatnonzero(counts(first) < 0)
    if not len(idx):
        return first, idx, None
    from corpuskit.dedup.shingles import fold as python_fold

    return first, idx, run(python_fold([texts[i] for i in idx.tolist()]), word_table("separators"))
