"""Gopher's word statistics for a batch of documents in one compiled pass over integer word ids (numba).

A document's words are never built as strings: each distinct whitespace chunk is split once
(:func:`corpuskit.curate.words.chunk_record`) into vocabulary ids kept in flat tables (chunk -> its word
ids and its symbol/alphabetic counts; word id -> length, stop-word slot), a batch becomes one array of
chunk ids plus per-document offsets (:class:`corpuskit.curate.chunk_index.ChunkIndex`, compiled: no Python
work per chunk occurrence), and one kernel call gives every document's word count, word characters, symbol
and non-alphabetic word counts, distinct stop words and n-gram repetition numerators
(:func:`corpuskit.curate.ngrams.ngram_chars`). Python touches only the batch's new chunks: all-letter ones
in bulk, the others through the splitter.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from corpuskit.curate.chunk_index import ChunkIndex
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


class _Tables:
    """The flat tables the kernel reads, one row per chunk id of :attr:`index`; :meth:`add` fills the rows
    of a batch's new chunks (all-letter ones in bulk, the others split one by one)."""

    def __init__(self) -> None:
        self.reset()

    def __len__(self) -> int:
        return len(self.index)

    def reset(self) -> None:
        self.index = ChunkIndex()
        self.vocab: dict[str, int] = {}
        self.word_len = _Grow()
        self.chunk_start, self.chunk_words = _Grow(), _Grow()  # offsets into flat_words
        self.chunk_counts = _Grow()  # 3 per chunk: symbol words, their characters, non-alphabetic words
        self.flat_words = _Grow()
        self.split: dict[str, tuple[str, ...]] = {}  # words of the chunks that are not one plain word

    def _words(self, words: list[str]) -> list[int]:
        vocab = self.vocab
        new = [w for w in dict.fromkeys(words) if w not in vocab]  # ids in order of first appearance
        vocab.update(zip(new, range(len(vocab), len(vocab) + len(new)), strict=True))
        self.word_len.extend(list(map(len, new)))
        return list(map(vocab.__getitem__, words))

    def add(self, new: list[str]) -> None:
        """Rows for ``new``, the chunks that just got the next ids (in id order)."""
        first = self.chunk_words.n
        plain = np.fromiter((c.isalpha() and c not in _ALPHA_EXCEPTIONS for c in new), bool, len(new))
        where = np.flatnonzero(plain)  # one word each, nothing to count
        others = np.flatnonzero(~plain).tolist()
        starts, nwords, counts, words = [0] * len(new), [1] * len(new), [0] * (3 * len(new)), []
        flat0 = self.flat_words.n
        for i in others:
            c = new[i]
            toks, n_sym, sym_chars, nonalpha = chunk_record(c)
            self.split[c] = toks
            starts[i] = flat0 + len(words)
            nwords[i] = len(toks)
            counts[3 * i : 3 * i + 3] = n_sym, sym_chars, nonalpha
            words += toks
        self.chunk_words.extend(nwords)
        self.chunk_counts.extend(counts)
        self.chunk_start.extend(starts)
        self.chunk_start.view()[first + where] = flat0 + len(words) + np.arange(len(where))
        plain_words = list(map(new.__getitem__, where.tolist()))
        self.flat_words.extend(self._words(words + plain_words))


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
    chunks, offsets, new = tables.index.lookup(texts)
    tables.add(new)
    vocab = tables.vocab
    stop_slot = np.full(len(vocab), -1, dtype=np.int64)
    for k, w in enumerate(dict.fromkeys(stop_words)):
        if w in vocab:
            stop_slot[vocab[w]] = k
    return _kernel(
        offsets,
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
