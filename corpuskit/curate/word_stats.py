"""Gopher's word statistics for a batch of documents in one compiled pass over integer word ids (numba).

A document's words are never built as strings: each distinct whitespace chunk is split once
(:func:`corpuskit.curate.words.chunk_record`) into vocabulary ids kept in flat tables (chunk -> its word
ids and its symbol/alphabetic counts; word id -> length, stop-word slot), a batch becomes one array of
chunk indices plus per-document offsets, and one kernel call gives every document's word count, word
characters, symbol and non-alphabetic word counts, distinct stop words and n-gram repetition numerators
(:func:`corpuskit.curate.ngrams.ngram_chars`). Per document, Python does only ``text.split()`` and one
C-level dictionary pass over its chunks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.curate.ngrams import DUP_NGRAMS, TOP_NGRAMS, ngram_chars
from corpuskit.curate.words import chunk_record

# columns of :func:`word_stats`, then one per TOP_NGRAMS and DUP_NGRAMS (n-gram character numerators)
COLUMNS = ("words", "word_chars", "symbol_words", "symbol_chars", "nonalpha_words", "stop_words")
_TOP = np.array(TOP_NGRAMS, dtype=np.int64)
_DUP = np.array(DUP_NGRAMS, dtype=np.int64)
_MAX_CHUNKS = 2_000_000  # distinct chunks remembered; the tables restart (between batches) beyond this


class _Grow:
    """An int64 array that grows by doubling; ``view()`` is the filled part."""

    def __init__(self) -> None:
        self.a = np.zeros(1024, dtype=np.int64)
        self.n = 0

    def extend(self, values: list[int]) -> None:
        need = self.n + len(values)
        if need > self.a.shape[0]:
            a = np.zeros(max(need, 2 * self.a.shape[0]), dtype=np.int64)
            a[: self.n] = self.a[: self.n]
            self.a = a
        self.a[self.n : need] = values
        self.n = need

    def view(self) -> np.ndarray:
        return self.a[: self.n]


class _Tables(dict):
    """chunk -> chunk index; a miss splits the chunk and appends its rows to the pending lists."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.clear()
        self.vocab: dict[str, int] = {}
        self.word_len = _Grow()
        self.chunk_start, self.chunk_words = _Grow(), _Grow()  # offsets into flat_words
        self.chunk_counts = _Grow()  # 3 per chunk: symbol words, their characters, non-alphabetic words
        self.flat_words = _Grow()
        self.tokens: list[tuple[str, ...]] = []  # chunk index -> its words, for callers that need strings
        self._pending: tuple[list[int], ...] = ([], [], [], [], [])

    def __missing__(self, chunk: str) -> int:
        toks, n_sym, sym_chars, nonalpha = chunk_record(chunk)
        self.tokens.append(toks)
        vocab = self.vocab
        new_len, start, nwords, counts, flat = self._pending
        start.append(self.flat_words.n + len(flat))
        nwords.append(len(toks))
        counts += (n_sym, sym_chars, nonalpha)
        for t in toks:
            i = vocab.get(t)
            if i is None:
                i = vocab[t] = len(vocab)
                new_len.append(len(t))
            flat.append(i)
        i = self[chunk] = len(self)
        return i

    def flush(self) -> None:
        """Move the rows added since the last flush into the arrays the kernel reads."""
        new_len, start, nwords, counts, flat = self._pending
        self.word_len.extend(new_len)
        self.chunk_start.extend(start)
        self.chunk_words.extend(nwords)
        self.chunk_counts.extend(counts)
        self.flat_words.extend(flat)
        self._pending = ([], [], [], [], [])


_TABLES = _Tables()


def chunk_words(chunk: str) -> tuple[str, ...]:
    """Words of one whitespace-free chunk, from the same tables (split once per process)."""
    return _TABLES.tokens[_TABLES[chunk]]


@njit(cache=True)
def _kernel(
    offsets, chunks, chunk_start, chunk_words, chunk_counts, flat_words, word_len, stop_slot, top_n, dup_n
):
    n_docs = offsets.shape[0] - 1
    n_fixed = 6
    out = np.zeros((n_docs, n_fixed + top_n.shape[0] + dup_n.shape[0]), dtype=np.float64)
    cap = 1024
    ids = np.empty(cap, dtype=np.uint64)
    lens = np.empty(cap, dtype=np.int64)
    for d in range(n_docs):
        m = 0
        n_sym = sym_chars = nonalpha = 0
        for j in range(offsets[d], offsets[d + 1]):
            c = chunks[j]
            k = chunk_words[c]
            if m + k > cap:
                while m + k > cap:
                    cap *= 2
                ids2 = np.empty(cap, dtype=np.uint64)
                lens2 = np.empty(cap, dtype=np.int64)
                ids2[:m] = ids[:m]
                lens2[:m] = lens[:m]
                ids, lens = ids2, lens2
            s = chunk_start[c]
            for q in range(k):
                w = flat_words[s + q]
                ids[m] = np.uint64(w)
                lens[m] = word_len[w]
                m += 1
            n_sym += chunk_counts[3 * c]
            sym_chars += chunk_counts[3 * c + 1]
            nonalpha += chunk_counts[3 * c + 2]
        chars = 0
        stop_mask = np.int64(0)
        for p in range(m):
            chars += lens[p]
            w = np.int64(ids[p])
            if w < stop_slot.shape[0] and stop_slot[w] >= 0:
                stop_mask |= np.int64(1) << stop_slot[w]
        stops = 0
        while stop_mask:
            stops += stop_mask & 1
            stop_mask >>= 1
        out[d, 0] = m
        out[d, 1] = chars
        out[d, 2] = n_sym
        out[d, 3] = sym_chars
        out[d, 4] = nonalpha
        out[d, 5] = stops
        out[d, n_fixed:] = ngram_chars(ids[:m], lens[:m], top_n, dup_n)
    return out


def word_stats(texts: list[str], stop_words: tuple[str, ...]) -> np.ndarray:
    """One row per text: :data:`COLUMNS` then the n-gram numerators, as float64."""
    tables = _TABLES
    if len(tables) > _MAX_CHUNKS:
        tables.reset()
    if len(stop_words) > 63:
        raise ValueError("at most 63 stop words")
    get = tables.__getitem__
    chunks: list[int] = []
    offsets = [0]
    for t in texts:
        chunks.extend(map(get, t.split()))
        offsets.append(len(chunks))
    tables.flush()
    vocab = tables.vocab
    stop_slot = np.full(len(vocab), -1, dtype=np.int64)
    for k, w in enumerate(dict.fromkeys(stop_words)):
        if w in vocab:
            stop_slot[vocab[w]] = k
    return _kernel(
        np.array(offsets, dtype=np.int64),
        np.array(chunks, dtype=np.int64),
        tables.chunk_start.view(),
        tables.chunk_words.view(),
        tables.chunk_counts.view(),
        tables.flat_words.view(),
        tables.word_len.view(),
        stop_slot,
        _TOP,
        _DUP,
    )
