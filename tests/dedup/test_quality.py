"""Dedup quality on real text: pair precision/recall vs brute-force Jaccard, and real Gutenberg editions."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.evaluation import build_test_set, evaluate, real_texts
from corpuskit.dedup.pipeline import cluster_rows, shingle_table


@pytest.mark.parametrize("hash_mode", ["fast", "oph"])
def test_precision_recall_at_08_on_real_derived_set(shared_data, hash_mode):
    texts = real_texts(shared_data, limit=150)
    assert len(texts) >= 100
    ts = build_test_set(texts, seed=1)
    pairs, _ = evaluate(ts["text"].to_list(), load_dedup_config({"hash": hash_mode}))
    assert pairs.truth > 100
    assert pairs.precision >= 0.95, pairs
    assert pairs.recall >= 0.95, pairs


def _read(path):
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@pytest.mark.parametrize("hash_mode", ["fast", "oph"])
def test_gutenberg_editions_cluster_exactly(shared_data, hash_mode):
    root = shared_data / "dedup"
    truth = json.loads((root / "GROUND_TRUTH.json").read_text())
    books = [c for c in truth["clusters"] if c["id"].startswith("book:")]
    members = sorted({m for c in books for m in c["members"]})
    others = sorted(f"../books/{p.name}" for p in (shared_data / "books").glob("*.txt"))
    files = sorted(set(members) | set(others))  # other books: must stay alone
    texts = pl.Series([_read(root / f) for f in files])
    cfg = load_dedup_config({"hash": hash_mode})
    sig, th, counts = cfg.hasher().signatures(texts)
    c = cluster_rows(th, counts, sig, cfg, lambda rows: shingle_table(texts.gather(rows), cfg.hasher().spec))
    label = dict(zip(files, c.labels.tolist(), strict=True))
    for cl in books:
        assert len({label[m] for m in cl["members"]}) == 1, cl["id"]
    expected = {frozenset(cl["members"]) for cl in books}
    got: dict[int, set[str]] = {}
    for f, lab in label.items():
        got.setdefault(lab, set()).add(f)
    multi = {frozenset(g) for g in got.values() if len(g) > 1}
    assert multi == expected
    assert np.all(counts > 0)
