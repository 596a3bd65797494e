"""The n-gram kernel (which counts an n-gram only where its (n-1)-gram repeated) on mostly-unique text:
equal to datatrove's published algorithms (the references of test_rules.py)."""

from __future__ import annotations

import random

import pytest

from corpuskit.curate.ngrams import ngram_signals
from tests.curate.test_rules import _dt_all_dup, _dt_top


def _want(words: list[str]) -> list[float]:
    top = [_dt_top(words, n) / 1000 for n in (2, 3, 4)]
    return top + [_dt_all_dup(words, n) / 1000 for n in range(5, 11)]


@pytest.mark.parametrize("seed", range(12))
def test_ngrams_on_prose_like_words_match_reference(seed: int) -> None:
    rng = random.Random(seed)
    vocab = [f"w{i}" * rng.randint(1, 3) for i in range(rng.choice([30, 300, 3000]))]
    words = [rng.choice(vocab) for _ in range(rng.randint(2, 800))]
    for _ in range(rng.randint(0, 6)):  # repeated phrases of 1..14 words, anywhere (also overlapping)
        a, n = rng.randrange(len(words)), rng.randint(1, 14)
        b = rng.randrange(len(words))
        words[b:b] = words[a : a + n]
    got = ngram_signals(words, 1000)
    want = [_dt_top(words, n) / 1000 for n in (2, 3, 4)] + [
        _dt_all_dup(words, n) / 1000 for n in range(5, 11)
    ]
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("words", [["a", "b"], ["a", "a"], ["a"] * 11, ["a", "b"] * 6, list("abcdefghij")])
def test_ngrams_edge_cases(words: list[str]) -> None:
    want = [_dt_top(words, n) / 1000 for n in (2, 3, 4)] + [
        _dt_all_dup(words, n) / 1000 for n in range(5, 11)
    ]
    assert ngram_signals(words, 1000) == pytest.approx(want, rel=1e-12)
