"""Atomic writes: a temp file in the same folder, fsync, rename — readers see all of a file or none of it.

Temp files are named ``.<name>.<random>.tmp``; a process killed mid-write leaves one behind, and
:func:`remove_temp_files` (called by every stage before it writes a folder) cleans them up.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

PARQUET_COMPRESSION = "zstd"
TEMP_SUFFIX = ".tmp"


def _umask_mode() -> int:
    """0666 minus the umask: what a plain open() would give (mkstemp creates files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)``, fsync the result and rename it to ``path``; nothing is left on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Strict JSON (no NaN/Infinity: other tools' parsers reject them), sorted keys, one trailing newline."""
    text = json.dumps(json_safe(obj), indent=2, sort_keys=True, default=str, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode())


def atomic_write_parquet(path: Path, frame: pl.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.write_parquet(tmp, compression=PARQUET_COMPRESSION, statistics=True))


def atomic_write_npy(path: Path, arr: np.ndarray) -> None:
    """An ``.npy`` file (readable with ``np.load(mmap_mode="r")``)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would append .npy to the temporary name
            np.save(f, arr)

    atomic_write(path, write)


def json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def read_json(path: Path) -> Any | None:
    """The JSON in ``path``, or None when it is missing or unreadable (a torn or foreign file)."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def file_digest(path: Path) -> str:
    """blake2b-128 of the file's bytes: the identity that derived attribute files record."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def remove_temp_files(folder: Path) -> int:
    """Remove temp files a killed writer left in ``folder`` (not recursive); returns how many."""
    n = 0
    if Path(folder).is_dir():
        for p in Path(folder).glob(f".*{TEMP_SUFFIX}"):
            p.unlink(missing_ok=True)
            n += 1
    return n
