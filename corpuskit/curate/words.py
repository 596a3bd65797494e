"""Word and sentence splitting that reproduces datatrove's English word tokenizer at a fraction of its cost.

datatrove's Gopher, Gopher-repetition and FineWeb filters count words with ``spacy.blank("en")``, and C4
counts sentences with spaCy's ``sentencizer``. spaCy is not a dependency here; this module re-implements
the same *algorithm* (spaCy's ``Tokenizer._split_affixes`` / ``_attach_tokens``): split on whitespace, then
per chunk peel prefixes and suffixes (checking the exception table after each step), keep URLs whole,
split infixes. The rules are written from spaCy's published English rules (``spacy/lang/punctuation.py``,
``spacy/lang/en/punctuation.py`` and ``tokenizer_exceptions.py``, MIT licence) using Unicode properties
instead of spaCy's explicit character tables.

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

# ---------------------------------------------------------------------------------------------- classes

_QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧"
_PUNCT_CHARS = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪"
_CURRENCY = "$£€¥฿₽﷼₴₠₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₵₶₷₸₹₺₻₼₾₿"
_ICONS = r"[\p{So}--[°]]"
_UNITS = (
    "km|km²|km³|m|m²|m³|dm|dm²|dm³|cm|cm²|cm³|mm|mm²|mm³|ha|µm|nm|yd|in|ft|kg|g|mg|µg|t|lb|oz|m/s|km/h|kmh"
    "|mph|hPa|Pa|mbar|mb|MB|kb|KB|gb|GB|tb|TB|T|G|M|K|%|км|км²|км³|м|м²|м³|дм|дм²|дм³|см|см²|см³|мм|мм²"
    "|мм³|нм|кг|г|мг|м/с|км/ч|кПа|Па|мбар|Кб|КБ|кб|Мб|МБ|мб|Гб|ГБ|гб|Тб|ТБ|тб"
)
# spaCy's letter classes (``spacy/lang/char_classes.py``): cased letters of the Latin, Cyrillic and Greek
# scripts, plus whole blocks of uncased scripts that count as both lower and upper case (Ethiopic, Bengali,
# Hebrew, Arabic, Sinhala, Devanagari, Kannada, Tamil, Telugu, Hangul, kana, CJK). Scripts outside the list
# (Gujarati, Thai, Georgian, ...) are not letters to spaCy's affix rules, so "છે." keeps its period.
_CASED = r"[\p{Latin}\p{Cyrillic}\p{Greek}]"
_UNCASED = (
    "\u1200-\u137f\u0980-\u09ff\u0591-\u05f4\ufb1d-\ufb4f\u0620-\u064a\u066e-\u06d5\u06e5-\u06ff"
    "\u0750-\u077f\u08a0-\u08bd\ufb50-\ufbb1\ufbd3-\ufd3d\ufd50-\ufdc7\ufdf0-\ufdfb\ufe70-\ufefc"
    "\U0001ee00-\U0001eebb\u0d80-\u0dff\u0900-\u097f\u0c80-\u0cff\u0b80-\u0bff\u0c00-\u0c7f\uac00-\ud7af"
    "\u1100-\u11ff\u3040-\u309f\u30a0-\u30ff\u30fc\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002ebef"
    "\u2e80-\u2eff\u2f00-\u2fdf\u2ff0-\u2fff\u3000-\u303f\u31c0-\u31ef\u3200-\u33ff\uf900-\ufaff"
    "\ufe30-\ufe4f\U0001f200-\U0001f2ff\U0002f800-\U0002fa1f"
)
_ALPHA = rf"[\p{{L}}&&{_CASED}]{_UNCASED}"
_LOWER = rf"[\p{{Ll}}&&{_CASED}]{_UNCASED}"
_UPPER = rf"[\p{{Lu}}&&{_CASED}]{_UNCASED}"
_HYPHENS = "-|–|—|--|---|——|~"


def _alt(chars: str) -> str:
    return "|".join(regex.escape(c) for c in chars)


# spaCy TOKENIZER_PREFIXES: the first alternative that matches at the start wins.
_PREFIX_RE = regex.compile(
    "^(?:"
    + "|".join(
        ["§", "%", "=", "—", "–", r"\+(?![0-9])", _alt(_PUNCT_CHARS), r"\.\.+", _alt(_QUOTES)]
        + [r"US\$", r"C\$", r"A\$", _alt(_CURRENCY), _ICONS]
    )
    + ")",
    regex.V1,
)
# spaCy TOKENIZER_SUFFIXES: searched, so the leftmost match reaching the end wins (``word...`` -> ``...``).
_SUFFIX_RE = regex.compile(
    "(?:"
    + "|".join(
        [_alt(_PUNCT_CHARS), r"\.\.+", "…", _alt(_QUOTES), _ICONS, "'s", "'S", "’s", "’S", "—", "–"]
        + [
            r"(?<=[0-9])\+",
            r"(?<=°[FfCcKk])\.",
            rf"(?<=[0-9])(?:{_alt(_CURRENCY)})",
            rf"(?<=[0-9])(?:{_UNITS})",
            rf"(?<=[0-9{_LOWER}%²\-\+{regex.escape(_PUNCT_CHARS + _QUOTES)}|(?:)])\.",
            rf"(?<=[{_UPPER}][{_UPPER}])\.",
        ]
    )
    + ")$",
    regex.V1,
)
# spaCy English TOKENIZER_INFIXES.
_INFIX_RE = regex.compile(
    "|".join(
        [
            r"\.\.+",
            "…",
            _ICONS,
            r"(?<=[0-9])[+\-\*^](?=[0-9-])",
            rf"(?<=[{_LOWER}{regex.escape(_QUOTES)}])\.(?=[{_UPPER}{regex.escape(_QUOTES)}])",
            rf"(?<=[{_ALPHA}]),(?=[{_ALPHA}])",
            rf"(?<=[{_ALPHA}0-9])(?:{_HYPHENS})(?=[{_ALPHA}])",
            rf"(?<=[{_ALPHA}0-9])[:<>=/](?=[{_ALPHA}])",
        ]
    ),
    regex.V1,
)
# spaCy's URL_MATCH, simplified: optional scheme, optional user@, dotted host with a lower-case TLD.
_URL_RE = regex.compile(
    r"^(?:[\w\+\-\.]{2,}://)?(?:\S+(?::\S*)?@)?"
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?"
    r"[A-Za-z0-9\u00a1-\uffff]\.)+[\p{Ll}\p{Lo}\u00a1-\u00ff]{2,63})(?::\d{2,5})?(?:[/?#]\S*)?$"
)


# Every infix contains one of these characters (or an icon); most chunks have none, so skip the search.
_INFIX_HINT_RE = regex.compile(r"[.…,:<>=/+\-*^–—~\p{So}]")
_SUFFIX_WINDOW = 8  # longer than any suffix except a run of dots, which is extended below


def _suffix_len(s: str, pre: int) -> int:
    """Length of spaCy's suffix match at the end of ``s[pre:]`` (leftmost match that reaches the end)."""
    start = max(pre, len(s) - _SUFFIX_WINDOW)
    m = _SUFFIX_RE.search(s, start)
    if not m:
        return 0
    a = m.start()
    if a == start and s[a] == "." and s.endswith(".."):  # a dot run may begin before the window
        while a > pre and s[a - 1] == ".":
            a -= 1
    return len(s) - a


