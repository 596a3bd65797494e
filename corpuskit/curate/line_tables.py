"""Code-point class tables and the small compiled pieces of :mod:`corpuskit.curate.line_stats`' kernel.

The tables are built from Python itself (``str.isspace``, ``str.splitlines``, ``re``'s ``\\d``, ``regex``'s
``\\p{P}``, ``str.lower``), so the compiled line statistics split and strip exactly as the Python
definitions in :mod:`corpuskit.curate.signals` do, with no second Unicode database.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import regex
from numba import njit

SPACE, BREAK, PUNCT, PSPACE, SENT, LOWSPEC, DIGIT = 1, 2, 4, 8, 16, 32, 64
# output columns of :func:`line_kernel`, one row per document
COLS = (
    "lines",  # str.splitlines()
    "bullets",
    "end_ellipsis",
    "paragraphs",  # re.split(r"\n{2,}", text.strip())
    "para_dup",
    "para_dup_chars",
    "rlines",  # re.split("\n+", text)
    "rline_dup",
    "rline_dup_chars",
    "fw_lines",  # non-blank lines of text.split("\n")
    "fw_punct",
    "fw_short",
    "fw_dup_chars",
    "newlines",
    "hashes",  # text.count("#")
    "ellipses",  # text.count("...") + text.count("…")
    "c4_kept",
    "c4_sentences",
    "c4_lorem",  # -1: none
    "c4_curly",
    "collision",  # 1: hash collision among this document's lines, recompute in Python
)
_C = {name: i for i, name in enumerate(COLS)}
# C4's phrases, ASCII (their lower-case match is an ASCII case-folded match outside LOWSPEC characters)
#: C4_POLICY_SUBSTRINGS (the Python path's list, for datatrove's policy filter) are its last six
C4_POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
PHRASES = ("lorem ipsum", "javascript", *C4_POLICY_SUBSTRINGS)
_PHRASES = np.zeros((len(PHRASES), max(map(len, PHRASES))), dtype=np.uint32)
for _i, _p in enumerate(PHRASES):
    _PHRASES[_i, : len(_p)] = [ord(c) for c in _p]
_PHRASE_LEN = np.array([len(p) for p in PHRASES], dtype=np.int64)
_FIRST = np.zeros(128, dtype=np.uint8)  # first letters of the phrases
_FIRST[[ord(p[0]) for p in PHRASES]] = 1
_EDIT = np.array([ord(c) for c in "[edit]"], dtype=np.uint32)
_CITATION = np.array([ord(c) for c in "[citation needed]"], dtype=np.uint32)


@cache
def char_table(punct_or_space: str, sent_punct: frozenset[str]) -> np.ndarray:
    """Class bits of every code point (surrogates included: they can occur in a ``str``)."""
    t = np.zeros(0x110000, dtype=np.uint8)
    cps = np.arange(0x110000, dtype=np.uint32)
    every = cps[(cps < 0xD800) | (cps > 0xDFFF)].tobytes().decode("utf-32-le")

    def mark(chars, bit: int) -> None:
        t[np.fromiter(map(ord, chars), dtype=np.int64)] |= bit

    mark(re.findall(r"\s", every), SPACE)  # re's \s is str.isspace
    mark([c for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029" if len(f"a{c}b".splitlines()) == 2], BREAK)
    mark(regex.findall(r"\p{P}", every), PUNCT)
    mark(punct_or_space, PSPACE)
    mark(sent_punct, SENT)
    mark(re.findall(r"\d", every), DIGIT)  # C4_CITATION_RE's \d
    low = [c for c in every if ord(c) > 127 and c.lower() != c and re.search("[a-z ]", c.lower())]
    mark(low, LOWSPEC)
    return t


@cache
def stop_table(stop_chars: str) -> np.ndarray:
    t = np.zeros(0x110000, dtype=np.uint8)
    t[[ord(c) for c in stop_chars]] = 1
    return t


@njit(cache=True)
def _push(a: np.ndarray, n: int, v: int) -> np.ndarray:
    """``a`` with ``v`` at position ``n`` (grown by :func:`_reserve` when full)."""
    a = _reserve(a, n, 1)
    a[n] = v
    return a


@njit(cache=True)
def _reserve(a: np.ndarray, n: int, extra: int) -> np.ndarray:
    """``a`` with room for ``extra`` more values after the first ``n`` (doubling)."""
    if n + extra <= a.shape[0]:
        return a
    b = np.empty(max(2 * a.shape[0], n + extra), dtype=a.dtype)
    b[:n] = a[:n]
    return b


@njit(cache=True)
def _hash(cp, a, b):
    """64-bit hash of ``cp[a:b]``, three 21-bit code points per multiply (equal hashes are compared)."""
    x = np.uint64(14695981039346656037) ^ (np.uint64(b - a) * np.uint64(0x9E3779B97F4A7C15))
    p = np.uint64(0x100000001B3)
    i = a
    while i + 3 <= b:
        v = np.uint64(cp[i]) | (np.uint64(cp[i + 1]) << np.uint64(21))
        v |= np.uint64(cp[i + 2]) << np.uint64(42)
        x = (x ^ v) * p
        x ^= x >> np.uint64(31)
        i += 3
    while i < b:
        x = (x ^ np.uint64(cp[i])) * p
        i += 1
    x ^= x >> np.uint64(29)
    return x * np.uint64(0xBF58476D1CE4E5B9)


@njit(cache=True)
def _dups(cp, ss, es, h, n):
    """(repeats after the first, their characters, collision) of the spans ``cp[ss[j]:es[j]]`` with hashes
    ``h[j]``; a collision (equal hashes, different text) is flagged for the caller to recount."""
    if n < 2:
        return 0, 0, 0
    order = np.argsort(h[:n])
    dups = chars = bad = 0
    g = 0
    while g < n:
        f = order[g]
        k = g + 1
        while k < n and h[order[k]] == h[f]:
            j = order[k]
            size = es[j] - ss[j]
            if size != es[f] - ss[f]:
                bad = 1
            else:
                for t in range(size):
                    if cp[ss[j] + t] != cp[ss[f] + t]:
                        bad = 1
                        break
            dups += 1
            chars += size
            k += 1
        g = k
    return dups, chars, bad


@njit(cache=True)
def _fold(c):
    return c + 32 if 65 <= c <= 90 else c


@njit(cache=True)
def _phrases(buf, m, phrases, plen):
    """Bit i set when PHRASES[i] occurs in the ASCII-folded ``buf[:m]``."""
    found = 0
    for i in range(m):
        c = _fold(buf[i])
        if c >= 128 or not _FIRST[c]:
            continue
        for p in range(phrases.shape[0]):
            if phrases[p, 0] != c or i + plen[p] > m:
                continue
            ok = True
            for t in range(1, plen[p]):
                if _fold(buf[i + t]) != phrases[p, t]:
                    ok = False
                    break
            if ok:
                found |= 1 << p
    return found


@njit(cache=True)
def _matches(cp, i, e, pat):
    if i + pat.shape[0] > e:
        return False
    for t in range(pat.shape[0]):
        if cp[i + t] != pat[t]:
            return False
    return True


@njit(cache=True)
def _unterminated(a, lo, hi):
    """C4's ``not line.endswith(C4_END_PUNCTUATION) or line.endswith("...")`` for ``a[lo:hi]``."""
    if hi == lo:
        return True
    c = a[hi - 1]
    if not (c == 46 or c == 63 or c == 33 or c == 34 or c == 39):
        return True
    return c == 46 and hi - lo >= 3 and a[hi - 2] == 46 and a[hi - 3] == 46


