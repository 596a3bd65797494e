"""Word and sentence splitting that reproduces datatrove's English word tokenizer at a fraction of its cost.

datatrove's Gopher, Gopher-repetition and FineWeb filters count words with ``spacy.blank("en")``, and C4
counts sentences with spaCy's ``sentencizer``. spaCy is not a dependency here; this module re-implements
the same *algorithm* (spaCy's ``Tokenizer._split_affixes`` / ``_attach_tokens``): split on whitespace, then
per chunk peel prefixes and suffixes (checking the exception table after each step), keep URLs whole,
split infixes. The rules are written from spaCy's published English rules (``spacy/lang/punctuation.py``,
``spacy/lang/en/punctuation.py`` and ``tokenizer_exceptions.py``, MIT licence) using Unicode properties
instead of spaCy's explicit character tables.
The rule tables live in :mod:`~corpuskit.curate.word_affixes` (prefix/suffix/infix/URL patterns) and
:mod:`~corpuskit.curate.word_exceptions` (the special cases); this module is the splitting algorithm.

Speed: a document's chunks repeat (Zipf), so the curation batch splits each distinct chunk once
(:mod:`~corpuskit.curate.chunk_index` gives every chunk occurrence its id,
:mod:`~corpuskit.curate.word_stats` splits the new ones with :func:`split_chunks`). Known differences
from spaCy, measured on ~10k real documents by ``benchmarks/curate.py`` (token-level agreement is
printed there):

* letter classes: spaCy lists Latin/Cyrillic/Greek letters explicitly; we take the cased letters of those
  scripts (``\\p{Ll}``/``\\p{Lu}``), which can differ on rare letters;
* spaCy's "special matcher" (exceptions found *inside* a chunk after affixes, e.g. ``(:)``) is not run;
* the exception table is generated like spaCy's (contractions, abbreviations, emoticons, times) but
  not copied entry for entry, so rare entries may be missing.
"""

from __future__ import annotations

import regex

from corpuskit.curate.word_affixes import (
    _PUNCT_CHARS,
    _QUOTES,
    INFIX_HINT_RE,
    INFIX_RE,
    PREFIX_RE,
    SUFFIX_RE,
    URL_RE,
    suffix_len,
)
from corpuskit.curate.word_exceptions import EXCEPTIONS

# Single characters that spaCy peels off as a whole suffix after a letter, or as a whole prefix before one
# (every member of the affix tables' character lists that is not itself a letter, a dot or a special case).
_AFFIX_CHARS = frozenset(
    c for c in _PUNCT_CHARS + _QUOTES if not c.isalpha() and EXCEPTIONS.get(c, (c,)) == (c,)
)
_DIGITS = frozenset("0123456789")
_POSSESSIVE = frozenset(("'s", "'S", "’s", "’S"))


def _regex_prefix_len(s: str) -> int:
    m = PREFIX_RE.search(s)
    return m.end() if m else 0


def _prefix_len(s: str) -> int:
    """Length of spaCy's prefix match at the start of ``s``, without the regex for the common first
    characters: an affix character is a one-character prefix, a letter or digit none unless ``s`` starts with
    a currency prefix (no other prefix pattern starts with one; ``tests/curate/test_words.py`` checks every
    code point and every distinct chunk of the benchmark corpus)."""
    c = s[0]
    if c in _AFFIX_CHARS:
        return 1
    if c.isalnum() and not s.startswith(("US$", "C$", "A$")):
        return 0
    return _regex_prefix_len(s)


def _suffix_len(s: str, pre: int) -> int:
    """:func:`~corpuskit.curate.word_affixes.suffix_len` without the regex for the common last characters:
    an affix character is a one-character suffix; an ASCII digit none; a letter none unless it ends a
    possessive ``'s`` or a unit after a digit (checked like :func:`_prefix_len`)."""
    if len(s) > pre:
        c = s[-1]
        if c in _AFFIX_CHARS:
            return 1
        if c in _DIGITS or (c.isalpha() and s[-2:] not in _POSSESSIVE and _DIGITS.isdisjoint(s[-6:])):
            return 0
    return suffix_len(s, pre)


def _split_chunk(chunk: str, pre_len=_prefix_len, suf_len=_suffix_len) -> tuple[str, ...]:
    """spaCy's affix loop for one whitespace-free chunk (the affix functions are parameters so that the tests
    can run the loop on the plain regular expressions too)."""
    special = EXCEPTIONS
    prefixes: list[str] = []
    suffixes: list[str] = []
    s = chunk
    last = -1
    while s and len(s) != last:
        if s in special:
            break
        last = len(s)
        pre = pre_len(s)
        if pre:
            minus_pre = s[pre:]
            if minus_pre and minus_pre in special:
                prefixes.append(s[:pre])
                s = minus_pre
                break
        suf = suf_len(s, pre)
        if suf:
            minus_suf = s[:-suf]
            if minus_suf and minus_suf in special:
                suffixes.append(s[-suf:])
                s = minus_suf
                break
        if pre and suf and pre + suf <= len(s):
            prefixes.append(s[:pre])
            suffixes.append(s[-suf:])
            s = s[pre:-suf]
        elif pre:
            prefixes.append(s[:pre])
            s = s[pre:]
        elif suf:
            suffixes.append(s[-suf:])
            s = s[:-suf]
        if s in special:
            break
    out: list[str] = []
    for p in prefixes:
        out.extend(special.get(p, (p,)))
    if s:
        if s in special:
            out.extend(special[s])
        elif "." in s and URL_RE.match(s):
            out.append(s)
        elif not INFIX_HINT_RE.search(s):
            out.append(s)
        else:
            start = 0
            for m in INFIX_RE.finditer(s):
                a, b = m.start(), m.end()
                if a == 0:  # spaCy ignores an infix at the very start
                    continue
                if a != start:
                    out.append(s[start:a])
                if a != b:
                    out.append(s[a:b])
                start = b
            if start < len(s):
                out.append(s[start:])
    for p in reversed(suffixes):
        out.extend(special.get(p, (p,)))
    return tuple(out)


