"""Quality signals (Gopher quality, Gopher repetition, C4, FineWeb) as columns, computed once per document.

Each statistic is exactly the quantity datatrove's filter compares with its threshold (``datatrove/pipeline/
filters/{gopher_quality,gopher_repetition,c4,fineweb_quality}_filter.py``, v0.10), so the rules in
:mod:`corpuskit.curate.rules` are cheap comparisons on stored columns and thresholds can change without
recomputing anything. Parameters that shape a statistic itself (the stop-word list, C4's line-level
cleaning switches, FineWeb's short-line length) live in :class:`SignalParams`; changing them recomputes.

Speed, relative to datatrove's per-filter Python loops: words are split once per document and shared by all
filters (:func:`corpuskit.curate.words.analyse_words`, which also returns the symbol/alphabetic word counts);
duplicate counts use ``sum(map(len, ...))`` over sets; n-gram statistics run compiled on integer word ids
(:mod:`corpuskit.curate.ngrams`, which documents its two deliberate approximations).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cache

import numpy as np
import polars as pl
import regex

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
C4_POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)


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


def _c4(lines: list[str], p: SignalParams) -> tuple[int, int, int, int | None, int | None]:
    """C4's line loop (datatrove ``C4QualityFilter.filter``, split_paragraph=True), recording instead of
    deciding: lines, kept lines, sentences of kept lines, and the first line that would trigger the
    document-level lorem-ipsum and curly-bracket rules. Sentences count kept lines as if both document
    rules were off; when either rule is on the document is dropped before the count matters."""
    kept = sentences = 0
    lorem_line = curly_line = None
    max_len = p.c4_max_word_length
    for i, raw in enumerate(lines):
        # the checks before "lorem ipsum" only drop the line, so the cheapest runs first
        line = raw.strip()
        if p.c4_remove_citations and "[" in line:
            line = C4_CITATION_RE.sub("", line)
        if p.c4_filter_no_terminal_punct and (not line.endswith(C4_END_PUNCTUATION) or line.endswith("...")):
            continue
        words = raw.split()  # datatrove splits the stripped line before removing citations: same words
        if len(words) < p.c4_min_words_per_line:
            continue
        if max_len != -1 and len(raw) > max_len and any(len(w) > max_len for w in words):
            continue
        line_l = line.lower()
        phrase = _C4_PHRASES_RE.search(line_l) is not None  # rare: then find out which
        if phrase and lorem_line is None and "lorem ipsum" in line_l:
            lorem_line = i
        if phrase and p.c4_filter_javascript and "javascript" in line_l:
            continue
        if curly_line is None and "{" in line:
            curly_line = i
        if phrase and p.c4_filter_policy and any(s in line_l for s in C4_POLICY_SUBSTRINGS):
            continue
        sentences += _sentences(line)
        kept += 1
    return len(lines), kept, sentences, lorem_line, curly_line


_C4_PHRASES_RE = re.compile("|".join(map(re.escape, ("lorem ipsum", "javascript", *C4_POLICY_SUBSTRINGS))))
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


def _fineweb(text: str, n_words: int, p: SignalParams) -> tuple[float | None, ...]:
    lines = [line for line in text.split("\n") if line and not line.isspace()]  # line.strip() != ""
    if not lines:
        return None, None, None, None
    n = len(lines)
    stop = frozenset(p.fineweb_stop_chars)  # single characters: endswith(any of them) = last one in the set
    punct = sum(1 for line in lines if line[-1] in stop) / n
    short = sum(1 for line in lines if len(line) <= p.fineweb_short_line_length) / n
    denom = len(text) - text.count("\n")
    char_dup = _dup_stats(lines)[1] / denom if denom else None
    list_ratio = text.count("\n") / n_words if n_words else None
    return punct, short, char_dup, list_ratio


def document_signals(text: str, p: SignalParams = SignalParams(), words: list[float] | None = None) -> tuple:
    """All quality signals of one document, in :data:`SIGNAL_SCHEMA` order; ``words`` is its row of
    :func:`corpuskit.curate.word_stats.word_stats` when the caller computed a batch."""
    n_chars = len(text)
    if not text:
        return _EMPTY
    if words is None:
        words = word_stats([text], p.stop_words).tolist()[0]
    n_words, word_chars, n_sym, sym_chars, n_nonalpha, stop = map(int, words[:6])
    n_nonsym = n_words - n_sym
    mean_len = (word_chars - sym_chars) / n_nonsym if n_nonsym else None
    if n_words:
        hash_ratio = text.count("#") / n_words
        ellipsis_ratio = (text.count("...") + text.count("…")) / n_words
        alpha_ratio = (n_words - n_nonalpha) / n_words
    else:
        hash_ratio = ellipsis_ratio = alpha_ratio = None
    lines = text.splitlines()
    if lines:
        bullets = sum(1 for s in lines if s.lstrip().startswith(("•", "-"))) / len(lines)
        end_ell = sum(1 for s in lines if s.rstrip().endswith(("...", "…"))) / len(lines)
    else:
        bullets = end_ell = None

    paragraphs = _PARA_RE.split(text.strip())
    pd, pc = _dup_stats(paragraphs)
    rlines = _LINES_RE.split(text)
    ld, lc = _dup_stats(rlines)

    return (
        n_chars,
        n_words,
        n_nonsym,
        mean_len,
        hash_ratio,
        ellipsis_ratio,
        bullets,
        end_ell,
        alpha_ratio,
        stop,
        pd / len(paragraphs),
        pc / n_chars,
        ld / len(rlines),
        lc / n_chars,
        *[x / n_chars for x in words[6:]],
        *_c4(lines, p),
        *_fineweb(text, n_words, p),
    )


def quality_signals(texts: list[str] | pl.Series, params: SignalParams = SignalParams()) -> pl.DataFrame:
    """Signal columns for a batch of texts (one row per text, same order)."""
    texts = [t or "" for t in texts]
    stats = word_stats(texts, params.stop_words).tolist()
    rows = [document_signals(t, params, w) for t, w in zip(texts, stats, strict=True)]
    return pl.DataFrame(rows, schema=SIGNAL_SCHEMA, orient="row")
