"""Decontamination: drop training documents that share a word 13-gram with any held-out set.

13 words is the window GPT-3, NeMo's and datatrove's n-gram decontamination use: long enough that a
shared window is copied text, not a common phrase. Text is lower-cased and split into ``\\w+`` words
(punctuation and spacing ignored). Words are hashed by polars, n-grams by a polynomial rolling hash in
numpy over a whole batch at once, and membership is a binary search in the sorted held-out hash set.
Limitation: scripts written without spaces (Chinese, Japanese) form one "word" per run of characters.
"""

from __future__ import annotations

import numpy as np
import polars as pl

DEFAULT_NGRAM = 13
_WORD_SEED = 0x5EED
_PRIME = np.uint64(0x100000001B3)  # FNV-64 prime: odd, so the rolling hash keeps low bits mixed


def ngram_hashes(texts: pl.Series, n: int = DEFAULT_NGRAM) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word n-gram of every text, and the index of the text each came from."""
    words = (
        pl.DataFrame({"t": texts.cast(pl.String)})
        .with_row_index("doc")
        .select("doc", pl.col("t").str.to_lowercase().str.extract_all(r"\w+").alias("w"))
        .explode("w")
        .drop_nulls("w")
    )
    m = words.height
    if m < n:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    wh = words["w"].hash(seed=_WORD_SEED).to_numpy()
    doc = words["doc"].to_numpy().astype(np.int64)
    k = m - n + 1
    g = np.zeros(k, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            g = g * _PRIME + wh[j : j + k]
    valid = doc[:k] == doc[n - 1 :]  # windows that do not cross a document boundary
    return g[valid], doc[:k][valid]


class Decontaminator:
    """Holds the n-gram hashes of every held-out set; flags training texts that share any of them."""

    def __init__(self, heldout_texts: list[str] | pl.Series, n: int = DEFAULT_NGRAM):
        self.n = n
        hashes, _ = ngram_hashes(pl.Series(heldout_texts, dtype=pl.String), n)
        self.hashes = np.unique(hashes)

    @classmethod
    def from_hashes(cls, hashes: np.ndarray, n: int) -> Decontaminator:
        """One rebuilt from its sorted hash set (what a draw unit in another process loads)."""
        out = cls.__new__(cls)
        out.n, out.hashes = n, np.asarray(hashes, dtype=np.uint64)
        return out

    def __len__(self) -> int:
        return int(self.hashes.size)

    def contaminated(self, texts: pl.Series) -> np.ndarray:
        """Boolean mask: True where the text shares at least one n-gram with a held-out set."""
        out = np.zeros(len(texts), dtype=bool)
        if not self.hashes.size or not len(texts):
            return out
        g, doc = ngram_hashes(texts, self.n)
        if not g.size:
            return out
        pos = np.searchsorted(self.hashes, g).clip(max=self.hashes.size - 1)
        hit = self.hashes[pos] == g
        out[np.unique(doc[hit])] = True
        return out
