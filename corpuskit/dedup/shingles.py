"""Text normalisation and shingle hashing, vectorised over a batch of documents.

Near-duplicates differ in case, punctuation and spacing far more often than in words, so texts are
normalised first (as datatrove's ``simplify_text`` does): NFKC, lowercase, punctuation and symbols to
spaces, whitespace collapsed. Shingles are word n-grams (FineWeb's choice, default 5) or character
n-grams for languages written without spaces.

Hashing never calls Python per shingle: the whole batch is joined into one UTF-32 code-point array,
and every shingle is a span of it. A polynomial hash mod 2^64 has prefix sums, so the hash of any span
is ``(S[e] - S[s]) * P^-s`` — one array expression for all shingles of all documents — followed by the
MurmurHash3 64-bit finaliser. The hash of a span is the hash of the shingle's text, whatever document
or position it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

Unit = Literal["word", "char"]

_SEP = 0  # code point joining documents in a batch (removed from texts by normalisation)
_SPACE = 32
_BASE = np.uint64(0x100000001B3 * 2 + 1)  # odd, so it is invertible mod 2^64
_BASE_INV = np.uint64(pow(int(_BASE), -1, 1 << 64))
_M1, _M2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def normalize_expr(col: str | pl.Expr = "text") -> pl.Expr:
    """Polars expression giving the normalised text used for shingles and exact-duplicate hashes."""
    e = pl.col(col) if isinstance(col, str) else col
    return (
        e.fill_null("")
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"[\p{P}\p{S}\p{Cc}\p{Cf}\s]+", " ")  # one pass: punctuation and spacing
        .str.strip_chars(" ")
    )


def normalize(texts: list[str] | pl.Series) -> pl.Series:
    s = texts if isinstance(texts, pl.Series) else pl.Series("text", texts, dtype=pl.String)
    return s.to_frame("text").select(normalize_expr("text"))["text"]


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 64-bit finaliser: spreads the weak low bits of the polynomial hash over all 64."""
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


class _Powers:
    """P^j and P^-j mod 2^64, grown on demand and shared by all batches of a process."""

    def __init__(self) -> None:
        self.pw = np.ones(1, dtype=np.uint64)
        self.ipw = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.pw) < n:
            m = -(-n // (1 << 20)) * (1 << 20)  # round up to 1M entries: bounded, few regrowths
            self.pw, self.ipw = np.full(m, _BASE, dtype=np.uint64), np.full(m, _BASE_INV, dtype=np.uint64)
            self.pw[0] = self.ipw[0] = 1
            np.cumprod(self.pw, out=self.pw)
            np.cumprod(self.ipw, out=self.ipw)
        return self.pw[:n], self.ipw[:n]


_POWERS = _Powers()


@dataclass(frozen=True)
class ShingleSpec:
    ngram: int = 5
    unit: Unit = "word"


@dataclass
class Spans:
    """Shingle spans of a batch: code points, per-shingle [start, end) and per-document offsets."""

    codepoints: np.ndarray  # uint32, documents joined by _SEP
    doc_start: np.ndarray  # int64 (D,): first code point of each document
    doc_len: np.ndarray  # int64 (D,): code points per document
    start: np.ndarray  # int64 (S,)
    end: np.ndarray  # int64 (S,)
    offsets: np.ndarray  # int64 (D+1,): shingles of document d are [offsets[d], offsets[d+1])


def _joined_codepoints(normalized: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lens = normalized.str.len_chars().fill_null(0).to_numpy().astype(np.int64)
    joined = "\x00".join(normalized.fill_null("").to_list())
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    starts = np.zeros(len(lens), dtype=np.int64)
    if len(lens) > 1:
        starts[1:] = np.cumsum(lens[:-1] + 1)
    return cps, starts, lens


def shingle_spans(normalized: pl.Series, spec: ShingleSpec) -> Spans:
    """All shingle spans of a batch of normalised texts (one short text gives one shingle, empty none)."""
    cps, dstart, dlen = _joined_codepoints(normalized)
    n = spec.ngram
    ndoc = len(dlen)
    if spec.unit == "char":
        nsh = np.where(dlen >= n, dlen - n + 1, (dlen > 0).astype(np.int64))
        offsets = np.concatenate([[0], np.cumsum(nsh)]).astype(np.int64)
        sdoc = np.repeat(np.arange(ndoc), nsh)
        j = np.arange(offsets[-1], dtype=np.int64) - offsets[sdoc]
        start = dstart[sdoc] + j
        end = start + np.minimum(n, dlen[sdoc])
        return Spans(cps, dstart, dlen, start, end, offsets)
    sep = (cps == _SPACE) | (cps == _SEP)
    word = ~sep
    prev_sep = np.concatenate([[True], sep[:-1]])
    next_sep = np.concatenate([sep[1:], [True]])
    wstart = np.flatnonzero(word & prev_sep)
    wend = np.flatnonzero(word & next_sep) + 1
    wdoc = np.searchsorted(dstart, wstart, side="right") - 1
    nword = np.bincount(wdoc, minlength=ndoc).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(nword)[:-1]]).astype(np.int64)
    nsh = np.where(nword >= n, nword - n + 1, (nword > 0).astype(np.int64))
    offsets = np.concatenate([[0], np.cumsum(nsh)]).astype(np.int64)
    sdoc = np.repeat(np.arange(ndoc), nsh)
    sw = first[sdoc] + (np.arange(offsets[-1], dtype=np.int64) - offsets[sdoc])
    ew = np.minimum(sw + n - 1, first[sdoc] + nword[sdoc] - 1)
    return Spans(cps, dstart, dlen, wstart[sw], wend[ew], offsets)


def span_hashes(cps: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """64-bit hashes of the code-point spans [start, end): equal text gives an equal hash."""
    pw, ipw = _POWERS.get(len(cps) + 1)
    prefix = np.zeros(len(cps) + 1, dtype=np.uint64)
    np.cumsum(cps.astype(np.uint64) * pw[: len(cps)], out=prefix[1:])
    h = (prefix[end] - prefix[start]) * ipw[start]
    return fmix64(h ^ (end - start).astype(np.uint64))


def shingle_hashes(normalized: pl.Series, spec: ShingleSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shingle hashes uint64, offsets (D+1), whole-text hashes uint64 (D,)) for a normalised batch."""
    sp = shingle_spans(normalized, spec)
    both = span_hashes(
        sp.codepoints,
        np.concatenate([sp.start, sp.doc_start]),
        np.concatenate([sp.end, sp.doc_start + sp.doc_len]),
    )
    return both[: len(sp.start)], sp.offsets, both[len(sp.start) :]


def shingle_texts(normalized: str, spec: ShingleSpec) -> list[bytes]:
    """The shingles of one normalised text as UTF-8 bytes — what datasketch users feed ``update_batch``."""
    n = spec.ngram
    if spec.unit == "char":
        if not normalized:
            return []
        if len(normalized) < n:
            return [normalized.encode()]
        return [normalized[i : i + n].encode() for i in range(len(normalized) - n + 1)]
    words = normalized.split()
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words).encode()]
    return [" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)]
