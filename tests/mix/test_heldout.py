"""Held-out split: deterministic, capped, and never empty just because the first ranked document is big."""

from __future__ import annotations

import polars as pl

from corpuskit.mix.heldout import HeldoutSettings, split_heldout


def test_big_documents_are_passed_over_not_ending_the_split():
    texts = ["x" * 400, "y" * 300] + ["z" * 75] * 4
    docs = pl.DataFrame({"id": [f"d{i}" for i in range(6)], "text": texts})
    for seed in range(5):  # whatever the ranking, the small documents fill the set under the 25% cap
        split = split_heldout("s", docs, HeldoutSettings(bytes_per_source=10_000, seed=seed))
        assert 0 < split.bytes <= 0.25 * 1000
        assert set(split.ids.to_list()) <= {"d2", "d3", "d4", "d5"}


def test_split_is_deterministic_and_seed_dependent():
    docs = pl.DataFrame(
        {"id": [f"d{i}" for i in range(200)], "text": [f"text {i} " * 20 for i in range(200)]}
    )
    s = HeldoutSettings(bytes_per_source=5_000)
    a, b = split_heldout("s", docs, s), split_heldout("s", docs, s)
    assert a.ids.to_list() == b.ids.to_list()
    c = split_heldout("s", docs, HeldoutSettings(bytes_per_source=5_000, seed=1))
    assert a.ids.to_list() != c.ids.to_list()
    assert 5_000 <= a.bytes < 5_000 + 200