# datatrove/utils/text.py PUNCTUATION: a word made only of these is a "symbol" for Gopher (copied verbatim,
# including datatrove's odd members such as the full-width digit one and "━", "►").
PUNCTUATION = (
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
    "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
    "\x1b\x1c\x1d\x1e\x1f\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92"
    "\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f"
)


def _fast_split(chunk: str) -> tuple[str, ...] | None:
    """The common chunk shapes ``word,`` ``word.`` ``(word`` ``(word)`` (letters plus one affix character
    at either end, no special case involved) without the affix loop; None for any other chunk. Gives what
    :func:`_split_chunk` gives (``tests/curate/test_words.py`` checks both on every shape)."""
    special = EXCEPTIONS
    if chunk in special or len(chunk) < 2:
        return None
    first, last = chunk[0], chunk[-1]
    if first in _AFFIX_CHARS:
        core = chunk[1:]
        if core.isalpha():
            return None if core in special else (first, core)
        if last in _AFFIX_CHARS and len(chunk) > 2:
            core = chunk[1:-1]
            if (
                core.isalpha()
                and core not in special
                and core + last not in special
                and first + core not in special
            ):
                return first, core, last
        return None
    core = chunk[:-1]
    if not core.isalpha() or core in special:
        return None
    if last in _AFFIX_CHARS or (last == "." and SUFFIX_RE.match(chunk, len(chunk) - 1)):
        return core, last
    return None


def chunk_split(chunk: str) -> tuple[str, ...]:
    """Words of one whitespace-free chunk (uncached)."""
    if chunk.isalpha():
        return _ALPHA_EXCEPTIONS.get(chunk, (chunk,))
    toks = _fast_split(chunk) or _split_chunk(chunk)
    if not _ALPHA_EXCEPTIONS.keys().isdisjoint(toks):  # e.g. "dont" as an infix piece of "dont-care"
        toks = tuple(w for t in toks for w in _ALPHA_EXCEPTIONS.get(t, (t,)))
    return toks


def split_chunks(chunks: list[str]) -> list[tuple[str, ...]]:
    """:func:`chunk_split` of each chunk (none of them a plain all-letter word), ~15% cheaper for a batch."""
    get = _ALPHA_EXCEPTIONS.get
    toks = [get(c) or _fast_split(c) or _split_chunk(c) for c in chunks]
    keys = _ALPHA_EXCEPTIONS.keys()
    for i in [i for i, t in enumerate(toks) if not keys.isdisjoint(t)]:  # rare: redo those one by one
        toks[i] = chunk_split(chunks[i])
    return toks


def word_kind(word: str) -> int:
    """For Gopher: 1 if ``word`` is made only of :data:`PUNCTUATION` (a symbol), plus 2 if it has no
    letter."""
    if word.isalpha():
        return 0
    return (not word.strip(PUNCTUATION)) + 2 * (not any(c.isalpha() for c in word))


# All-letter chunks that are exceptions ("dont", "cannot", "im"): split like any other special case.
_ALPHA_EXCEPTIONS = {k: v for k, v in EXCEPTIONS.items() if k.isalpha() and v != (k,)}


def analyse_words(text: str) -> tuple[list[str], int, int, int]:
    """Words of ``text`` (see :func:`split_words`) and, for Gopher, the number of symbol-only words, their
    characters, and the number of words without a letter: the plain definition, which the batch kernel
    of :mod:`corpuskit.curate.word_stats` (each distinct chunk split once, counted compiled) is tested
    against."""
    words = split_words(text)
    kinds = list(map(word_kind, words))
    sym_chars = sum(len(w) for w, k in zip(words, kinds, strict=True) if k & 1)
    return words, sum(k & 1 for k in kinds), sym_chars, sum(k >> 1 for k in kinds)


def split_words(text: str) -> list[str]:
    """Words as datatrove's ``split_into_words(text, "en")`` returns them (spaCy tokens, no whitespace)."""
    return [w for chunk in text.split() for w in chunk_split(chunk)]


# spaCy's Sentencizer.default_punct_chars: a sentence ends after one of these tokens.
SENT_PUNCT = frozenset(
    "!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？"
    "𐩖𐩗𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈｡。"
)
_PUNCT_TOKEN_RE = regex.compile(r"\p{P}+")


def count_sentences(tokens: list[str]) -> int:
    """Sentences spaCy's sentencizer finds in a token list: a new one starts at the first non-punctuation
    token after a sentence-final punctuation token (``spacy/pipeline/sentencizer.pyx``)."""
    if not tokens:
        return 0
    n, seen = 1, False
    for t in tokens:
        if t in SENT_PUNCT:
            seen = True
        elif seen and not _PUNCT_TOKEN_RE.fullmatch(t):
            n += 1
            seen = False
    return n
