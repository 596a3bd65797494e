"""Weights, budgets, repetition planning and seeded order: the rules a mixture request must obey."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from corpuskit.documents import document_id
from corpuskit.mix.sampler import (
    MixError,
    SourcePlan,
    check_repetition,
    normalise_weights,
    parse_tokens,
    parse_weights,
    seeded_order,
    split_budget,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50M", 50_000_000),
        ("1B", 10**9),
        ("1.5B", 1_500_000_000),
        ("500k", 500_000),
        ("2e6", 2_000_000),
        ("1_000", 1000),
        (" 7 M ", 7_000_000),
        (123, 123),
    ],
)
def test_parse_tokens(text, expected):
    assert parse_tokens(text) == expected


@pytest.mark.parametrize("text", ["abc", "0", "-5", "1.5", "10X", "", "M", "1.2345k"])
def test_parse_tokens_rejects(text):
    with pytest.raises(MixError, match="token budget"):
        parse_tokens(text)


def test_parse_weights():
    assert parse_weights("web=0.5, books=0.3,forums=0.2") == {"web": 0.5, "books": 0.3, "forums": 0.2}


@pytest.mark.parametrize(
    ("text", "msg"),
    [
        ("web", "expected source=weight"),
        ("web=", "expected source=weight"),
        ("=0.5", "expected source=weight"),
        ("web=abc", "not a number"),
        ("web=0.5,,books=1", "comma-separated"),
        ("", "comma-separated"),
        ("web=1,web=2", "given twice"),
    ],
)
def test_parse_weights_malformed(text, msg):
    with pytest.raises(MixError, match=msg):
        parse_weights(text)


def test_normalise_unknown_source_lists_available():
    with pytest.raises(MixError) as e:
        normalise_weights({"web": 0.5, "bookz": 0.5}, ["books", "web"])
    assert "'bookz'" in str(e.value) and "books, web" in str(e.value)


@pytest.mark.parametrize("w", [-0.1, math.nan, math.inf])
def test_normalise_rejects_negative_and_non_finite(w):
    with pytest.raises(MixError, match="finite and >= 0"):
        normalise_weights({"web": w, "books": 1.0}, ["books", "web"])


def test_normalise_zero_sum():
    with pytest.raises(MixError, match="sum to 0"):
        normalise_weights({"web": 0.0}, ["web"])


def test_normalise_warns_and_scales():
    w, warnings = normalise_weights({"web": 2, "books": 6}, ["books", "web"])
    assert w == {"books": 0.75, "web": 0.25} and list(w) == ["books", "web"]
    assert len(warnings) == 1 and "sum to 8" in warnings[0]
    _, none = normalise_weights({"web": 0.7, "books": 0.3}, ["books", "web"])
    assert none == []


def test_split_budget_is_exact():
    t = split_budget({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, 100)
    assert sum(t.values()) == 100 and sorted(t.values()) == [33, 33, 34]
    t = split_budget({"a": 0.123457, "b": 0.876543}, 1_000_003)
    assert sum(t.values()) == 1_000_003 and abs(t["a"] - 0.123457 * 1_000_003) < 1


def test_repetition_cap():
    ok = SourcePlan("s", 1.0, 400, 100, True)
    assert ok.epochs == 4 and ok.full_epochs == 4 and ok.remainder == 0
    check_repetition([ok], 4, False)
    over = SourcePlan("s", 1.0, 450, 100, True)
    assert (over.full_epochs, over.remainder) == (4, 50)
    with pytest.raises(MixError, match="4.50 epochs.*--allow-repeat"):
        check_repetition([over], 4, False)
    check_repetition([over], 4, True)
    with pytest.raises(MixError, match="no kept documents"):
        check_repetition([SourcePlan("s", 1.0, 10, 0, True)], 4, True)


def test_seeded_order_ignores_input_order_and_follows_seed():
    ids = pl.Series([document_id("s", f"x#{i}") for i in range(500)] + ["not-hex-id", "another"])
    perm = np.random.default_rng(1).permutation(len(ids))
    a = ids.to_numpy()[seeded_order(ids, 0, "s")]
    b = ids[perm].to_numpy()[seeded_order(ids[perm], 0, "s")]
    assert (a == b).all()
    c = ids.to_numpy()[seeded_order(ids, 1, "s")]
    assert not (a == c).all() and sorted(a) == sorted(c)
