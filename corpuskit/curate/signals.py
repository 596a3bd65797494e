"""Quality signals (Gopher quality, Gopher repetition, C4, FineWeb) as columns, computed once per document.

Each statistic is exactly the quantity datatrove's filter compares with its threshold (``datatrove/pipeline/
filters/{gopher_quality,gopher_repetition,c4,fineweb_quality}_filter.py``, v0.10), so the rules in
:mod:`corpuskit.curate.rules` are cheap comparisons on stored columns and thresholds can change without
recomputing anything. Parameters that shape a statistic itself (the stop-word list, C4's line-level
cleaning switches, FineWeb's short-line length) live in :class:`SignalParams`; changing them recomputes.

Speed, relative to datatrove's per-filter Python loops: words are split once per document and shared by all
filters (:mod:`corpuskit.curate.word_stats`, which also returns the symbol/alphabetic word counts); n-gram
statistics run compiled on integer word ids (:mod:`corpuskit.curate.ngrams`, which documents its two
deliberate approximations); every line-level statistic (Gopher's lines and duplicates, C4's line loop,
FineWeb) comes from one compiled pass over the batch's code points (:mod:`corpuskit.curate.line_stats`),
and the frame is built from columns. The Python functions here (:func:`c4_line`, :func:`_sentences`) are
the definitions, used by the kernel for the rare lines it hands back.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cache

import numpy as np
import polars as pl
import regex

from corpuskit.curate import line_stats, line_tables
from corpuskit.curate.ngrams import DUP_NGRAMS, TOP_NGRAMS
from corpuskit.curate.word_stats import chunk_words, word_stats
from corpuskit.curate.words import SENT_PUNCT

# datatrove/utils/text.py TERMINAL_PUNCTUATION: FineWeb's default stop_chars (copied verbatim).
TERMINAL_PUNCTUATION = (
    "!.?։؝؞؟۔܀܁܂߹࠷࠹࠽࠾।॥၊။።፧፨᙮᜵᜶។៕៖៙៚᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᭽᭾᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼⹓⹔。꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？｡"
    "𐩖𐩗𐽕𐽖𐽗𐽘𐽙𐾆𐾇𐾈𐾉𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑥄𑥆𑩂𑩃𑪛𑪜𑱁𑱂𑻷𑻸\U00011f43\U00011f44"
    "𖩮𖩯𖫵𖬷𖬸𖭄𖺘𛲟𝪈"
)
# Gopher's stop words (datatrove gopher_quality_filter.STOP_WORDS, from Rae et al. 2021, sec. A.1.1).
GOPHER_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
# C4 (datatrove c4_filters.py, from the TFDS c4_utils reference implementation).
C4_CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
C4_END_PUNCTUATION = (".", "?", "!", '"', "'")
C4_POLICY_SUBSTRINGS = line_tables.C4_POLICY_SUBSTRINGS


@dataclass(frozen=True)
class SignalParams:
    """Parameters that change what a signal *is* (not thresholds): changing them recomputes the signals."""

    stop_words: tuple[str, ...] = GOPHER_STOP_WORDS
    c4_remove_citations: bool = True  # datatrove C4QualityFilter defaults
    c4_filter_no_terminal_punct: bool = True
    c4_min_words_per_line: int = 3
    c4_max_word_length: int = 1000
    c4_filter_javascript: bool = True
    c4_filter_policy: bool = True
    fineweb_short_line_length: int = 30  # datatrove FineWebQualityFilter.short_line_length
    fineweb_stop_chars: str = field(default=TERMINAL_PUNCTUATION)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stop_words"] = list(self.stop_words)
        return d


# name -> dtype of every quality signal column, in output order
SIGNAL_SCHEMA: dict[str, pl.DataType] = {
    "n_chars": pl.Int64(),
    "gopher_words": pl.Int64(),
    "gopher_nonsymbol_words": pl.Int64(),
    "gopher_mean_word_length": pl.Float64(),
    "gopher_hash_ratio": pl.Float64(),
    "gopher_ellipsis_ratio": pl.Float64(),
    "gopher_bullet_lines_ratio": pl.Float64(),
    "gopher_end_ellipsis_lines_ratio": pl.Float64(),
    "gopher_alpha_words_ratio": pl.Float64(),
    "gopher_stop_words": pl.Int64(),
    "gopher_dup_para_frac": pl.Float64(),
    "gopher_dup_para_char_frac": pl.Float64(),
    "gopher_dup_line_frac": pl.Float64(),
    "gopher_dup_line_char_frac": pl.Float64(),
    **{f"gopher_top_{n}gram_frac": pl.Float64() for n in TOP_NGRAMS},
    **{f"gopher_dup_{n}gram_frac": pl.Float64() for n in DUP_NGRAMS},
    "c4_lines": pl.Int64(),
    "c4_kept_lines": pl.Int64(),
    "c4_sentences": pl.Int64(),
    "c4_lorem_line": pl.Int64(),
    "c4_curly_line": pl.Int64(),
    "fineweb_line_punct_ratio": pl.Float64(),
    "fineweb_short_line_ratio": pl.Float64(),
    "fineweb_char_dup_ratio": pl.Float64(),
    "fineweb_list_ratio": pl.Float64(),
}

_PARA_RE = re.compile(r"\n{2,}")
_LINES_RE = re.compile("\n+")
# an empty text: no words, no lines; ratios undefined (datatrove drops it as "empty" before any ratio)
_EMPTY_ROW = {**dict.fromkeys(SIGNAL_SCHEMA), "n_chars": 0, "gopher_words": 0, "gopher_nonsymbol_words": 0}
_EMPTY_ROW.update(gopher_stop_words=0, c4_lines=0, c4_kept_lines=0, c4_sentences=0)
_EMPTY = tuple(_EMPTY_ROW.values())


def _dup_stats(items: list[str]) -> tuple[int, int]:
    """(duplicate elements, their characters) as datatrove's ``find_duplicates``: repeats after the first."""
    uniq = set(items)
    return len(items) - len(uniq), sum(map(len, items)) - sum(map(len, uniq))