@njit(cache=True)
def _counts(cp, a0, a1, o):
    """``text.count`` of "#", "..." (non-overlapping: a run of r dots holds r // 3), "…" and newlines."""
    run = 0
    for i in range(a0, a1):
        c = cp[i]
        if c == 46:
            run += 1
            continue
        o[15] += run // 3
        run = 0
        if c == 35:
            o[14] += 1
        elif c == 0x2026:
            o[15] += 1
        elif c == 10:
            o[13] += 1
    o[15] += run // 3


@njit(cache=True)
def _chunk_codes(cp, s, e, T, codes, nc, spans, nsp):
    """Append the code of each whitespace chunk of ``cp[s:e]`` (see :func:`line_kernel`)."""
    codes = _reserve(codes, nc, (e - s + 1) // 2)
    spans = _reserve(spans, nsp, e - s + 1)
    j = s
    while j < e:
        if T[cp[j]] & SPACE:
            j += 1
            continue
        q = j
        sent, punct_only = False, True
        while q < e:
            t = T[cp[q]]
            if t & SPACE:
                break
            sent |= (t & SENT) != 0
            punct_only &= (t & PUNCT) != 0
            q += 1
        if sent:
            codes[nc] = 2 + nsp // 2
            spans[nsp] = j
            spans[nsp + 1] = q
            nsp += 2
        else:
            codes[nc] = 0 if punct_only else 1
        nc += 1
        j = q
    return codes, nc, spans, nsp
