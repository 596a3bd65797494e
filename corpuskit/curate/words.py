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

Speed: a document's chunks repeat (Zipf), so each distinct chunk is split once and cached; the per-word
cost is a dict lookup. Known differences from spaCy, measured on ~10k real documents by
``benchmarks/curate.py`` (token-level agreement is printed there):

* letter classes: spaCy lists Latin/Cyrillic/Greek letters explicitly; we take the cased letters of those
  scripts (``\\p{Ll}``/``\\p{Lu}``), which can differ on rare letters;
* spaCy's "special matcher" (exceptions found *inside* a chunk after affixes, e.g. ``(:)``) is not run;
* the exception table is generated like spaCy's (contractions, abbreviations, emoticons, times) but
  not copied entry for entry, so rare entries may be missing.
"""

from __future__ import annotations

import regex

from corpuskit.curate.word_affixes import INFIX_HINT_RE, INFIX_RE, PREFIX_RE, URL_RE, suffix_len
from corpuskit.curate.word_exceptions import EXCEPTIONS


def _split_chunk(chunk: str) -> tuple[str, ...]:
    """spaCy's affix loop for one whitespace-free chunk."""
    special = EXCEPTIONS
    prefixes: list[str] = []
    suffixes: list[str] = []
    s = chunk
    last = -1
    while s and len(s) != last:
        if s in special:
            break
        last = len(s)
        m = PREFIX_RE.search(s)
        pre = m.end() if m else 0
        if pre:
            minus_pre = s[pre:]
            if minus_pre and minus_pre in special:
                prefixes.append(s[:pre])
                s = minus_pre
                break
        suf = suffix_len(s, pre)
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
_PUNCTUATION_SET = frozenset(PUNCTUATION)

# chunk -> (tokens joined by spaces, symbol tokens, characters in symbol tokens, tokens without a letter)
_CACHE: dict[str, tuple[str, int, int, int]] = {}
_CACHE_MAX = 300_000
# All-letter chunks that are exceptions ("dont", "cannot", "im"): rare, fixed up after the split.
_ALPHA_EXCEPTIONS = {k: v for k, v in EXCEPTIONS.items() if k.isalpha() and v != (k,)}


def _chunk_record(chunk: str) -> tuple[str, int, int, int]:
    toks = _split_chunk(chunk)
    sym = [t for t in toks if all(c in _PUNCTUATION_SET for c in t)]
    nonalpha = sum(1 for t in toks if not any(c.isalpha() for c in t))
    return " ".join(toks), len(sym), sum(map(len, sym)), nonalpha


def _fix_alpha_exceptions(words: list[str]) -> list[str]:
    if _ALPHA_EXCEPTIONS.keys().isdisjoint(words):
        return words
    out: list[str] = []
    for w in words:
        exc = _ALPHA_EXCEPTIONS.get(w)
        if exc is None:
            out.append(w)
        else:
            out.extend(exc)
    return out


def analyse_words(text: str) -> tuple[list[str], int, int, int]:
    """Words of ``text`` (see :func:`split_words`) and, for Gopher, the number of symbol-only words, their
    characters, and the number of words without a letter.

    Chunks of letters only (most of them) are one alphabetic, non-symbol word each and need no work; the
    other chunks are split once (cached) and substituted by their space-joined words, so the word list is
    one ``str.split`` of the rewritten text."""
    cache = _CACHE
    chunks = text.split()
    odd = [c for c in chunks if not c.isalpha()]
    if not odd:
        return _fix_alpha_exceptions(chunks), 0, 0, 0
    if len(cache) + len(odd) > _CACHE_MAX:
        cache.clear()
    recs = list(map(cache.get, odd))
    if None in recs:
        for i in [i for i, r in enumerate(recs) if r is None]:
            recs[i] = cache[odd[i]] = _chunk_record(odd[i])
    words = " ".join([c if c.isalpha() else cache[c][0] for c in chunks]).split()
    _, n_sym, sym_chars, nonalpha = (sum(col) if j else 0 for j, col in enumerate(zip(*recs, strict=True)))
    return _fix_alpha_exceptions(words), n_sym, sym_chars, nonalpha


def chunk_words(chunk: str) -> list[str]:
    """Words of one whitespace-free chunk (cached like :func:`analyse_words`)."""
    if chunk.isalpha():
        return list(_ALPHA_EXCEPTIONS.get(chunk, (chunk,)))
    rec = _CACHE.get(chunk)
    if rec is None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        rec = _CACHE[chunk] = _chunk_record(chunk)
    return rec[0].split(" ")


def split_words(text: str) -> list[str]:
    """Words as datatrove's ``split_into_words(text, "en")`` returns them (spaCy tokens, no whitespace)."""
    return analyse_words(text)[0]


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
