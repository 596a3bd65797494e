"""Text normalisation and shingle hashing, vectorised over a batch of documents.

Near-duplicates differ in case, punctuation and spacing far more often than in words, so texts are
normalised first (as datatrove's ``simplify_text`` does): NFKC, lowercase, punctuation and symbols to
spaces, whitespace collapsed. Shingles are word n-grams (FineWeb's choice, default 5) or character
n-grams for languages written without spaces.

Hashing never calls Python per shingle: the whole batch is joined into one UTF-32 code-point array.
A span ``[s, e)`` hashes to the polynomial ``sum_k v[s+k] * P^k`` mod 2^64 (xor its length), followed
by the MurmurHash3 64-bit finaliser. Character spans use prefix sums (``(S[e] - S[s]) * P^-s``, one array
expression for all spans); word shingles use one compiled pass per document
(:mod:`corpuskit.dedup.kernels`), which computes the same values without the prefix-sum temporaries.

Word shingles are hashed in two levels: each word is a code-point span, and each shingle is a span of
the *word-hash* sequence. A shingle's hash then depends only on its words, never on the separators
between them, so the raw text needs no rewriting: :func:`text_shingle_hashes` marks separator code
points with a lookup table and gives exactly the hashes :func:`shingle_hashes` gives on
:func:`normalize`'s output, without building the normalised strings (the regex rewrite was ~40% of
the signature time). The whole-text hash (exact dedup) is the hash of the document's word sequence,
which is equal exactly when the normalised texts are equal.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

Unit = Literal["word", "char"]

#: What normalisation turns into spaces: punctuation, symbols, controls, format characters, whitespace.
SEPARATOR_CLASS = r"[\p{P}\p{S}\p{Cc}\p{Cf}\s]"
_SEP = 0  # code point joining documents in a batch (a control character, so always a separator)
_BASE = np.uint64(0x100000001B3 * 2 + 1)  # odd, so it is invertible mod 2^64
_BASE_INV = np.uint64(pow(int(_BASE), -1, 1 << 64))
HASH_BASE = _BASE  # the polynomial base, shared with the compiled kernels
#: MurmurHash3's 64-bit finaliser constants, in the order :func:`fmix` uses them (shift, multiplier, ...).
FMIX64 = tuple(np.uint64(c) for c in (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33))


def fold(texts: Sequence[str | None]) -> list[str]:
    """NFKC then lowercase, per text (None is empty).

    NFKC is the identity on ASCII, and ``str.isascii`` reads a flag CPython keeps on every string, so
    ASCII texts skip it; CPython's NFKC quick-check also makes it ~2.5x faster than polars' on mixed text
    (most non-ASCII text is already normalised)."""
    nfkc = unicodedata.normalize
    return ["" if t is None else t.lower() if t.isascii() else nfkc("NFKC", t).lower() for t in texts]


def as_strings(texts: Sequence[str | None]) -> list[str]:
    return ["" if t is None else t for t in texts]


def _as_list(texts: Sequence[str | None] | pl.Series) -> list[str | None]:
    return texts.to_list() if isinstance(texts, pl.Series) else list(texts)


def normalize(texts: Sequence[str | None] | pl.Series) -> pl.Series:
    """The normalised texts used for shingles and exact-duplicate hashes (and datasketch mode's input)."""
    folded = pl.Series("text", fold(_as_list(texts)), dtype=pl.String)
    return folded.str.replace_all(SEPARATOR_CLASS + "+", " ").str.strip_chars(" ")


@functools.cache
def separator_table() -> np.ndarray:
    """Boolean table over all code points: True where normalisation makes the character a space.

    Built once per process (~50 ms) by running :data:`SEPARATOR_CLASS` itself over every code point, so
    the table agrees with :func:`normalize`'s regex by construction, Unicode version included."""
    cps = np.arange(0x110000, dtype=np.uint32)
    cps = cps[(cps < 0xD800) | (cps > 0xDFFF)]  # surrogates are not characters
    every = pl.Series([cps.tobytes().decode("utf-32-le")])
    marked = every.str.replace_all(SEPARATOR_CLASS, "\x00")[0]  # one character per match: same length
    table = np.zeros(0x110000, dtype=bool)
    table[cps] = np.frombuffer(marked.encode("utf-32-le"), dtype=np.uint32) == 0
    return table


def fmix(h: np.ndarray, constants: tuple[np.integer, ...]) -> np.ndarray:
    """MurmurHash3's finaliser (xor-shift, multiply, xor-shift, multiply, xor-shift); the 32- and 64-bit
    variants differ only in ``constants`` (:data:`FMIX64`, ``minhash.FMIX32``), of ``h``'s dtype."""
    s1, m1, s2, m2, s3 = constants
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 64-bit finaliser: spreads the weak low bits of the polynomial hash over all 64."""
    return fmix(h, FMIX64)


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


def joined_codepoints(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code points of the texts joined by _SEP, first code point of each text, code points per text)."""
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32)
    starts = np.zeros(len(lens), dtype=np.int64)
    if len(lens) > 1:
        starts[1:] = np.cumsum(lens[:-1] + 1)
    return cps, starts, lens


