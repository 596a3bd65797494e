"""Where MinHash time goes, and this machine's limits for it, on one core (``benchmarks/minhash.py``).

Stages are timed as separate kernels over the same documents (process CPU time, best of ``runs``):
passing the strings to compiled code, the character scan alone (read + one table lookup per character:
the floor of any scan), the word pass (scan, fold, word hashes), the whole signature kernel, and the
permutation minimum alone on stored shingle hashes; n-gram hashing is the kernel less the other two.
Limits: memory read and copy bandwidth (256 MiB, far beyond the caches), and the permutation minimum's
own ceiling with its inputs in L1 (the same loop, so the best this core does for that arithmetic).
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit
from numba.cpython.unicode import _get_code_point

from corpuskit.dedup.folding import word_table
from corpuskit.dedup.kernels import _row_min, flat_minhash, word_minhash, word_shingles
from corpuskit.dedup.minhash import MinHasher
from corpuskit.dedup.shingles import HASH_BASE
from corpuskit.dedup.textscan import doc_words, on_strings, powers


@njit(cache=True)
def _strings(texts):
    n = 0
    for t in texts:
        n += len(t)
    return n


@njit(cache=True)
def _scan(texts, table):
    acc = np.uint32(0)
    for t in texts:
        for i in range(len(t)):
            acc ^= table[_get_code_point(t, i)]
    return acc


@njit(cache=True)
def _words(texts, table, pw, base, words):
    n = 0
    for t in texts:
        n += doc_words(t, table, pw, base, words)
    return n


@njit(cache=True)
def _read(x):
    acc = np.uint64(0)
    for i in range(x.shape[0]):
        acc += x[i]
    return acc


@njit(cache=True)
def _ceiling(xs, a, b, reps):
    row = np.full(a.shape[0], np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for _ in range(reps):
        _row_min(row, xs, xs.shape[0], a, b)
        xs[0] ^= row[0]  # a dependence, so no repetition can be skipped
    return row


def _best(fn, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure(docs: list[str], runs: int = 5) -> dict[str, float]:
    """Seconds per stage (CPU, best of ``runs``) over ``docs``, the machine's limits, and counts."""
    m = MinHasher(128, 1)
    table, pw = word_table("fold"), powers(HASH_BASE, max(map(len, docs)) + 1)
    words = np.empty(max(map(len, docs)) * 20 + 2, dtype=np.uint64)
    h64, counts, _ = on_strings(word_shingles, docs, table, 5, HASH_BASE)
    h32 = (h64 >> np.uint64(32)).astype(np.uint32)
    offsets = np.concatenate([[0], np.cumsum(np.maximum(counts, 0))])
    stage = {
        "strings": lambda: on_strings(_strings, docs),
        "scan": lambda: on_strings(_scan, docs, table),
        "words": lambda: on_strings(_words, docs, table, pw, HASH_BASE, words),
        "kernel": lambda: on_strings(word_minhash, docs, table, 5, HASH_BASE, m._a, m._b),
        "minimum": lambda: flat_minhash(h32, offsets, m._a, m._b),
        "total": lambda: m.signatures(docs),
    }
    out = {}
    for name, fn in stage.items():
        fn()  # compile or load the cache outside the timing
        out[name] = _best(fn, runs)
    big = np.ones(1 << 25, dtype=np.uint64)  # 256 MiB
    dst = np.empty_like(big)
    _read(big[:8])
    out["read_gbs"] = big.nbytes / _best(lambda: _read(big), 3) / 1e9
    out["copy_gbs"] = 2 * big.nbytes / _best(lambda: np.copyto(dst, big), 3) / 1e9
    xs = h32[:1024].copy()  # 4 KiB: in L1 with a and b
    reps = 2000
    _ceiling(xs, m._a, m._b, 1)
    out["ceiling_gops"] = reps * len(xs) * len(m._a) / _best(lambda: _ceiling(xs, m._a, m._b, reps), 3) / 1e9
    out["n_chars"] = float(sum(map(len, docs)))
    out["n_shingles"] = float(len(h32))
    out["n_bytes"] = float(sum(len(t.encode("utf-8", "surrogatepass")) for t in docs))
    return out


def report(r: dict[str, float], ndocs: int) -> list[str]:
    """Printable lines for :func:`measure`'s figures."""
    ms = {k: 1e3 * r[k] for k in ("strings", "scan", "words", "kernel", "minimum", "total")}
    ngram = ms["kernel"] - ms["words"] - ms["minimum"]  # words includes passing the strings, as kernel does
    rest = ms["total"] - ms["kernel"]
    per_char = 1e9 / r["n_chars"]
    perm_rate = r["n_shingles"] * 128 / r["minimum"] / 1e9
    mbs = r["n_bytes"] / r["total"] / 1e6
    return [
        f"stages (1 core, CPU ms for {ndocs:,} docs, {r['n_chars'] / 1e6:.1f}M characters, "
        f"{r['n_shingles'] / 1e6:.2f}M shingles; best of N):",
        f"  strings into compiled code {ms['strings']:.1f} | character scan alone (read + 1 lookup) "
        f"{ms['scan'] - ms['strings']:.1f} = {(r['scan'] - r['strings']) * per_char:.2f} ns/char | word "
        f"pass (scan, fold, word hashes) {ms['words'] - ms['strings']:.1f} = "
        f"{(r['words'] - r['strings']) * per_char:.2f} ns/char",
        f"  n-gram hashes {ngram:.1f} | permutation minimum {ms['minimum']:.1f} "
        f"= {1e9 * r['minimum'] / r['n_shingles']:.2f} ns/shingle | whole kernel {ms['kernel']:.1f} | Python "
        f"(batching, the few texts folded in Python) {rest:.1f} | total {ms['total']:.1f} = "
        f"{1e9 * r['total'] / r['n_bytes']:.2f} ns/byte",
        f"limits (1 core, measured): memory read {r['read_gbs']:.1f} GB/s, copy {r['copy_gbs']:.1f} GB/s "
        f"(read + write); signatures read text at {mbs:.0f} MB/s = {100 * mbs / 1e3 / r['read_gbs']:.1f}% "
        "of read bandwidth: compute-bound",
        f"  permutation minimum {perm_rate:.1f} G (perm x shingle)/s = "
        f"{100 * perm_rate / r['ceiling_gops']:.0f}% of its L1-resident ceiling {r['ceiling_gops']:.1f} G/s; "
        f"the word pass is {(r['words'] - r['strings']) / (r['scan'] - r['strings']):.1f}x the bare "
        "character scan",
    ]
