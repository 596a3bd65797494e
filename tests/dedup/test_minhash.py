"""MinHash signatures: datasketch compatibility, LSH parameters, and batch-independence."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from corpuskit.dedup.lsh import collision_probability, optimal_param, recall_param
from corpuskit.dedup.minhash import MinHasher, fmix32, minhash_flat, permutations
from corpuskit.dedup.shingles import (
    ShingleSpec,
    fold,
    normalize,
    separator_table,
    shingle_hashes,
    shingle_texts,
    span_hashes,
    text_shingle_hashes,
)

TEXTS = [
    "The quick brown fox jumps over the lazy dog, again and again, until the dog wakes up.",
    "",
    "two words",
    "Ünïcode — “quoted” text,\twith   odd\nspacing; and 12,345 numbers! 東京は日本の首都です。",
    "The QUICK brown fox jumps over the lazy dog... again and again until the dog wakes up",
]


@pytest.mark.parametrize(
    ("num_perm", "seed", "unit", "n"), [(128, 1, "word", 5), (64, 7, "char", 3), (16, 42, "word", 1)]
)
def test_datasketch_mode_reproduces_datasketch_hashvalues(num_perm, seed, unit, n):
    spec = ShingleSpec(n, unit)
    sig, _, counts = MinHasher(num_perm, seed, spec, "datasketch").signatures(TEXTS)
    for row, text in zip(sig, normalize(TEXTS).to_list(), strict=True):
        m = MinHash(num_perm=num_perm, seed=seed)
        m.update_batch(shingle_texts(text, spec))
        np.testing.assert_array_equal(row, m.hashvalues)
    assert counts[1] == 0  # empty text: no shingle (signature stays at the initial values)
    assert counts[2] == (1 if (unit, n) == ("word", 5) else len(shingle_texts("two words", spec)))


def test_permutations_match_datasketch():
    a, b = permutations(32, 3)
    np.testing.assert_array_equal(np.array([a, b]), MinHash(num_perm=32, seed=3).permutations)


def test_span_hash_equals_for_equal_shingles_across_documents():
    h, offsets, text_hash = shingle_hashes(normalize(["a b c d e f", "x a b c d e"]), ShingleSpec(5))
    assert h[offsets[0]] == h[offsets[1] + 1]  # "a b c d e" in both
    assert text_hash[0] != text_hash[1]
    h2, _, th2 = shingle_hashes(normalize(["A, b c d e f!"]), ShingleSpec(5))
    assert th2[0] == text_hash[0] and h2[0] == h[0]


MIXED = [
    *TEXTS,
    None,
    "ﬁne ﬂour — Ｆｕｌｌｗｉｄｔｈ ＡＢＣ, ΟΔΥΣΣΕΥΣ and İstanbul\u200bzero-width\x00nul",
    " \t!!! ",
    "Ǆemal ⅻ ① x² über-straße 'quoted' «guillemets» 😀emoji😀 tab\tsep",
    "Wörter ohne Satzzeichen aber mit Umlauten und einer langen Reihe von Wörtern hier",
    "long words: " + "x" * 200 + " " + "é" * 70 + "Ω" * 64 + " end",  # past the kernel's table of powers
    "y" * 64 + " " + "z" * 65,  # its edge
    # random code points (any script, class or plane), a third of them spacing or punctuation
    *(
        "".join(" ,\t-"[c % 4] if c % 3 == 0 or 0xD800 <= c <= 0xDFFF else chr(c) for c in row)
        for row in np.random.default_rng(1).integers(0, 0x20000, (40, 60)).tolist()
    ),
]


@pytest.mark.parametrize("spec", [ShingleSpec(5), ShingleSpec(2), ShingleSpec(1), ShingleSpec(3, "char")])
def test_raw_text_path_equals_normalised_path(spec):
    """The fast path never builds normalised strings; it must still hash exactly what normalize gives."""
    raw = text_shingle_hashes(MIXED, spec)
    ref = shingle_hashes(normalize(MIXED), spec)
    for got, want in zip(raw, ref, strict=True):
        np.testing.assert_array_equal(got, want)
    counts = np.diff(raw[1])
    expected = [len(shingle_texts(t, spec)) for t in normalize(MIXED).to_list()]
    assert counts.tolist() == expected
    fast = MinHasher(32, 3, spec)
    np.testing.assert_array_equal(fast.signatures(MIXED)[0], fast.signatures_normalized(normalize(MIXED))[0])


def test_separator_table_matches_normalisation():
    table = separator_table()
    for ch in " \t\n\x00\u200b\u00a0.,;!?-—«»“”'$€+=<>^`|~©®™😀\u3000。、":
        assert table[ord(ch)], repr(ch)
    rng = np.random.default_rng(0)
    sample = [chr(c) for c in rng.integers(0, 0x30000, 3000) if not 0xD800 <= c <= 0xDFFF]
    for ch in [*"aZ09éßıΣσ東京ⅻ①²_ﬁ", *sample]:
        folded = fold([ch])[0]
        assert all(table[ord(c)] for c in folded) == (normalize([ch]).item() == ""), repr(ch)


def test_text_hash_is_the_normalised_text():
    _, _, th = text_shingle_hashes(
        ["Hello,  World!", "hello world", "hello-world.", "hello worlds", ""], ShingleSpec()
    )
    assert th[0] == th[1] == th[2] != th[3]
    assert th[4] != th[0]


def test_signature_is_the_permutation_minimum_and_independent_of_batching():
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**32, 5000, dtype=np.uint64).astype(np.uint32)
    offsets = np.array([0, 0, 1, 1200, 1200, 5000])
    a, b = permutations(64, 1)
    sig = minhash_flat(hashes, offsets, a, b)
    assert (sig[0] == 0xFFFFFFFF).all() and (sig[3] == 0xFFFFFFFF).all()
    perm = (a[:, None].astype(np.uint64) * fmix32(hashes)[None, :] + b[:, None]) & 0xFFFFFFFF  # by definition
    for d in (1, 2, 4):
        np.testing.assert_array_equal(sig[d], perm[:, offsets[d] : offsets[d + 1]].min(axis=1))
    one = minhash_flat(hashes[1:1200], np.array([0, 1199]), a, b)
    np.testing.assert_array_equal(one[0], sig[2])


def test_fused_word_kernel_equals_stored_shingle_hashes():
    """fast mode hashes word shingles straight into the minimum; it must equal the two-step path."""
    for spec in (ShingleSpec(5), ShingleSpec(2), ShingleSpec(1)):
        fast = MinHasher(64, 5, spec)
        sig, th, counts = fast.signatures(MIXED)
        h64, offsets, th_ref = text_shingle_hashes(MIXED, spec)
        ref = minhash_flat((h64 >> np.uint64(32)).astype(np.uint32), offsets, fast._a, fast._b)
        np.testing.assert_array_equal(sig, ref)
        np.testing.assert_array_equal(th, th_ref)
        np.testing.assert_array_equal(counts, np.diff(offsets))


def test_fast_mode_estimates_jaccard():
    words = [f"w{i}" for i in range(400)]
    t1 = " ".join(words)
    t2 = " ".join(words[:300] + [f"z{i}" for i in range(100)])
    sig, _, _ = MinHasher(256).signatures([t1, t2])
    true = 296 / (396 + 100)  # 5-gram sets: 296 shared, 396 in each
    assert abs((sig[0] == sig[1]).mean() - true) < 0.08


def test_optimal_param_matches_datasketch():
    for t, p in [(0.8, 128), (0.7, 112), (0.5, 64)]:
        assert optimal_param(t, p) == _optimal_param(t, p, 0.5, 0.5)


def test_recall_param_reaches_target():
    b, r = recall_param(0.8, 128, 0.99)
    assert b * r <= 128 and collision_probability(0.8, b, r) >= 0.99
    assert collision_probability(0.8, 128 // (r + 1), r + 1) < 0.99


def test_word_shingle_hashes_follow_the_span_hash_definition():
    """The compiled word pass hashes exactly as the array span hash does: words over code points, then
    shingles over word hashes (so stored signatures keep their meaning, SIGNATURE_VERSION unchanged)."""
    spec = ShingleSpec(3)
    norm = normalize(MIXED).to_list()
    h, offsets, th = shingle_hashes(norm, spec)
    for d, text in enumerate(norm):
        words = text.split()
        if not words:
            assert offsets[d + 1] == offsets[d] and th[d] == 0
            continue
        cps = [np.frombuffer(w.encode("utf-32-le"), dtype=np.uint32) for w in words]
        ends = np.cumsum([len(c) for c in cps])
        wh = span_hashes(np.concatenate(cps), ends - [len(c) for c in cps], ends)
        m = len(words)
        starts = np.arange(max(m - spec.ngram + 1, 1))
        want = span_hashes(wh, starts, np.minimum(starts + spec.ngram, m))
        np.testing.assert_array_equal(h[offsets[d] : offsets[d + 1]], want)
        assert th[d] == span_hashes(wh, np.array([0]), np.array([m]))[0]


def test_fold_by_table_equals_python_fold_on_every_bmp_script():
    """Texts made only of table-foldable characters skip Python's NFKC; hashes must not change. Words
    from all of the BMP (capitals, final sigma, compatibility forms, combining marks included)."""
    from corpuskit.dedup.folding import fold_tables
    from corpuskit.dedup.kernels import word_shingles
    from corpuskit.dedup.shingles import word_kernel

    stable, _ = fold_tables()
    rng = np.random.default_rng(7)
    cps = rng.integers(0x20, 0x10000, (300, 40))
    texts = [
        " ".join(
            "".join(chr(c) for c in row[i : i + 4] if not 0xD800 <= c <= 0xDFFF) for i in range(0, 40, 4)
        )
        for row in cps.tolist()
    ]
    pure = [
        "".join(chr(c) if stable[c] else " " for c in row) for row in rng.integers(0x20, 0x10000, (300, 40))
    ]
    texts += pure + ["ΟΔΥΣΣΕΥΣ ΣΑΣ", "İSTANBUL ﬁne", "e\u0301 é", "\u1100\u1161 가"]
    assert not len(word_kernel(word_shingles, pure, True, 3, counts_at=1)[1])  # all folded by table
    for spec in (ShingleSpec(1), ShingleSpec(3)):
        raw = text_shingle_hashes(texts, spec)
        ref = shingle_hashes(normalize(texts), spec)
        for got, want in zip(raw, ref, strict=True):
            np.testing.assert_array_equal(got, want)


def test_expansions_by_table_equal_python_nfkc():
    """Characters whose NFKC is several table-foldable ones ("½" -> "1⁄2", "ﬁ", "ﷺ" -> 4 words) are
    expanded in the kernel; every one of them, beside letters, separators and itself, hashes as Python's
    fold does, also where expansions need more room than the text's length (dense "ﷺ")."""
    from corpuskit.dedup.folding import _expansions, fold_tables
    from corpuskit.dedup.kernels import word_shingles
    from corpuskit.dedup.shingles import word_kernel

    chars = [chr(c) for c in _expansions(fold_tables()[0])]
    assert {"½", "ﬁ", "ﷺ", "ⓒ"} <= set(chars)
    texts = [f"a{c}b {c}{c}, x{c}" for c in chars] + ["ﷺ" * 300, "½" * 301 + " tail", "short"]
    assert not len(word_kernel(word_shingles, texts, True, 2, counts_at=1)[1])  # none folded in Python
    for spec in (ShingleSpec(1), ShingleSpec(3)):
        for got, want in zip(
            text_shingle_hashes(texts, spec), shingle_hashes(normalize(texts), spec), strict=True
        ):
            np.testing.assert_array_equal(got, want)
        fast = MinHasher(16, 2, spec)
        np.testing.assert_array_equal(
            fast.signatures(texts)[0], fast.signatures_normalized(normalize(texts))[0]
        )
