"""A batch of texts as one UTF-8 buffer for the compiled word pass, folded by table where that is exact.

:func:`corpuskit.dedup.shingles.fold` is NFKC then ``str.lower``. In Python that costs more than all the
hashing after it (NFKC's quick check reads every character of non-ASCII text, and the UTF-32 copy of the
batch was another pass), yet for almost every real text it only lower-cases characters one by one. By the
Unicode quick-check rule, a string of characters that are each *NFKC_QC = Yes* and of combining class 0
is already NFKC; such a string's fold is its per-character lower case, done by table in the kernel. Only
texts with another character (a combining mark, a compatibility form like "ﬁ", a Hangul jamo, a capital
sigma, whose lower case depends on context, or anything beyond plane 1) are folded in Python first.
One more kind is table-foldable: a separator whose NFKC is only separators ("…" -> "..."), as hashing
sees nothing of separators but where they are.
The result is exactly ``fold``'s: ``tests/dedup/test_minhash.py`` checks it over all scripts.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

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


def _utf8(texts: Sequence[str]) -> tuple[list[bytes], np.ndarray]:
    raw = [t.encode("utf-8", "surrogatepass") for t in texts]
    return raw, np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))


def _starts(lens: np.ndarray) -> np.ndarray:
    starts = np.zeros(len(lens), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    return starts


def utf8_batch(texts: Sequence[str | None], fold: bool) -> tuple[np.ndarray, ...]:
    """(UTF-8 bytes of all texts, start and length of each, per text: fold by table in the kernel).

    With ``fold`` the kernel's output equals that on :func:`corpuskit.dedup.shingles.fold`'s output;
    without it the texts are hashed as they are (already normalised text)."""
    from corpuskit.dedup.kernels import unfoldable

    strs = ["" if t is None else t for t in texts]
    raw, lens = _utf8(strs)
    buf = np.frombuffer(b"".join(raw), dtype=np.uint8)
    starts = _starts(lens)
    if not fold:
        return buf, starts, lens, np.zeros(len(strs), dtype=bool)
    stable, _ = fold_tables()
    python = unfoldable(buf, starts, lens, stable)
    if python.any():
        from corpuskit.dedup.shingles import fold as python_fold

        idx = np.flatnonzero(python)
        folded, flens = _utf8(python_fold([strs[i] for i in idx]))
        for i, f in zip(idx.tolist(), folded, strict=True):
            raw[i] = f
        lens[idx] = flens
        buf = np.frombuffer(b"".join(raw), dtype=np.uint8)
        starts = _starts(lens)
    return buf, starts, lens, ~python
