"""Held-out evaluation sets: split off per source, by whole document, before any mixture is drawn.

Documents are ranked by a keyed hash of their id (its own seed, independent of the mixture seed, so
every mixture of a study sees the same held-out set) and taken until ``target_bytes`` of UTF-8 text. The
set is written as plain JSONL documents ``{"id", "text"}`` so any evaluator can read it; its hash goes into
every manifest, so ablations can check they compare on the same text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from corpuskit.mix.sampler import seeded_order
from corpuskit.store.atomic import atomic_write_bytes


class HeldoutSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bytes_per_source: int = Field(1_000_000, ge=0, description="UTF-8 bytes of text held out per source")
    max_fraction: float = Field(
        0.25, gt=0, le=1, description="never hold out more than this share of a source's bytes"
    )
    seed: int = Field(0, description="split seed; independent of mixture seeds so mixtures share sets")


@dataclass
class HeldoutSplit:
    source: str
    ids: pl.Series  # held-out document ids
    frame: pl.DataFrame  # id, text of the held-out documents, in split order
    target_bytes: int
    capped: bool  # True when max_fraction limited the size

    @property
    def documents(self) -> int:
        return self.frame.height

    @property
    def bytes(self) -> int:
        return int(self.frame["text"].str.len_bytes().sum() or 0)


def split_heldout(source: str, docs: pl.DataFrame, settings: HeldoutSettings) -> HeldoutSplit:
    """Choose the held-out documents of one source (``docs`` has ``id`` and ``text``)."""
    if docs.height == 0 or settings.bytes_per_source == 0:
        return HeldoutSplit(source, pl.Series("id", [], pl.String), docs.head(0), 0, False)
    total = int(docs["text"].str.len_bytes().sum() or 0)
    cap = int(total * settings.max_fraction)
    target = min(settings.bytes_per_source, cap)
    order = seeded_order(docs["id"], "heldout", settings.seed, source)
    lengths = docs["text"].str.len_bytes().to_numpy()[order].astype(np.int64)
    # Walk the ranked documents until the target is reached, never exceeding the cap. A document too big
    # for the room left is passed over rather than ending the walk, so a source of a few long books
    # still gets a held-out set from the documents that fit.
    take, acc = [], 0
    for idx, n in zip(order.tolist(), lengths.tolist(), strict=True):
        if acc >= target:
            break
        if acc + n > cap:
            continue
        take.append(idx)
        acc += n
    frame = docs.select("id", "text")[np.asarray(take, dtype=np.int64)]
    return HeldoutSplit(source, frame["id"], frame, target, target < settings.bytes_per_source)


def write_heldout(split: HeldoutSplit, path: Path) -> dict[str, object]:
    """Write the set as JSONL (one ``{"id","text"}`` per line); returns the manifest entry (sans path)."""
    lines = [
        json.dumps({"id": i, "text": t}, ensure_ascii=False)
        for i, t in zip(split.frame["id"], split.frame["text"], strict=True)
    ]
    data = ("\n".join(lines) + "\n").encode() if lines else b""
    atomic_write_bytes(path, data)
    return {
        "hash": hashlib.sha256(data).hexdigest()[:16],
        "documents": split.documents,
        "bytes": split.bytes,
        "capped_by_max_fraction": split.capped,
    }


def write_heldout_sets(
    splits: dict[str, HeldoutSplit], directory: Path, rel_prefix: str
) -> dict[str, dict[str, object]]:
    """Write every set as ``<directory>/<source>.jsonl``; returns the manifest's ``heldout`` block, each
    ``path`` relative to the mixture folder: ``rel_prefix`` is ``heldout/`` for sets inside it and
    ``../heldout/`` in a study whose mixtures share one copy."""
    out = {}
    for source, split in sorted(splits.items()):
        entry = write_heldout(split, directory / f"{source}.jsonl")
        out[source] = {"path": f"{rel_prefix}{source}.jsonl", **entry}
    return out


def read_heldout(path: Path) -> list[dict[str, str]]:
    """Read a held-out JSONL file back (for evaluators and tests)."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
