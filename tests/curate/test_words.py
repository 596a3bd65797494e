"""The spaCy-compatible word splitter: cases checked against ``spacy.blank("en")`` (spaCy 3.8) by hand."""

from __future__ import annotations

import pytest

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
