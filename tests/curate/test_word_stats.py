"""The batch word-statistics kernel gives, per document, what counting the split words directly gives."""

from __future__ import annotations

import random

import pytest

from corpuskit.curate import word_stats as ws
from corpuskit.curate.ngrams import ngram_signals
from corpuskit.curate.words import PUNCTUATION, analyse_words, split_words

STOP = ("the", "be", "to", "of", "and", "that", "have", "with")
PIECES = [
    "the",
    "cat",
    "sat,",
    "(on)",
    "mat.",
    "don't",
    "dont-care",
    "U.S.",
    "...",
    "—",
    "#tag",
    "3.5km",
    "of",
]


def _docs(seed: int, n: int = 40) -> list[str]:
    rng = random.Random(seed)
    return ["", "   \n "] + [
        " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 120))) + rng.choice(["", "\n", " x"])
        for _ in range(n)
    ]


def _direct(text: str) -> list[float]:
    words, n_sym, sym_chars, nonalpha = analyse_words(text)
    assert n_sym == sum(1 for w in words if not w.strip(PUNCTUATION))
    stops = len(set(STOP).intersection(words))
    head = [len(words), sum(map(len, words)), n_sym, sym_chars, nonalpha, stops]
    return [float(x) for x in head] + [x * 1000 for x in ngram_signals(words, 1000)]


def test_batch_rows_equal_direct_counts() -> None:
    texts = _docs(0)
    got = ws.word_stats(texts, STOP).tolist()
    for text, row in zip(texts, got, strict=True):
        want = _direct(text)
        assert row[:6] == want[:6], text
        assert row[6:] == pytest.approx(want[6:]), text


def test_same_rows_whatever_the_tables_already_hold() -> None:
    texts = _docs(1)
    ws._TABLES.reset()
    cold = ws.word_stats(texts, STOP).tolist()
    ws.word_stats(_docs(2), STOP)  # other chunks registered in between
    warm = ws.word_stats(list(reversed(texts)), STOP).tolist()
    assert cold == list(reversed(warm))


def test_chunk_words_match_the_splitter() -> None:
    ws.word_stats(["dont-care (on) U.S. cat"], STOP)
    for chunk in ["dont-care", "(on)", "U.S.", "cat", "never-seen-before!"]:
        assert list(ws.chunk_words(chunk)) == split_words(chunk)
