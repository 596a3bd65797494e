"""Export a mixture as a Megatron-LM indexed dataset (``<prefix>.bin`` + ``<prefix>.idx``).

The ``.idx`` layout is Megatron core's ``IndexedDataset`` (format version 1): the header
``MMIDIDX\\0\\0``, ``<Q`` version, ``<B`` dtype code, ``<Q`` sequence count, ``<Q`` document-index count,
then int32 sequence lengths, int64 byte pointers into ``.bin`` and int64 document indices. Each document of
the mixture (its tokens and its end-of-text token, as Megatron's ``--append-eod`` writes them) is one
sequence and one document. Streaming: shards are read in chunks, only the per-document lengths are held.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.mix.shards import open_mixture
from corpuskit.store.atomic import atomic_write

HEADER = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}  # Megatron's codes; it has no uint32
CHUNK = 1 << 24


def export_megatron(mixture: Path | str, prefix: Path | str) -> dict[str, Any]:
    mix = open_mixture(mixture)
    dtype = np.dtype(np.uint16) if mix.shards and mix.shards[0].dtype.itemsize == 2 else np.dtype(np.int32)
    eot = mix.eot_id
    prefix = Path(prefix)
    bin_path, idx_path = prefix.with_name(prefix.name + ".bin"), prefix.with_name(prefix.name + ".idx")
    lengths: list[int] = []

    def write_bin(tmp: str) -> None:
        pending = 0  # tokens of the document in progress (it may continue in the next chunk or shard)
        with open(tmp, "wb") as out:
            for shard in mix.shards:
                for lo in range(0, shard.size, CHUNK):
                    chunk = np.asarray(shard[lo : lo + CHUNK])
                    out.write(chunk.astype(dtype, copy=False).tobytes())
                    ends = np.flatnonzero(chunk == eot) + 1  # one past each end-of-text
                    if ends.size:
                        first = pending + int(ends[0])
                        lengths.append(first)
                        lengths.extend(np.diff(ends).tolist())
                        pending = chunk.size - int(ends[-1])
                    else:
                        pending += chunk.size
            if pending:
                lengths.append(pending)  # a last document without end-of-text (never written by mix)

    atomic_write(bin_path, write_bin)
    sizes = np.asarray(lengths, dtype=np.int32)
    pointers = np.zeros(len(sizes), dtype=np.int64)
    if len(sizes) > 1:
        pointers[1:] = np.cumsum(sizes[:-1].astype(np.int64) * dtype.itemsize)
    doc_idx = np.arange(len(sizes) + 1, dtype=np.int64)

    def write_idx(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(HEADER)
            f.write(struct.pack("<Q", VERSION))
            f.write(struct.pack("<B", DTYPE_CODES[dtype]))
            f.write(struct.pack("<Q", len(sizes)))
            f.write(struct.pack("<Q", len(doc_idx)))
            f.write(sizes.tobytes(order="C"))
            f.write(pointers.tobytes(order="C"))
            f.write(doc_idx.tobytes(order="C"))

    atomic_write(idx_path, write_idx)
    return {"bin": str(bin_path), "idx": str(idx_path), "documents": len(sizes), "tokens": int(sizes.sum()),
            "dtype": dtype.name}  # fmt: skip


def is_megatron_index(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(HEADER)) == HEADER
    except OSError:
        return False
