"""Whitespace chunks of a batch of texts to integer chunk ids in one compiled pass (numba).

Why: a batch of 10k documents has ~3.3M whitespace chunks but only ~0.5M distinct ones. Splitting the
texts with ``str.split()`` and looking every chunk up in a dict costs Python work per *occurrence*
(list building, hashing, ``np.fromiter``), more than the statistics kernel itself. Here the batch's code
points (one UTF-32 buffer) are scanned once: chunks are cut at exactly ``str.isspace`` characters (what
``str.split()`` splits on), hashed, and looked up in an open-addressing table whose matches are checked code
point by code point against a stored copy (exact, no hash-collision risk). Chunks never seen get the next
ids in order of first appearance, and only they come back to Python, as (start, length) in the buffer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# str.isspace code points (all are below U+3001; tests/curate/test_chunk_index.py checks every code point)
_SPACE_LIMIT = 0x3001
IS_SPACE = np.array([chr(i).isspace() for i in range(_SPACE_LIMIT)], dtype=np.bool_)
_MUL = np.uint64(0x9E3779B97F4A7C15)
_FNV = np.uint64(0x100000001B3)


@njit(cache=True)
def _same(buf, a, arena, b, n):
    for q in range(n):
        if buf[a + q] != arena[b + q]:
            return False
    return True


@njit(cache=True)
def _scan(buf, doc_start, doc_end, d, out, m, offsets, is_space, slots, arena, ids, n_ids):
    """Chunk ids of the chunks of documents d, d+1, ... into ``out[m:]`` and ``offsets[d + 1:]``; stops
    before a document that might not fit (``out``, the per-id arrays or a half-full ``slots``; slot value
    = id + 1, 0 = empty) and returns (next document, m, n_ids) so that the caller grows them and resumes.
    A new chunk's start is stored as ``-1 - position`` in ``buf`` until :func:`_store` copies it."""
    limit = is_space.shape[0]
    mask = slots.shape[0] // 2 - 1
    while d < doc_start.shape[0]:
        p, end = doc_start[d], doc_end[d]
        worst = (end - p + 1) // 2
        if m + worst > out.shape[0] or 2 * (n_ids + worst) > ids.shape[0] or 2 * (n_ids + worst) > mask + 1:
            break
        while p < end:
            c = buf[p]
            if c < limit and is_space[c]:
                p += 1
                continue
            a = p
            h = np.uint64(0xCBF29CE484222325)
            while p < end:
                c = buf[p]
                if c < limit and is_space[c]:
                    break
                h = (h ^ np.uint64(c)) * _FNV
                p += 1
            n = p - a
            i = np.int64((h * _MUL) >> np.uint64(33)) & mask
            while True:
                k = slots[2 * i + 1]
                if k == 0:
                    cid = n_ids
                    n_ids += 1
                    slots[2 * i] = h
                    slots[2 * i + 1] = np.uint64(cid + 1)
                    ids[2 * cid] = -1 - a
                    ids[2 * cid + 1] = n
                    break
                cid = np.int64(k) - 1
                if slots[2 * i] == h and ids[2 * cid + 1] == n:
                    s = ids[2 * cid]
                    if (s >= 0 and _same(buf, a, arena, s, n)) or (s < 0 and _same(buf, a, buf, -1 - s, n)):
                        break
                i = (i + 1) & mask
            out[m] = cid
            m += 1
        d += 1
        offsets[d] = m
    return d, m, n_ids


@njit(cache=True)
def _store(buf, arena, arena_n, ids, first, last):
    """Copy the new chunks (ids first..last-1, negative starts) into the arena; returns its new fill."""
    for cid in range(first, last):
        s, n = -1 - ids[2 * cid], ids[2 * cid + 1]
        arena[arena_n : arena_n + n] = buf[s : s + n]
        ids[2 * cid] = arena_n
        arena_n += n
    return arena_n


@njit(cache=True)
def _rehash(old, size):
    slots = np.zeros(2 * size, dtype=np.uint64)
    mask = size - 1
    for j in range(old.shape[0] // 2):
        if old[2 * j + 1]:
            h = old[2 * j]
            i = np.int64((h * _MUL) >> np.uint64(33)) & mask
            while slots[2 * i + 1]:
                i = (i + 1) & mask
            slots[2 * i] = h
            slots[2 * i + 1] = old[2 * j + 1]
    return slots


def _grown(a: np.ndarray, need: int) -> np.ndarray:
    if need <= a.shape[0]:
        return a
    b = np.zeros(max(need, 2 * a.shape[0]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


class ChunkIndex:
    """Distinct whitespace chunks seen so far, each with an id (0, 1, ... in order of first appearance)."""

    def __init__(self) -> None:
        self.slots = np.zeros(2 << 16, dtype=np.uint64)  # per slot: chunk hash, chunk id + 1 (0 = empty)
        self.ids = np.zeros(2 << 15, dtype=np.int64)  # per chunk id: start in the arena, length
        self.arena = np.zeros(1 << 16, dtype=np.uint32)  # code points of every chunk, one after another
        self.arena_n = 0
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def lookup(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(chunk ids of all texts in order, per-text offsets into them, the new chunks in id order)."""
        joined = "\n".join(texts)  # a newline never belongs to a chunk, so no chunk spans two texts
        buf = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        start = np.zeros(len(texts), dtype=np.int64)
        np.cumsum(lens[:-1] + 1, out=start[1:])
        worst = (lens + 1) // 2  # chunks a text can have at most
        out = np.empty(max(1024, buf.shape[0] // 4), dtype=np.int64)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        end = start + lens
        d = m = 0
        n_ids = self.n
        while True:
            d, m, n_ids = _scan(
                buf, start, end, d, out, m, offsets, IS_SPACE, self.slots, self.arena, self.ids, n_ids
            )
            if d == len(texts):
                break
            w = int(worst[d])  # text d might not fit: grow what is short, resume there
            out = _grown(out, m + w)
            self.ids = _grown(self.ids, 2 * (n_ids + w))
            size = self.slots.shape[0] // 2
            while size < 2 * (n_ids + w):
                size *= 2
            if size != self.slots.shape[0] // 2:
                self.slots = _rehash(self.slots, size)
        first, last = self.n, n_ids
        meta = self.ids[2 * first : 2 * last]
        self.arena = _grown(self.arena, self.arena_n + int(meta[1::2].sum()))
        starts = (-1 - meta[::2]).tolist()
        new = [joined[s : s + n] for s, n in zip(starts, meta[1::2].tolist(), strict=True)]
        self.arena_n = _store(buf, self.arena, self.arena_n, self.ids, first, last)
        self.n = last
        return out[:m], offsets, new
