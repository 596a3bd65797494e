"""The corpora of ``benchmarks/scale.py``: short real-text documents, 10% edited copies, at any N.

``mosaic`` builds each original from fragments of 8-20 consecutive words at random places of the
real-text pool, so two originals share at most a fragment and the near-duplicates stay the designed 10%.
``windows`` cuts each original as one window of the pool (``benchmarks/dedup.py --sections scale``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dedup import SHARED, synthetic_short_docs, write_corpus  # benchmarks/dedup.py

from corpuskit.dedup.evaluation import real_texts

SOURCE = "synthetic"


def mosaic_docs(words: np.ndarray, n: int, rng: np.random.Generator, dup_frac: float = 0.1) -> list[str]:
    """``n`` documents of 40-160 words, each of fragments of 8-20 consecutive ``words`` from random
    places; ``dup_frac`` of them are copies of the others with one word replaced."""
    n_orig = n - int(n * dup_frac)
    lens = rng.integers(40, 160, n_orig)
    starts = rng.integers(0, len(words) - 20, (n_orig, 20))
    sizes = rng.integers(8, 21, (n_orig, 20))
    before = np.cumsum(sizes, axis=1) - sizes  # words of the fragments before each one
    sizes = np.clip(lens[:, None] - before, 0, sizes)  # 20 fragments of >= 8 words cover 160
    flat_sizes = sizes.ravel()
    pos = np.repeat(starts.ravel() - np.cumsum(flat_sizes) + flat_sizes, flat_sizes)
    flat = words[pos + np.arange(len(pos))].tolist()
    ends = np.cumsum(lens).tolist()
    docs = [" ".join(flat[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    for i in rng.integers(0, n_orig, n - n_orig).tolist():
        w = docs[i].split()
        w[int(rng.integers(0, len(w)))] = "edited"
        docs.append(" ".join(w))
    return docs


def write_scale_corpus(corpus: Path, n: int, kind: str, rows_per_file: int = 20_000) -> float:
    """Write the ``kind`` corpus of ``n`` documents (mosaic: file by file, so memory holds one file's
    texts); returns the MB of text."""
    if kind == "windows":
        docs = synthetic_short_docs(n)
        write_corpus(corpus, SOURCE, docs)
        return sum(len(t) for t in docs) / 1e6
    words = np.array(" ".join(real_texts(SHARED, limit=2000, min_words=20)).split(), dtype=object)
    rng = np.random.default_rng(0)
    mb = 0.0
    for start in range(0, n, rows_per_file):
        docs = mosaic_docs(words, min(rows_per_file, n - start), rng)
        write_corpus(corpus, SOURCE, docs, rows_per_file, start=start)
        mb += sum(len(t) for t in docs) / 1e6
    return mb
