"""The spaCy-compatible word splitter: cases checked against ``spacy.blank("en")`` (spaCy 3.8) by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.curate.words import count_sentences, split_words

CASES = [
    ("Don't do it, Mr. Smith!", ["Do", "n't", "do", "it", ",", "Mr.", "Smith", "!"]),
    ("It's 3.5km away (approx.)...", ["It", "'s", "3.5", "km", "away", "(", "approx", ".", ")", "..."]),
    ("well-known e-mail U.S. a.m.", ["well", "-", "known", "e", "-", "mail", "U.S.", "a.m."]),
    ("https://example.com/a?b=c foo@bar.com", ["https://example.com/a?b=c", "foo@bar.com"]),
    ('He said: "yes"; she--no.', ["He", "said", ":", '"', "yes", '"', ";", "she", "--", "no", "."]),
    ("10,000 $5 50% #hash C++ don’t", ["10,000", "$", "5", "50", "%", "#", "hash", "C++", "do", "n’t"]),
    ("end.Next word?!And... what…", ["end", ".", "Next", "word?!And", "...", "what", "…"]),
    (
        "co-operate 1990s 5-6 a/b and/or",
        ["co", "-", "operate", "1990s", "5", "-", "6", "a", "/", "b", "and/or"],
    ),
    ("'quoted' rock'n'roll O'Neil", ["'", "quoted", "'", "rock'n'roll", "O'Neil"]),
    (":) :-( <3 --> ==== ---- ....", [":)", ":-(", "<3", "--", ">", "=", "=", "=", "=", "----", "...."]),
    ("I'm we're dont cant won't", ["I", "'m", "we", "'re", "do", "nt", "ca", "nt", "wo", "n't"]),
    ("COVID-19 snake_case 1/2 10km 3pm", ["COVID-19", "snake_case", "1/2", "10", "km", "3", "pm"]),
    ("[edit] a.b.c A.B.C. NASA. USA.", ["[", "edit", "]", "a.b.c", "A.B.C.", "NASA", ".", "USA", "."]),
    ("“Quoted,” he said—then left.", ["“", "Quoted", ",", "”", "he", "said", "—", "then", "left", "."]),
    (
        "Hi!!! What?? ok?! naïve café",
        ["Hi", "!", "!", "!", "What", "?", "?", "ok", "?", "!", "naïve", "café"],
    ),
    ("foo\nbar\n\nbaz\tqux  x", ["foo", "bar", "baz", "qux", "x"]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_split_words_matches_spacy(text: str, expected: list[str]) -> None:
    assert split_words(text) == expected


def test_split_words_is_stable_under_cache() -> None:
    text = "The cat's toys, (again)... don't."
    assert (
        split_words(text)
        == split_words(text)
        == ["The", "cat", "'s", "toys", ",", "(", "again", ")", "...", "do", "n't", "."]
    )


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("One sentence here.", 1),
        ("First one. Second one! Third?", 3),
        ("Mr. Smith went to Washington.", 1),  # "Mr." is one token, not a sentence end
        ('He said "stop." Then left.', 2),  # closing quote is punctuation: the break comes at "Then"
        ("Wait... what", 1),  # "..." is not in the sentencizer's punctuation list
        ("", 0),
    ],
)
def test_count_sentences_like_spacy_sentencizer(text: str, n: int) -> None:
    assert count_sentences(split_words(text)) == n


def test_fast_path_gives_what_the_affix_loop_gives() -> None:
    """Every affix character around letter cores of each kind (lower, upper, uncased script, special cases):
    the shortcut for common chunk shapes must split exactly as the full loop does, or decline."""
    from corpuskit.curate.word_affixes import _PUNCT_CHARS, _QUOTES
    from corpuskit.curate.words import _fast_split, _split_chunk

    cores = ["word", "Word", "WORD", "A", "a", "US", "dont", "cannot", "Mr", "goin", "ol", "s", "日本", "ક"]
    chars = sorted(set(_PUNCT_CHARS + _QUOTES + ".$%+=-§°"))
    taken = 0
    for core in cores:
        for c in chars:
            for chunk in (core + c, c + core, c + core + c, c + core + ")", "(" + core + c):
                fast = _fast_split(chunk)
                if fast is not None:
                    taken += 1
                    assert fast == _split_chunk(chunk), chunk
    assert taken > 500  # the shortcut is actually used


def _regex_split(chunk: str) -> tuple[str, ...]:
    """The affix loop on the plain regular expressions (the reference for the shortcuts)."""
    from corpuskit.curate.word_affixes import suffix_len
    from corpuskit.curate.words import _regex_prefix_len, _split_chunk

    return _split_chunk(chunk, _regex_prefix_len, suffix_len)


def test_affix_shortcuts_agree_with_the_regexes_on_every_code_point() -> None:
    """The prefix/suffix shortcuts decide by the first/last character: check each code point they decide
    on, in the contexts where the patterns could still differ (a following "$", a preceding quote)."""
    import sys

    from corpuskit.curate.word_affixes import suffix_len
    from corpuskit.curate.words import _AFFIX_CHARS, _prefix_len, _regex_prefix_len, _suffix_len

    decided = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isalnum() or chr(i) in _AFFIX_CHARS]
    assert len(decided) > 100_000
    for c in decided:
        for s in (c, c + "x", c + "$", c + "S$", c + ".."):
            assert _prefix_len(s) == _regex_prefix_len(s), s
        for s in (c, "x" + c, "'" + c, "’" + c, "." + c, "a.." + c):
            assert _suffix_len(s, 0) == suffix_len(s, 0), s
    for s in ("5km", "10m/s", "3km/h", "1x5kg", "cat's", "US’S", "5K", "ab5c", "12мбар", "US$", "C$5", "A$"):
        assert _suffix_len(s, 0) == suffix_len(s, 0) and _prefix_len(s) == _regex_prefix_len(s), s


_PIECES = "a Ab US C 5 12 ' ’ s S . .. , - — ( ) \" “ ” $ % km m/s / : + #".split()
_PIECES += "é 日 ક 😀 ° F dont n't Mr @ …".split()


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7))
def test_split_with_shortcuts_equals_the_regex_loop(pieces: list[str]) -> None:
    from corpuskit.curate.words import _fast_split, _split_chunk

    chunk = "".join(pieces)
    want = _regex_split(chunk)
    assert _split_chunk(chunk) == want
    assert _fast_split(chunk) in (None, want)


@pytest.mark.slow
def test_split_with_shortcuts_on_every_chunk_of_the_benchmark_corpus(shared_data) -> None:
    """Every distinct whitespace chunk of the ~10k documents of benchmarks/curate.py (~250k that are not
    all letters): the shortcut paths split exactly as the plain affix loop does."""
    import sys
    from pathlib import Path

    from corpuskit.curate.words import _fast_split, _split_chunk

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import realdocs

    chunks = {c for t in realdocs.load(None)["text"].to_list() for c in (t or "").split()}
    others = sorted(c for c in chunks if not c.isalpha())
    assert len(others) > 200_000
    for c in others:
        want = _regex_split(c)
        assert _split_chunk(c) == want, c
        assert _fast_split(c) in (None, want), c


def test_split_chunks_is_chunk_split_of_each() -> None:
    from corpuskit.curate.words import chunk_split, split_chunks

    chunks = ["dont", "cannot", "dont-care", "(cannot)", "U.S.", "x,", "well-known", "Im", "3.5km", "—"]
    assert split_chunks(chunks) == [chunk_split(c) for c in chunks]
    assert split_chunks(chunks)[2] == ("do", "nt", "-", "care")
