"""Gopher's word statistics for a batch of documents in one compiled pass over integer word ids (numba).

A document's words are never built as strings: each distinct whitespace chunk is split once
(:func:`corpuskit.curate.words.chunk_split`) into vocabulary ids kept in flat tables (chunk -> its word
ids; word id -> length, symbol/alphabetic kind, stop-word slot), a batch becomes one array of
chunk ids plus per-document offsets (:class:`corpuskit.curate.chunk_index.ChunkIndex`, compiled: no Python
work per chunk occurrence), and one kernel call gives every document's word count, word characters, symbol
and non-alphabetic word counts, distinct stop words and n-gram repetition numerators
(:func:`corpuskit.curate.ngrams.ngram_chars`). Python touches only the batch's new chunks: all-letter ones
in bulk, the others through the splitter.
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from numba import njit

from corpuskit.curate.chunk_index import ChunkIndex, grown
from corpuskit.curate.ngrams import DUP_NGRAMS, TOP_NGRAMS, ngram_chars
from corpuskit.curate.words import _ALPHA_EXCEPTIONS, chunk_split, split_chunks, word_kind

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
        self.a = grown(self.a, need)
        self.a[self.n : need] = values
        self.n = need

    def view(self) -> np.ndarray:
        return self.a[: self.n]


class _Tables:
    """The flat tables the kernel reads, one row per chunk id of :attr:`index` and one per word id of
    :attr:`words`; :meth:`add` fills the rows of a batch's new chunks and words."""

    def __init__(self) -> None:
        self.reset()

    def __len__(self) -> int:
        return len(self.index)

    def reset(self) -> None:
        self.index = ChunkIndex()
        self.words = ChunkIndex()  # word -> word id (words have no whitespace: each is one "chunk")
        self.word_len = _Grow()
        self.word_kind = _Grow()  # per word: 1 = symbol only, + 2 = no letter (words.word_kind)
        self.chunk_start, self.chunk_words = _Grow(), _Grow()  # offsets into flat_words
        self.flat_words = _Grow()
        self.split: dict[str, tuple[str, ...]] = {}  # words of the chunks that are not one plain word

    def word_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Word ids of the whitespace-separated words of each text, with per-text offsets; new words get
        their rows."""
        ids, offsets, new = self.words.lookup(texts)
        self.word_len.extend(list(map(len, new)))
        self.word_kind.extend(list(map(word_kind, new)))
        return ids, offsets

    def add(self, new: list[str]) -> None:
        """Rows for ``new``, the chunks that just got the next ids (in id order): all-letter chunks (one word
        each) in bulk, the others through the splitter."""
        plain = np.fromiter((c.isalpha() and c not in _ALPHA_EXCEPTIONS for c in new), bool, len(new))
        where = np.flatnonzero(plain)
        others = list(map(new.__getitem__, np.flatnonzero(~plain).tolist()))
        toks = split_chunks(others)
        self.split.update(zip(others, toks, strict=True))
        nwords = np.ones(len(new), dtype=np.int64)
        nwords[~plain] = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
        words = list(chain.from_iterable(toks))
        flat0 = self.flat_words.n
        starts = np.empty(len(new), dtype=np.int64)
        starts[~plain] = flat0 + np.cumsum(nwords[~plain]) - nwords[~plain]
        starts[where] = flat0 + len(words) + np.arange(len(where))
        self.chunk_words.extend(nwords)
        self.chunk_start.extend(starts)
        words += map(new.__getitem__, where.tolist())
        self.flat_words.extend(self.word_ids([" ".join(words)])[0])


_TABLES = _Tables()


def chunk_words(chunk: str) -> tuple[str, ...]:
    """Words of one whitespace-free chunk (split once per process when it went through :func:`word_stats`)."""
    if chunk.isalpha():
        return _ALPHA_EXCEPTIONS.get(chunk, (chunk,))
    toks = _TABLES.split.get(chunk)
    return toks if toks is not None else chunk_split(chunk)


@njit(cache=True)
def _kernel(
    offsets, chunks, chunk_start, chunk_words, flat_words, word_len, word_kind, stop_slot, top_n, dup_n
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
                kind = word_kind[w]
                n_sym += kind & 1
                sym_chars += (kind & 1) * word_len[w]
                nonalpha += kind >> 1
                m += 1
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
    stops = list(dict.fromkeys(stop_words))
    stop_ids, stop_at = tables.word_ids(stops)
    stop_slot = np.full(tables.word_len.n, -1, dtype=np.int64)
    for k, w in enumerate(stops):
        if w.split() == [w]:  # one word (a stop word with a space in it matches no word)
            stop_slot[stop_ids[stop_at[k]]] = k
    return _kernel(
        offsets,
        chunks,
        tables.chunk_start.view(),
        tables.chunk_words.view(),
        tables.flat_words.view(),
        tables.word_len.view(),
        tables.word_kind.view(),
        stop_slot,
        _TOP,
        _DUP,
    )
