"""Line-level statistics of a batch of documents (Gopher lines, duplicate lines and paragraphs, C4, FineWeb)
in one compiled pass over the batch's code points (numba).

Every statistic is the one :mod:`corpuskit.curate.signals` defines in Python terms (``str.splitlines``,
``str.strip``, ``str.split("\\n")``, ``re.split(r"\\n{2,}")``, ...), with the class tables of
:mod:`~corpuskit.curate.line_tables`. What the kernel cannot decide alone goes back to Python, per line: a
C4 line holding one of the two characters whose ``lower()`` contains ASCII letters (``İ``, the Kelvin sign)
is judged by :func:`corpuskit.curate.signals.c4_line`; the sentences of a kept line with sentence-final
punctuation need the word splitter's classes of the chunks holding that punctuation (only those chunks are
looked up); a line whose citations were removed has its sentences counted in Python. Duplicates are found
by 64-bit hashes whose equal groups are compared character by character; a collision sends the document's
duplicate counts to Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.curate.line_tables import (
    BREAK,
    COLS,
    DIGIT,
    LOWSPEC,
    PSPACE,
    SENT,
    SPACE,
    _chunk_codes,
    _counts,
    _dups,
    _hash,
    _matches,
    _phrases,
    _push,
    _unterminated,
)


@njit(cache=True)
def _c4_line(cp, ls, le, T, buf, opts, phrases, plen, edit, citation):
    """C4's checks of the line ``cp[ls:le]`` (see :func:`corpuskit.curate.signals.c4_line`): (status, flags,
    strip start, strip end); status 0 dropped, 1 kept, 2 judge in Python; flags 1 lorem ipsum, 2 curly
    bracket, 4 sentences need the word classes, 8 a citation was removed."""
    s, e = ls, le
    while s < e and T[cp[s]] & SPACE:
        s += 1
    while e > s and T[cp[e - 1]] & SPACE:
        e -= 1
    m = 0
    flags = 0
    has_bracket = False
    if opts[0]:
        for i in range(s, e):
            if cp[i] == 91:
                has_bracket = True
                break
    if opts[1] and not has_bracket and _unterminated(cp, s, e):
        return 0, flags, s, e  # the common early exit, before any copy
    i = s
    while i < e:  # the line with C4_CITATION_RE's matches removed, into buf[:m]
        c = cp[i]
        if has_bracket and c == 91:
            j = i + 1
            while j < e and T[cp[j]] & DIGIT:
                j += 1
            if j < e and cp[j] == 93:
                i, flags = j + 1, flags | 8
                continue
            if _matches(cp, i, e, edit):
                i, flags = i + edit.shape[0], flags | 8
                continue
            if _matches(cp, i, e, citation):
                i, flags = i + citation.shape[0], flags | 8
                continue
        buf[m] = c
        m += 1
        i += 1
    if opts[1] and has_bracket and _unterminated(buf, 0, m):
        return 0, flags, s, e
    words = longest = 0
    i = s
    while i < e:  # the raw line's words (str.split)
        if T[cp[i]] & SPACE:
            i += 1
            continue
        j = i
        while j < e and not T[cp[j]] & SPACE:
            j += 1
        words += 1
        longest = max(longest, j - i)
        i = j
    if words < opts[2]:
        return 0, flags, s, e
    if opts[3] != -1 and le - ls > opts[3] and longest > opts[3]:
        return 0, flags, s, e
    curly, first_sent = False, m
    for i in range(m):
        t = T[buf[i]]
        if t & LOWSPEC:
            return 2, flags, s, e
        curly |= buf[i] == 123
        if t & SENT and first_sent == m:
            first_sent = i
    found = _phrases(buf, m, phrases, plen)
    if found & 1:
        flags |= 1
    if opts[4] and found & 2:
        return 0, flags, s, e
    if curly:
        flags |= 2
    if opts[5] and found & ~3:
        return 0, flags, s, e
    r = m
    while r > 0 and T[buf[r - 1]] & PSPACE:
        r -= 1
    if first_sent < r:
        flags |= 4
    return 1, flags, s, e


@njit(cache=True)
def _splits(cp, a0, a1, T, stop, short_len, ss, es, hs, fs, fe, fh, o):
    """Duplicates among ``re.split("\\n+", text)`` (empty pieces only at either end), FineWeb's non-blank
    lines of ``text.split("\\n")`` and ``re.split(r"\\n{2,}", text.strip())``'s paragraphs; each ``\\n``
    piece is hashed once for both line lists."""
    n_seg, ls, q = o[13] + 1, a0, 0
    nr = nf = 0
    for i in range(a0, a1 + 1):
        if i < a1 and cp[i] != 10:
            continue
        keep_r = q == 0 or q == n_seg - 1 or i > ls
        keep_f = False
        for j in range(ls, i):
            if not T[cp[j]] & SPACE:
                keep_f = True
                break
        if keep_r or keep_f:
            x = _hash(cp, ls, i)
            if keep_r:
                ss[nr], es[nr], hs[nr] = ls, i, x
                nr += 1
            if keep_f:
                fs[nf], fe[nf], fh[nf] = ls, i, x
                nf += 1
                o[10] += stop[cp[i - 1]]
                o[11] += 1 if i - ls <= short_len else 0
        q += 1
        ls = i + 1
    o[6], o[9] = nr, nf
    o[7], o[8], bad = _dups(cp, ss, es, hs, nr)
    o[20] |= bad
    _, o[12], bad = _dups(cp, fs, fe, fh, nf)
    o[20] |= bad
    s, e = a0, a1
    while s < e and T[cp[s]] & SPACE:
        s += 1
    while e > s and T[cp[e - 1]] & SPACE:
        e -= 1
    npara, ps, run = 0, s, 0
    for i in range(s, e + 1):
        if i < e and cp[i] == 10:
            run += 1
            continue
        if run >= 2:
            ss[npara], es[npara], hs[npara] = ps, i - run, _hash(cp, ps, i - run)
            npara += 1
            ps = i
        run = 0
    ss[npara], es[npara], hs[npara] = ps, e, _hash(cp, ps, e)
    npara += 1
    o[3] = npara
    o[4], o[5], bad = _dups(cp, ss, es, hs, npara)
    o[20] |= bad


@njit(cache=True)
def line_kernel(cp, starts, ends, T, stop, opts, phrases, plen, edit, citation):
    """Per document (rows, :data:`~corpuskit.curate.line_tables.COLS`) plus what Python finishes: C4 lines
    to judge (doc, line, start, end), sentence lines (doc, first code, end code) with their chunk codes (0
    punctuation only, 1 has a word, 2 + k the k-th chunk of ``spans`` (start, end): look up its classes),
    cited sentence lines (doc, start, end)."""
    n = starts.shape[0]
    out = np.zeros((n, len(COLS)), dtype=np.int64)
    longest = pieces = 0
    for d in range(n):  # counts first: the span tables need one slot per newline piece, not per character
        o = out[d]
        o[18] = o[19] = -1
        _counts(cp, starts[d], ends[d], o)
        longest = max(longest, ends[d] - starts[d])
        pieces = max(pieces, o[13] + 2)
    ss, es = np.empty(pieces, dtype=np.int64), np.empty(pieces, dtype=np.int64)
    fs, fe = np.empty(pieces, dtype=np.int64), np.empty(pieces, dtype=np.int64)
    hs, fh = np.empty(pieces, dtype=np.uint64), np.empty(pieces, dtype=np.uint64)
    buf = np.empty(longest + 1, dtype=np.uint32)  # one line, citations removed
    judge, codes, slines = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int64)
    spans, cited = np.empty(64, np.int64), np.empty(64, np.int64)
    nj = nc = nsl = nsp = nci = 0
    for d in range(n):
        a0, a1 = starts[d], ends[d]
        o = out[d]
        if a0 == a1:
            continue
        k, ls = 0, a0  # str.splitlines(): Gopher's bullet / ellipsis lines and C4
        for le in range(a0, a1 + 1):
            if le < a1:
                if le < ls or not T[cp[le]] & BREAK:
                    continue
            elif ls == a1:
                break
            nxt = le + 2 if le + 1 < a1 and cp[le] == 13 and cp[le + 1] == 10 else le + 1
            status, flags, s, e = _c4_line(cp, ls, le, T, buf, opts, phrases, plen, edit, citation)
            if s < e and (cp[s] == 0x2022 or cp[s] == 45):
                o[1] += 1
            if s < e and (
                cp[e - 1] == 0x2026
                or (e - s >= 3 and cp[e - 1] == 46 and cp[e - 2] == 46 and cp[e - 3] == 46)
            ):
                o[2] += 1
            if status == 2:
                for v in (d, k, ls, le):
                    judge = _push(judge, nj, v)
                    nj += 1
            else:
                if flags & 1 and o[18] < 0:
                    o[18] = k
                if flags & 2 and o[19] < 0:
                    o[19] = k
            if status == 1:
                o[16] += 1
                if not flags & 4:
                    o[17] += 1
                elif flags & 8:
                    for v in (d, ls, le):
                        cited = _push(cited, nci, v)
                        nci += 1
                else:
                    slines = _push(slines, nsl, d)
                    slines = _push(slines, nsl + 1, nc)
                    codes, nc, spans, nsp = _chunk_codes(cp, s, e, T, codes, nc, spans, nsp)
                    slines = _push(slines, nsl + 2, nc)
                    nsl += 3
            k += 1
            ls = nxt
        o[0] = k
        _splits(cp, a0, a1, T, stop, opts[6], ss, es, hs, fs, fe, fh, o)
    return out, judge[:nj], codes[:nc], slines[:nsl], spans[:nsp], cited[:nci]


@njit(cache=True)
def sentence_kernel(codes, slines, cls, cls_off, n_docs):
    """Sentences of each sentence line (spaCy's sentencizer: a new one at the first word after a
    sentence-final punctuation token), summed per document."""
    add = np.zeros(n_docs, dtype=np.int64)
    for r in range(slines.shape[0] // 3):
        d, a, b = slines[3 * r], slines[3 * r + 1], slines[3 * r + 2]
        count, pending = 1, False
        for q in range(a, b):
            c = codes[q]
            if c == 1:
                if pending:
                    count += 1
                    pending = False
            elif c >= 2:
                for t in range(cls_off[c - 2], cls_off[c - 1]):
                    x = cls[t]
                    if x == 69:  # E
                        pending = True
                    elif x == 87 and pending:  # W
                        count += 1
                        pending = False
        add[d] += count
    return add
