"""Gopher's word statistics for a batch of documents in one compiled pass over integer word ids (numba).

A document's words are never built as strings: each distinct whitespace chunk is split once
(:func:`corpuskit.curate.words.chunk_record`) into vocabulary ids kept in flat tables (chunk -> its word
ids and its symbol/alphabetic counts; word id -> length, stop-word slot), a batch becomes one array of
chunk indices plus per-document offsets, and one kernel call gives every document's word count, word
characters, symbol and non-alphabetic word counts, distinct stop words and n-gram repetition numerators
(:func:`corpuskit.curate.ngrams.ngram_chars`). Per document, Python does only ``text.split()``; the
batch's chunks are looked up in one C-level pass and the new all-letter ones registered in bulk.
"""

from __future__ import annotations

from itertools import filterfalse

import numpy as np
from numba import njit

from corpuskit.curate.ngrams import DUP_NGRAMS, TOP_NGRAMS, ngram_chars
from corpuskit.curate.words import _ALPHA_EXCEPTIONS, chunk_record

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
    """chunk -> chunk index, plus the flat tables the kernel reads; :meth:`add` registers a batch's new
    chunks (all-letter ones in bulk, the others split one by one)."""

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
        self.split: dict[str, tuple[str, ...]] = {}  # words of the chunks that are not one plain word

    def _words(self, words: list[str]) -> list[int]:
        vocab = self.vocab
        new = list(set(words).difference(vocab))  # vocab is a plain dict: looked up, not copied
        vocab.update(zip(new, range(len(vocab), len(vocab) + len(new)), strict=True))
        self.word_len.extend(list(map(len, new)))
        return list(map(vocab.__getitem__, words))

    def add(self, chunks: list[str]) -> None:
        """Give every chunk of ``chunks`` not seen yet its index and table rows."""
        # set order: which new chunk gets which id varies between processes; the statistics do not
        # (ids only have to be distinct)
        new = list(filterfalse(self.__contains__, set(chunks)))
        plain = [c for c in new if c.isalpha() and c not in _ALPHA_EXCEPTIONS]  # one word, nothing to count
        n = len(self)
        self.update(zip(plain, range(n, n + len(plain)), strict=True))
        self.chunk_start.extend(list(range(self.flat_words.n, self.flat_words.n + len(plain))))
        self.chunk_words.extend([1] * len(plain))
        self.chunk_counts.extend([0] * (3 * len(plain)))
        self.flat_words.extend(self._words(plain))
        other = [c for c in new if c not in self]
        starts, nwords, counts, words = [], [], [], []
        for c in other:
            toks, n_sym, sym_chars, nonalpha = chunk_record(c)
            self.split[c] = toks
            starts.append(self.flat_words.n + len(words))
            nwords.append(len(toks))
            counts += (n_sym, sym_chars, nonalpha)
            words += toks
        n = len(self)
        self.update(zip(other, range(n, n + len(other)), strict=True))
        self.chunk_start.extend(starts)
        self.chunk_words.extend(nwords)
        self.chunk_counts.extend(counts)
        self.flat_words.extend(self._words(words))


_TABLES = _Tables()


def chunk_words(chunk: str) -> tuple[str, ...]:
    """Words of one whitespace-free chunk (split once per process when it went through :func:`word_stats`)."""
    if chunk.isalpha():
        return _ALPHA_EXCEPTIONS.get(chunk, (chunk,))
    toks = _TABLES.split.get(chunk)
    return toks if toks is not None else chunk_record(chunk)[0]


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
    words: list[str] = []
    offsets = [0]
    for t in texts:
        words.extend(t.split())
        offsets.append(len(words))
    tables.add(words)
    chunks = np.fromiter(map(tables.__getitem__, words), dtype=np.int64, count=len(words))
    vocab = tables.vocab
    stop_slot = np.full(len(vocab), -1, dtype=np.int64)
    for k, w in enumerate(dict.fromkeys(stop_words)):
        if w in vocab:
            stop_slot[vocab[w]] = k
    return _kernel(
        np.array(offsets, dtype=np.int64),
        chunks,
        tables.chunk_start.view(),
        tables.chunk_words.view(),
        tables.chunk_counts.view(),
        tables.flat_words.view(),
        tables.word_len.view(),
        stop_slot,
        _TOP,
        _DUP,
    )
