"""Opening local inputs as byte streams, with transparent decompression chosen by file name.

Zstandard streams are opened with a 2 GiB window (``max_window_size=2**31``): pushshift's Reddit
dumps are compressed with ``--long=31`` and fail with "frame requires too much memory" otherwise.
Decompression errors (truncated or corrupt archives) surface as :data:`STREAM_ERRORS` while reading,
so callers can turn them into a Skip and keep what they already read.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

ZSTD_MAX_WINDOW = 2**31

#: exceptions a decompressing reader raises on a truncated or corrupt archive
STREAM_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    OSError,  # gzip.BadGzipFile is an OSError
    zlib.error,
    lzma.LZMAError,
    zstandard.ZstdError,
)


def compression_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in ((".gz", "gzip"), (".zst", "zstd"), (".bz2", "bz2"), (".xz", "xz")):
        if name.endswith(suffix):
            return kind
    return None


def open_bytes(path: Path) -> BinaryIO:
    """A buffered binary reader of the decompressed content of ``path``."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    if kind == "zstd":
        return open_zstd(path)
    return open(path, "rb")  # closed by the caller


def open_zstd(path: Path) -> BinaryIO:
    """A zstd file's content, with bounded memory; raises ``ZstdError`` at the end of a truncated file."""
    return io.BufferedReader(_ZstdRaw(path), buffer_size=1 << 20)  # type: ignore[return-value]


class TruncatedStream(EOFError):
    """A compressed stream that ends in the middle of a frame (a cut file or download)."""


class _ZstdRaw(io.RawIOBase):
    """Multi-frame zstd reader with bounded memory that *notices truncation*.

    ``stream_reader`` bounds memory (it fills the caller's buffer, whatever the compression ratio;
    ``decompressobj`` would return a whole chunk's output, megabytes for repetitive dumps), but it
    returns a silent EOF when a file stops mid-frame, so a cut-off dump would look complete. At EOF
    the frame structure is therefore checked with :func:`zstd_frames_complete` (headers only, no
    decompression) and a truncated file raises ``ZstdError``.
    """

    def __init__(self, path: Path):
        self._path = path
        self._fh = open(path, "rb")  # noqa: SIM115 - closed in close()
        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._reader = dctx.stream_reader(self._fh, read_size=1 << 16, read_across_frames=True, closefd=False)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._reader.readinto(b)
        if n == 0 and len(b) and not zstd_frames_complete(self._path):
            raise TruncatedStream("zstd stream ends in the middle of a frame (truncated file)")
        return n

    def close(self) -> None:
        if not self.closed:
            self._reader.close()
            self._fh.close()
        super().close()


def zstd_frames_complete(path: Path) -> bool:
    """Whether ``path`` is a sequence of whole zstd (or skippable) frames, by walking block headers."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            magic = fh.read(4)
            if len(magic) < 4:
                return False
            m = int.from_bytes(magic, "little")
            if 0x184D2A50 <= m <= 0x184D2A5F:  # skippable frame: 4-byte length, then data
                n = fh.read(4)
                if len(n) < 4:
                    return False
                pos += 8 + int.from_bytes(n, "little")
                continue
            if m != 0xFD2FB528:
                return False
            desc = fh.read(1)
            if not desc:
                return False
            d = desc[0]
            single = (d >> 5) & 1
            fcs = (0, 2, 4, 8)[d >> 6] or (1 if single else 0)
            header = 1 + (0 if single else 1) + (0, 1, 2, 4)[d & 3] + fcs
            pos += 4 + header
            while True:  # blocks: 3-byte header (last flag, type, size)
                fh.seek(pos)
                bh = fh.read(3)
                if len(bh) < 3:
                    return False
                h = int.from_bytes(bh, "little")
                last, btype, bsize = h & 1, (h >> 1) & 3, h >> 3
                pos += 3 + (1 if btype == 1 else bsize)  # an RLE block stores one byte
                if last:
                    break
            pos += 4 if (d >> 2) & 1 else 0  # content checksum
            if pos > size:
                return False
    return pos == size


def strip_compression_suffix(name: str) -> str:
    lower = name.lower()
    for suffix in (".gz", ".zst", ".bz2", ".xz"):
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name
