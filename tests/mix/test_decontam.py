"""13-gram decontamination: exact copies are caught whatever the case/punctuation; short overlaps are not."""

from __future__ import annotations

import polars as pl

from corpuskit.mix.decontam import Decontaminator, ngram_hashes

HELD = (
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
    "must be in want of a wife. However little known the feelings or views of such a man may be."
)


def test_ngrams_do_not_cross_documents():
    seven = "one two three four five six seven"
    g, doc = ngram_hashes(pl.Series([seven, seven]), 13)
    assert g.size == 0  # 14 words in total, but no single document has 13
    g, doc = ngram_hashes(pl.Series([seven + " " + seven, seven]), 13)
    assert g.size == 2 and set(doc.tolist()) == {0}


def test_planted_paragraph_is_caught_and_near_misses_are_not():
    d = Decontaminator([HELD, "another held-out text that shares nothing"])
    words = HELD.split()
    texts = pl.Series(
        [
            "Some training text. " + HELD.upper().replace(",", " ;") + " More text after it.",
            "A document about lobsters in the Atlantic Ocean and their claws and shells and eggs and more.",
            " ".join(words[:12]) + " and then something entirely different goes on here for a while",
            "",
            "short",
        ]
    )
    assert d.contaminated(texts).tolist() == [True, False, False, False, False]


def test_empty_heldout_flags_nothing():
    d = Decontaminator([])
    assert len(d) == 0 and not d.contaminated(pl.Series([HELD])).any()