def span_hashes(values: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """64-bit hashes of the spans [start, end) of ``values``: equal sequences give equal hashes."""
    pw, ipw = _POWERS.get(len(values) + 1)
    prefix = np.empty(len(values) + 1, dtype=np.uint64)
    prefix[0] = 0
    body = prefix[1:]
    np.multiply(values, pw[: len(values)], out=body, dtype=np.uint64)  # in place: code points are many
    np.cumsum(body, out=body)
    h = prefix[end]
    h -= prefix[start]
    h *= ipw[start]
    h ^= (end - start).astype(np.uint64)
    return fmix64(h)


def _counts_to_offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def word_kernel(kernel, texts: Sequence[str | None], raw: bool, n: int, *args, counts_at: int):
    """``kernel(texts, table, n, base, *args)`` over a batch of raw (folded as :func:`normalize`
    does) or normalised texts; returns (result, indices of texts folded in Python, result on those or
    None): see :func:`corpuskit.dedup.folding.fold_in_python`. ``result[counts_at]`` are shingle counts."""
    from corpuskit.dedup.folding import fold_in_python
    from corpuskit.dedup.textscan import on_strings

    def run(batch: list[str], table: np.ndarray):
        return on_strings(kernel, batch, table, n, _BASE, *args)

    return fold_in_python(as_strings(texts), raw, run, lambda r: r[counts_at])


def _word_shingle_hashes(
    texts: Sequence[str | None], raw: bool, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Word n-gram hashes (see module doc), one compiled pass over the batch."""
    from corpuskit.dedup.kernels import word_shingles

    if not len(texts):
        return np.zeros(0, np.uint64), np.zeros(1, np.int64), np.zeros(0, np.uint64)
    (h, counts, text_hash), idx, again = word_kernel(word_shingles, texts, raw, n, counts_at=1)
    if again is not None:  # splice the re-hashed texts' shingles in at their places
        h2, counts[idx], text_hash[idx] = again
        second = np.zeros(len(counts), dtype=bool)
        second[idx] = True
        of_second = np.repeat(second, counts)
        merged = np.empty(len(of_second), dtype=np.uint64)
        merged[~of_second], merged[of_second] = h, h2
        h = merged
    return h, _counts_to_offsets(counts), text_hash


def _char_shingle_hashes(normalized: list[str], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cps, dstart, dlen = joined_codepoints(normalized)
    nsh = np.where(dlen >= n, dlen - n + 1, (dlen > 0).astype(np.int64))
    offsets = _counts_to_offsets(nsh)
    start = np.arange(offsets[-1], dtype=np.int64) + np.repeat(dstart - offsets[:-1], nsh)
    end = start + np.repeat(np.minimum(n, dlen), nsh)
    both = span_hashes(cps, np.concatenate([start, dstart]), np.concatenate([end, dstart + dlen]))
    return both[: len(start)], offsets, both[len(start) :]


def shingle_hashes(
    normalized: pl.Series | Sequence[str | None], spec: ShingleSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shingle hashes uint64, offsets (D+1), whole-text hashes uint64 (D,)) for *normalised* texts.

    One short text gives one shingle, an empty one none: shingles of document d are
    ``[offsets[d], offsets[d+1])``."""
    texts = as_strings(_as_list(normalized))
    if spec.unit == "char":
        return _char_shingle_hashes(texts, spec.ngram)
    return _word_shingle_hashes(texts, False, spec.ngram)


def text_shingle_hashes(
    texts: pl.Series | Sequence[str | None], spec: ShingleSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``shingle_hashes(normalize(texts), spec)`` for raw texts, without building the normalised strings
    for word shingles (folded by table, separators found with :func:`separator_table`, no regex rewrite)."""
    if spec.unit == "char":
        return shingle_hashes(normalize(texts), spec)
    return _word_shingle_hashes(_as_list(texts), True, spec.ngram)


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