# ---------------------------------------------------------------------------------------------- exceptions


def _exceptions() -> dict[str, tuple[str, ...]]:
    """The English special cases, generated the way spaCy's ``en/tokenizer_exceptions.py`` generates them."""
    exc: dict[str, tuple[str, ...]] = {}

    def add(orth: str, *parts: str) -> None:
        exc[orth] = parts or (orth,)

    def cap(w: str) -> str:
        return w[:1].upper() + w[1:]

    apos = ("'", "’")
    # pronoun + verb clitics: "I'm", "we're", "it'll", also without the apostrophe ("im", "youre")
    excluded = {"Ill", "ill", "Its", "its", "Hell", "hell", "Shell", "shell", "Shed", "shed", "were", "Were"}
    excluded |= {"Well", "well", "Whore", "whore"}
    clitics = {
        "i": ["m", "ma", "ll", "ll've", "d", "d've", "ve"],
        "you": ["ll", "ll've", "d", "d've", "ve", "re"],
        "he": ["ll", "ll've", "d", "d've", "s"],
        "she": ["ll", "ll've", "d", "d've", "s"],
        "it": ["ll", "ll've", "d", "d've", "s"],
        "we": ["ll", "ll've", "d", "d've", "ve", "re"],
        "they": ["ll", "ll've", "d", "d've", "ve", "re"],
    }
    for w in ["who", "what", "when", "where", "why", "how", "there", "that", "this", "these", "those"]:
        clitics[w] = ["s", "ll", "ll've", "re", "ve", "d", "d've"]
    for word, tails in clitics.items():
        for orth in {word, cap(word), word.upper() if word == "i" else word}:
            for tail in tails:
                pieces = tail.split("'")  # "ll've" -> ["ll", "ve"]
                for a in apos:
                    add(orth + a + a.join(pieces), orth, *[a + p for p in pieces])
                bare = orth + "".join(pieces)
                if bare not in excluded and tail != "ma":
                    add(bare, orth, *pieces)
                if tail == "ma":
                    for a in apos:
                        add(orth + a + "ma", orth, a + "m", "a")
                    add(orth + "ma", orth, "m", "a")
    # verb + n't: "don't", "can't" -> ca|n't, "dont"
    neg = [
        "ca",
        "could",
        "do",
        "does",
        "did",
        "had",
        "may",
        "might",
        "must",
        "need",
        "ought",
        "sha",
        "should",
    ]
    neg += ["wo", "would", "ai", "are", "is", "was", "were", "have", "has", "dare"]
    for verb in neg:
        for orth in (verb, cap(verb)):
            for a in apos:
                add(f"{orth}n{a}t", orth, f"n{a}t")
                add(f"{orth}n{a}t{a}ve", orth, f"n{a}t", f"{a}ve")
            add(f"{orth}nt", orth, "nt")
            add(f"{orth}ntve", orth, "nt", "ve")
    for verb in ["could", "might", "must", "should", "would"]:
        for orth in (verb, cap(verb)):
            for a in apos:
                add(f"{orth}{a}ve", orth, f"{a}ve")
            add(f"{orth}ve", orth, "ve")
    for orth in ("cannot", "Cannot"):
        add(orth, orth[:3], "not")
    for orth, parts in [("gonna", ("gon", "na")), ("gotta", ("got", "ta")), ("notve", ("not", "ve"))]:
        add(orth, *parts)
        add(cap(orth), cap(parts[0]), *parts[1:])
    for a in apos:
        for orth in ("let", "Let"):
            add(f"{orth}{a}s", orth, f"{a}s")
        add(f"y{a}all", f"y{a}", "all")
        add(f"Y{a}all", f"Y{a}", "all")
        for w in ["cause", "cos", "coz", "cuz", "bout", "em", "nuff", "ll", "re", "s", "S", "d"]:
            add(a + w)
            add(a + cap(w))
        for w in ["doin", "goin", "havin", "lovin", "nothin", "nuthin", "somethin", "ol"]:
            add(w + a)
            add(cap(w) + a)
        add(f"ma{a}am")
        add(f"Ma{a}am")
        add(f"o{a}clock")
        add(f"O{a}clock")
    add("yall", "y", "all")
    for w in ["doin", "goin", "havin", "lovin", "nothin", "nuthin", "somethin", "ol", "em", "ll", "nuff"]:
        add(w)
        add(cap(w))
    for h in range(1, 13):
        for p in ["a.m.", "am", "p.m.", "pm"]:
            add(f"{h}{p}", str(h), p)
    for orth in (
        "'d a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc. Jr. Ltd. Md."
        " Messrs. Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s. Mt. Ak. Ala. Apr. Ariz."
        " Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. Jun. Kan. Kans."
        " Ky. La. Mar. Mass. May. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. Oct."
        " Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis. and/or w/o C++ ' '' ’ ’’ — ‘s ‘S"
    ).split():
        add(orth)
    for c in "abcdefghijklmnopqrstuvwxyzäöü":
        add(c + ".")
    emoticons = (
        ":) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; (-;"
        " :( :-( :(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :’) :’-) :’( :’-( :/ :-/ =/ =| :| :-|"
        " ]= =[ :1 :P :-P :p :-p :O :-O :o :-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D"
        " ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o"
        " o_O O_o O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<)"
        " (*_*) (¬_¬) ಠ_ಠ ಠ︵ಠ (ಠ_ಠ) ¯\\(ツ)/¯ (╯°□°）╯︵┻━┻ ><(((*>"
    )
    for e in emoticons.split():
        add(e)
    for c in "CFKcfk":
        add(f"°{c}.", "°", c, ".")
    return exc


EXCEPTIONS = _exceptions()


# ---------------------------------------------------------------------------------------------- splitting


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
        m = _PREFIX_RE.search(s)
        pre = m.end() if m else 0
        if pre:
            minus_pre = s[pre:]
            if minus_pre and minus_pre in special:
                prefixes.append(s[:pre])
                s = minus_pre
                break
        suf = _suffix_len(s, pre)
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
        elif "." in s and _URL_RE.match(s):
            out.append(s)
        elif not _INFIX_HINT_RE.search(s):
            out.append(s)
        else:
            start = 0
            for m in _INFIX_RE.finditer(s):
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
