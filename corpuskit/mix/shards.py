"""Token shards of a mixture: flat little-endian uint16/uint32 arrays like nanoGPT's ``.bin`` files.

A mixture folder holds ``tokens-00000.uint16.bin`` (or ``.uint32.bin``), ... and ``manifest.json``. The
dtype is in every file name, so a nanoGPT-style loader that reads ``.bin`` files without the manifest
cannot misread a uint32 mixture as uint16. Each document is followed by the
end-of-text token, so a training window may span documents exactly as in GPT-2 / nanoGPT training.
The manifest's ``"format"`` block says how to read the shards; :func:`open_mixture` memory-maps them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.store.atomic import atomic_write_json

SHARD_TOKENS = 100_000_000  # ~200 MB per uint16 shard


def dtype_for_vocab(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 2**16 else np.dtype("<u4")


class ShardWriter:
    """Appends token arrays to numbered shards; each shard is written to a temp name and renamed."""

    def __init__(self, directory: Path, vocab_size: int, shard_tokens: int = SHARD_TOKENS):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.dtype = dtype_for_vocab(vocab_size)
        self.shard_tokens = shard_tokens
        self.shards: list[str] = []
        self.total_tokens = 0
        self._fh = None
        self._tmp: Path | None = None
        self._in_shard = 0

    def _open(self) -> None:
        name = f"tokens-{len(self.shards):05d}.{self.dtype.name}.bin"  # e.g. tokens-00000.uint16.bin
        self._tmp = self.directory / f".{name}.tmp"
        self._fh = open(self._tmp, "wb")
        self.shards.append(name)
        self._in_shard = 0

    def _close(self) -> None:
        if self._fh is None:
            return
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self._tmp, self.directory / self.shards[-1])
        self._fh = None

    def write(self, tokens: np.ndarray) -> None:
        arr = np.asarray(tokens).astype(self.dtype, copy=False)
        while arr.size:
            if self._fh is None or self._in_shard >= self.shard_tokens:
                self._close()
                self._open()
            take = min(arr.size, self.shard_tokens - self._in_shard)
            self._fh.write(arr[:take].tobytes())
            self._in_shard += take
            self.total_tokens += take
            arr = arr[take:]

    def finish(self) -> dict[str, Any]:
        """Close the last shard; returns the manifest's ``format`` block."""
        self._close()
        return {"dtype": self.dtype.str, "shards": list(self.shards), "total_tokens": self.total_tokens}


@dataclass
class Mixture:
    """A memory-mapped mixture: ``tokens`` is one array per shard, never loaded into RAM whole."""

    path: Path
    manifest: dict[str, Any]
    shards: list[np.memmap]

    @property
    def total_tokens(self) -> int:
        return int(sum(s.size for s in self.shards))

    @property
    def eot_id(self) -> int:
        return int(self.manifest["tokenizer"]["eot_id"])

    @property
    def vocab_size(self) -> int:
        return int(self.manifest["tokenizer"]["vocab_size"])

    def tokenizer(self):
        from corpuskit.mix.tokenizer import load_tokenizer

        spec = self.manifest["tokenizer"]["path"]
        p = Path(spec)
        return load_tokenizer(spec if spec == "bytes" or p.is_absolute() else self.path / p)

    def sample_batch(self, rng: np.random.Generator, batch_size: int, context: int) -> np.ndarray:
        """``batch_size`` random windows of ``context + 1`` tokens (inputs + shifted targets), int64.

        Shards are chosen in proportion to their length, so every token is equally likely to be drawn.
        """
        sizes = np.array([s.size - context - 1 for s in self.shards], dtype=np.int64)
        if (sizes <= 0).all():
            raise ValueError(f"{self.path}: mixture has fewer than context+1={context + 1} tokens per shard")
        sizes = np.clip(sizes, 0, None)
        which = rng.choice(len(self.shards), size=batch_size, p=sizes / sizes.sum())
        out = np.empty((batch_size, context + 1), dtype=np.int64)
        for i, s in enumerate(which):
            start = int(rng.integers(0, sizes[s]))
            out[i] = self.shards[s][start : start + context + 1]
        return out

    def iter_sequential(self, context: int) -> Iterator[np.ndarray]:
        """Disjoint windows of ``context + 1`` tokens in order (for deterministic full passes)."""
        for s in self.shards:
            for start in range(0, s.size - context - 1, context):
                yield np.asarray(s[start : start + context + 1], dtype=np.int64)


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    atomic_write_json(Path(directory) / "manifest.json", manifest)


def open_mixture(path: Path | str) -> Mixture:
    """Open a mixture folder written by ``corpuskit mix`` (memory-mapped, read-only)."""
    p = Path(path)
    mpath = p / "manifest.json"
    if not mpath.exists():
        raise FileNotFoundError(f"{p}: not a mixture folder (no manifest.json); run `corpuskit mix` first")
    manifest = json.loads(mpath.read_text())
    fmt = manifest["format"]
    dtype = np.dtype(fmt["dtype"])
    shards = [np.memmap(p / name, dtype=dtype, mode="r") for name in fmt["shards"]]
    return Mixture(p, manifest, shards)
