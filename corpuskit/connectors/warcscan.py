"""Reading past damage in WARC files: record offsets, resync points, truncation checks.

warcio stops at the first corrupt gzip member or malformed header; these helpers tell a truncated file
from a malformed record and find the next plausible record start, so the connector can count the loss
and keep the rest of the file.
"""

from __future__ import annotations

import gzip
import zlib
from typing import IO, Any

from corpuskit.connectors.base import TRUNCATED


def offset_after(raw: IO[bytes], n: int) -> int:
    """Uncompressed offset of record ``n`` (0-based) in a decompressed stream."""
    raw.seek(0)
    it = quiet_iterator(raw)
    for i, _rec in enumerate(it):
        if i + 1 >= n:
            it.read_to_end()
            return it.offset
    return 0


def find_next_record(raw: IO[bytes], pos: int, per_record_gzip: bool) -> int | None:
    """Offset of the next plausible record start at or after ``pos`` (gzip member or ``WARC/1.``)."""
    pattern = b"\x1f\x8b\x08" if per_record_gzip else b"\nWARC/1."
    skip = 0 if per_record_gzip else 1
    try:
        raw.seek(pos)
    except (OSError, ValueError):  # a nonsense offset from a mangled record: nothing further to find
        return None
    carry = b""
    base = pos
    while True:
        chunk = raw.read(1 << 20)
        if not chunk:
            return None
        buf = carry + chunk
        i = buf.find(pattern)
        if i >= 0:
            return base - len(carry) + i + skip
        carry = buf[-(len(pattern) - 1) :]
        base += len(chunk)


def _gunzip() -> Any:
    """A gzip decompressor for warcio's record stream: ISA-L's (``isal``, same interface as zlib's, ~1.7x
    faster on these pages; gunzip is a fifth of a resiliparse ingest) when installed, else zlib's."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    return isal_zlib.decompressobj(isal_zlib.MAX_WBITS | 16)


def quiet_iterator(raw: IO[bytes]) -> Any:
    """A warcio iterator that does not print its Content-Length warning to stderr (it garbles progress
    bars); the record it warns about is still read, and real breakage raises and is counted. Its gzip
    members are inflated by :func:`_gunzip` (warcio keeps zlib for HTTP Content-Encoding)."""
    from warcio.archiveiterator import ArchiveIterator

    class _Quiet(ArchiveIterator):
        INC_RECORD = ""

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.reader.DECOMPRESSORS = {**self.reader.DECOMPRESSORS, "gzip": _gunzip}
            self.reader.set_decomp("gzip")  # nothing read yet: the first member uses it too

    return _Quiet(raw, check_digests=False)


def peek_decompressed(raw: IO[bytes], gz: bool) -> bytes:
    raw.seek(0)
    if not gz:
        return raw.read(64)
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(raw.read(4096), 64)
    except zlib.error:
        return b""


def first_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return " ".join(lines[:2])[:300] or type(e).__name__


def unread_tail(raw: IO[bytes], offset: int, whole_gzip: bool) -> str | None:
    """After warcio stops: a skip reason when bytes remain that it did not read as records, else None."""
    if whole_gzip:
        return None  # GzipFile raises EOFError itself on a cut stream
    raw.seek(offset)
    rest = raw.read(1 << 16)
    if not rest.strip(b"\r\n\x00 "):
        return None
    if rest[:2] == b"\x1f\x8b":
        return TRUNCATED if gzip_broken_at(raw, offset, False) else None
    return "truncated_record"


def gzip_broken_at(raw: IO[bytes], offset: int, whole_gzip: bool) -> bool:
    """True when the gzip data from ``offset`` ends early or is corrupt (a cut download, a bad disk).

    Checked only after a parse failure, to tell a truncated file from a malformed record; warcio itself
    just sees fewer bytes.
    """
    try:
        if whole_gzip:
            raw.seek(offset)
            while raw.read(1 << 20):
                pass
            return False
        raw.seek(0)
        if raw.read(2) != b"\x1f\x8b":
            return False
        raw.seek(offset)
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        while not d.eof:
            chunk = raw.read(1 << 16)
            if not chunk:
                return True
            d.decompress(chunk)
        return False
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError):
        return True