def c4_line(raw: str, p: SignalParams) -> tuple[int, int, bool, bool]:
    """One line of C4's loop (datatrove ``C4QualityFilter.filter``, split_paragraph=True), recording
    instead of deciding: (kept, its sentences, triggers the lorem-ipsum rule, triggers the curly-bracket
    rule). Sentences count as if both document rules were off; when either is on the document is dropped
    before the count matters. :func:`corpuskit.curate.line_stats.line_kernel` does the same compiled for
    all lines and hands back the rare ones it cannot decide."""
    line = raw.strip()
    if p.c4_remove_citations and "[" in line:
        line = C4_CITATION_RE.sub("", line)
    if p.c4_filter_no_terminal_punct and (not line.endswith(C4_END_PUNCTUATION) or line.endswith("...")):
        return 0, 0, False, False
    words = raw.split()  # datatrove splits the stripped line before removing citations: same words
    max_len = p.c4_max_word_length
    if len(words) < p.c4_min_words_per_line:
        return 0, 0, False, False
    if max_len != -1 and len(raw) > max_len and any(len(w) > max_len for w in words):
        return 0, 0, False, False
    line_l = line.lower()
    lorem = "lorem ipsum" in line_l
    if p.c4_filter_javascript and "javascript" in line_l:
        return 0, 0, lorem, False
    curly = "{" in line
    if p.c4_filter_policy and any(s in line_l for s in C4_POLICY_SUBSTRINGS):
        return 0, 0, lorem, curly
    return 1, _sentences(line), lorem, curly


_SENT_BREAK_RE = re.compile("E[EP]*W")
_PUNCT_ONLY_RE = regex.compile(r"\p{P}+")
_SENT_CHAR_RE = re.compile("[" + re.escape("".join(sorted(SENT_PUNCT))) + "]")


@cache
def _punct_or_space() -> str:
    r"""Every character of ``[\p{P}\s]`` (for ``str.rstrip``), one regex pass over all code points."""
    cps = np.arange(0x110000, dtype=np.uint32)
    cps = cps[(cps < 0xD800) | (cps > 0xDFFF)]
    return "".join(regex.findall(r"[\p{P}\s]", cps.tobytes().decode("utf-32-le")))


def _token_class(t: str) -> str:
    if t.isalpha():
        return "W"
    if t in SENT_PUNCT:
        return "E"
    return "P" if _PUNCT_ONLY_RE.fullmatch(t) else "W"


