"""spaCy's English affix rules as regular expressions: which prefix, suffix and infix pieces
:mod:`corpuskit.curate.words` peels off a whitespace-free chunk, and which chunks are URLs kept whole.

Written from ``spacy/lang/punctuation.py``, ``spacy/lang/en/punctuation.py`` and ``char_classes.py`` (MIT
licence), with Unicode properties instead of spaCy's explicit character tables.
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
PREFIX_RE = regex.compile(
    "^(?:"
    + "|".join(
        ["§", "%", "=", "—", "–", r"\+(?![0-9])", _alt(_PUNCT_CHARS), r"\.\.+", _alt(_QUOTES)]
        + [r"US\$", r"C\$", r"A\$", _alt(_CURRENCY), _ICONS]
    )
    + ")",
    regex.V1,
)
# spaCy TOKENIZER_SUFFIXES: searched, so the leftmost match reaching the end wins (``word...`` -> ``...``).
SUFFIX_RE = regex.compile(
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
INFIX_RE = regex.compile(
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
URL_RE = regex.compile(
    r"^(?:[\w\+\-\.]{2,}://)?(?:\S+(?::\S*)?@)?"
    r"(?:(?:\d{1,3}\.){3}\d{1,3}|(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?"
    r"[A-Za-z0-9\u00a1-\uffff]\.)+[\p{Ll}\p{Lo}\u00a1-\u00ff]{2,63})(?::\d{2,5})?(?:[/?#]\S*)?$"
)


# Every infix contains one of these characters (or an icon); most chunks have none, so skip the search.
INFIX_HINT_RE = regex.compile(r"[.…,:<>=/+\-*^–—~\p{So}]")
_SUFFIX_WINDOW = 8  # longer than any suffix except a run of dots, which is extended below


def suffix_len(s: str, pre: int) -> int:
    """Length of spaCy's suffix match at the end of ``s[pre:]`` (leftmost match that reaches the end)."""
    start = max(pre, len(s) - _SUFFIX_WINDOW)
    m = SUFFIX_RE.search(s, start)
    if not m:
        return 0
    a = m.start()
    if a == start and s[a] == "." and s.endswith(".."):  # a dot run may begin before the window
        while a > pre and s[a - 1] == ".":
            a -= 1
    return len(s) - a
