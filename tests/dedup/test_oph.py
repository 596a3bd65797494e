"""One-permutation hashing with optimal densification: unbiased Jaccard estimates, determinism, edges."""

from __future__ import annotations

import numpy as np
import pytest

from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.minhash import EMPTY, MinHasher, densify, oph_flat


def _pair(rng: np.random.Generator, union: int, jaccard: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Two sets of distinct 32-bit hashes, |A n B| / |A u B| as near ``jaccard`` as ``union`` allows."""
    pool = rng.choice(1 << 32, size=union, replace=False).astype(np.uint32)
    shared = round(jaccard * union)
    rest = pool[shared:]
    split = len(rest) // 2
    a = np.concatenate([pool[:shared], rest[:split]])
    b = np.concatenate([pool[:shared], rest[split:]])
    return a, b, shared / union


@pytest.mark.parametrize("jaccard", [0.3, 0.5, 0.8, 0.9])
def test_oph_estimates_jaccard_without_bias(jaccard):
    """Sparse sets (10 shingles for 128 bins: mostly densified bins) as well as dense ones."""
    rng = np.random.default_rng(int(jaccard * 100))
    errors = []
    for union in rng.integers(10, 3000, 300):
        a, b, true = _pair(rng, int(union), jaccard)
        sig = oph_flat(np.concatenate([a, b]), np.array([0, len(a), len(a) + len(b)]), 128, 7)
        errors.append((sig[0] == sig[1]).mean() - true)
    errors = np.asarray(errors)
    assert abs(errors.mean()) < 0.012, errors.mean()  # 300 pairs: standard error ~0.003
    assert np.abs(errors).mean() < 0.06, np.abs(errors).mean()  # ~sqrt(J(1-J)/128) per pair


def test_oph_sparse_sets_still_unbiased():
    """Densification is what makes OPH usable on short texts: 3-shingle sets in 128 bins."""
    rng = np.random.default_rng(5)
    errors = []
    for _ in range(400):
        a, b, true = _pair(rng, 4, 0.5)
        sig = oph_flat(np.concatenate([a, b]), np.array([0, len(a), len(a) + len(b)]), 128, 3)
        assert (sig != EMPTY).all()
        errors.append((sig[0] == sig[1]).mean() - true)
    assert abs(np.mean(errors)) < 0.03, np.mean(errors)


def test_oph_deterministic_and_seeded():
    texts = ["The quick brown fox jumps over the lazy dog near the river bank today", "x y z", ""] * 3
    one = MinHasher(64, 5, mode="oph").signatures(texts)[0]
    two = MinHasher(64, 5, mode="oph").signatures(texts)[0]
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one[0], one[3])  # independent of position and batch
    other = MinHasher(64, 6, mode="oph").signatures(texts)[0]
    assert (one[0] != other[0]).any()
    small = MinHasher(64, 5, mode="oph").signatures(texts, max_docs=2)[0]
    np.testing.assert_array_equal(one, small)


def test_oph_empty_and_short_documents():
    sig, _, counts = MinHasher(128, mode="oph").signatures(["", None, "!!!", "one", "one", "two words"])
    assert counts.tolist() == [0, 0, 0, 1, 1, 1]
    assert (sig[:3] == EMPTY).all()  # no shingles: the EMPTY signature, as in the other modes
    assert len(set(sig[3].tolist())) == 1  # one shingle fills one bin; every other bin borrows it
    np.testing.assert_array_equal(sig[3], sig[4])
    assert (sig[3] != sig[5]).all()


def test_densify_borrows_only_filled_bins():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 1 << 31, (50, 16), dtype=np.uint32)
    filled = rng.random((50, 16)) < 0.2
    filled[0] = False
    filled[1] = False
    filled[1, 3] = True
    orig = np.where(filled, sig, EMPTY)
    out = densify(orig.copy(), filled, np.uint64(0x9E3779B97F4A7C15), np.uint64(12345))
    np.testing.assert_array_equal(out[filled], orig[filled])
    assert (out[0] == EMPTY).all()
    assert (out[1] == orig[1, 3]).all()
    for r in range(2, 50):
        if filled[r].any():
            assert set(out[r].tolist()) <= set(orig[r][filled[r]].tolist())


def test_oph_config_and_signature_params():
    cfg = load_dedup_config({"hash": "oph"})
    assert cfg.hasher().mode == "oph"
    assert cfg.signature_params() != load_dedup_config({}).signature_params()  # stored sigs recomputed