class _SentClasses(dict):
    """chunk -> the sentence class of each of its words: E = sentence-final punctuation, P = other
    punctuation, W = word (filled on a miss)."""

    def __missing__(self, chunk: str) -> str:
        if len(self) > 500_000:
            self.clear()
        c = self[chunk] = "".join(_token_class(t) for t in chunk_words(chunk))
        return c


_SENT_CLASSES = _SentClasses()


def _sentences(line: str) -> int:
    """Sentences spaCy's sentencizer finds in one line (see :func:`corpuskit.curate.words.count_sentences`),
    via cached per-chunk word classes (:class:`_SentClasses`)."""
    if not _SENT_CHAR_RE.search(line.rstrip(_punct_or_space())):
        return 1  # sentence-final punctuation only in the closing punctuation run: one sentence
    classes = "".join(map(_SENT_CLASSES.__getitem__, line.split()))
    return (1 + len(_SENT_BREAK_RE.findall(classes))) if classes else 0


def _py_dups(text: str) -> tuple[int, int, int, int, int]:
    """Duplicate paragraphs, lines and FineWeb line characters in Python (the kernel's hash collided)."""
    pd, pc = _dup_stats(_PARA_RE.split(text.strip()))
    ld, lc = _dup_stats(_LINES_RE.split(text))
    fw_lines = [line for line in text.split("\n") if line and not line.isspace()]  # line.strip() != ""
    return pd, pc, ld, lc, _dup_stats(fw_lines)[1]


_BATCH_CHARS = 4_000_000  # code points per kernel call (UTF-32: 16 MB)
_COL = {name: i for i, name in enumerate(line_tables.COLS)}


def _line_rows(texts: list[str], p: SignalParams) -> np.ndarray:
    """:func:`corpuskit.curate.line_stats.line_kernel`'s rows for a batch, with the lines and documents it
    left to Python folded in."""
    table = line_tables.char_table(_punct_or_space(), SENT_PUNCT)
    stop = line_tables.stop_table(p.fineweb_stop_chars)
    opts = np.array(
        [
            p.c4_remove_citations,
            p.c4_filter_no_terminal_punct,
            p.c4_min_words_per_line,
            p.c4_max_word_length,
            p.c4_filter_javascript,
            p.c4_filter_policy,
            p.fineweb_short_line_length,
        ],
        dtype=np.int64,
    )
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    rows, i = [], 0
    while i < len(texts) or not rows:
        j = i + max(1, int(np.searchsorted(np.cumsum(lens[i:]), _BATCH_CHARS)))
        rows.append(_line_batch(texts[i:j], lens[i:j], p, table, stop, opts))
        i = j
    return np.concatenate(rows)


def _line_batch(texts, lens, p, table, stop, opts) -> np.ndarray:
    big = "".join(texts)
    cp = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.cumsum(lens)
    lt = line_tables
    out, judge, codes, slines, spans, cited = line_stats.line_kernel(
        cp, ends - lens, ends, table, stop, opts, lt._PHRASES, lt._PHRASE_LEN, lt._EDIT, lt._CITATION
    )
    sents, kept, lorem, curly = (_COL[c] for c in ("c4_sentences", "c4_kept", "c4_lorem", "c4_curly"))
    if slines.size:  # word classes of the chunks holding sentence-final punctuation
        classes = list(map(_SENT_CLASSES.__getitem__, [big[a:b] for a, b in spans.reshape(-1, 2).tolist()]))
        cls = np.frombuffer("".join(classes).encode("ascii"), dtype=np.uint8)
        off = np.zeros(len(classes) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, classes), dtype=np.int64, count=len(classes)), out=off[1:])
        out[:, sents] += line_stats.sentence_kernel(codes, slines, cls, off, len(texts))
    for d, a, b in cited.reshape(-1, 3).tolist():
        out[d, sents] += _sentences(C4_CITATION_RE.sub("", big[a:b].strip()))
    for d, k, a, b in judge.reshape(-1, 4).tolist():
        row = out[d]
        n_kept, n_sents, is_lorem, is_curly = c4_line(big[a:b], p)
        row[kept] += n_kept
        row[sents] += n_sents
        if is_lorem and not 0 <= row[lorem] < k:
            row[lorem] = k
        if is_curly and not 0 <= row[curly] < k:
            row[curly] = k
    for d in np.flatnonzero(out[:, _COL["collision"]]).tolist():
        cols = ("para_dup", "para_dup_chars", "rline_dup", "rline_dup_chars", "fw_dup_chars")
        out[d, [_COL[c] for c in cols]] = _py_dups(texts[d])
    return out


def _ratio(num: np.ndarray, den: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """num / den where ok, NaN (-> null) elsewhere; float64 division = Python's int / int here."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, num / np.where(ok, den, 1), np.nan)


def quality_signals(texts: list[str] | pl.Series, params: SignalParams = SignalParams()) -> pl.DataFrame:
    """Signal columns for a batch of texts (one row per text, same order); an empty text has no ratios
    (datatrove drops it as "empty" before any)."""
    texts = [t or "" for t in texts]
    w = word_stats(texts, params.stop_words)
    ln = _line_rows(texts, params)
    L = {name: ln[:, i] for i, name in enumerate(line_tables.COLS)}
    n_chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    some = n_chars > 0
    n_words, word_chars, n_sym, sym_chars, n_nonalpha, stop = (w[:, i].astype(np.int64) for i in range(6))
    n_nonsym = n_words - n_sym
    has_words, fw = some & (n_words > 0), some & (L["fw_lines"] > 0)
    denom = n_chars - L["newlines"]
    ints = {"n_chars": n_chars, "gopher_words": n_words, "gopher_nonsymbol_words": n_nonsym}
    cols = {
        **ints,
        "gopher_mean_word_length": _ratio(word_chars - sym_chars, n_nonsym, some & (n_nonsym > 0)),
        "gopher_hash_ratio": _ratio(L["hashes"], n_words, has_words),
        "gopher_ellipsis_ratio": _ratio(L["ellipses"], n_words, has_words),
        "gopher_bullet_lines_ratio": _ratio(L["bullets"], L["lines"], some & (L["lines"] > 0)),
        "gopher_end_ellipsis_lines_ratio": _ratio(L["end_ellipsis"], L["lines"], some & (L["lines"] > 0)),
        "gopher_alpha_words_ratio": _ratio(n_words - n_nonalpha, n_words, has_words),
        "gopher_stop_words": np.where(some, stop, 0),
        "gopher_dup_para_frac": _ratio(L["para_dup"], L["paragraphs"], some),
        "gopher_dup_para_char_frac": _ratio(L["para_dup_chars"], n_chars, some),
        "gopher_dup_line_frac": _ratio(L["rline_dup"], L["rlines"], some),
        "gopher_dup_line_char_frac": _ratio(L["rline_dup_chars"], n_chars, some),
    }
    ngrams = [c for c in SIGNAL_SCHEMA if c.startswith("gopher_") and c.endswith("gram_frac")]
    cols.update({c: _ratio(w[:, 6 + i], n_chars, some) for i, c in enumerate(ngrams)})
    cols.update(
        c4_lines=L["lines"],
        c4_kept_lines=L["c4_kept"],
        c4_sentences=L["c4_sentences"],
        c4_lorem_line=L["c4_lorem"],
        c4_curly_line=L["c4_curly"],
        fineweb_line_punct_ratio=_ratio(L["fw_punct"], L["fw_lines"], fw),
        fineweb_short_line_ratio=_ratio(L["fw_short"], L["fw_lines"], fw),
        fineweb_char_dup_ratio=_ratio(L["fw_dup_chars"], denom, fw & (denom > 0)),
        fineweb_list_ratio=_ratio(L["newlines"], n_words, fw & (n_words > 0)),
    )
    frame = pl.DataFrame({c: pl.Series(c, cols[c], dtype=SIGNAL_SCHEMA[c]) for c in SIGNAL_SCHEMA})
    floats = [c for c, t in SIGNAL_SCHEMA.items() if t == pl.Float64()]
    return frame.with_columns(
        pl.col(floats).fill_nan(None),
        *(pl.when(pl.col(c) >= 0).then(pl.col(c)).alias(c) for c in ("c4_lorem_line", "c4_curly_line")),
    )
