"""A draw unit's outputs on disk, in the mixture's draws folder, and the marker that commits them.

Per source of a mixture (``<out>/../.<name>.draws/``):

- ``<source>.tokens.bin``: its token cache (each tokenized document + end-of-text, in tokenize order);
- ``<source>.draw.parquet``: one row per drawn entry (cache ``start``, ``length``, ``truncated``, ``id``,
  interleaving ``key``), in draw order;
- ``<source>.done.json``: written by the driver, last, after checking both files against what the unit
  said it wrote; it names the unit's settings, so a rerun reuses a draw only for the same inputs.

The folder is removed once the mixture folder is in place; a failed build leaves it for the rerun.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from corpuskit.mix.draw import Drawn
from corpuskit.store.atomic import atomic_write_json, atomic_write_parquet, read_json

TOKENS, ENTRIES, DONE = ".tokens.bin", ".draw.parquet", ".done.json"


class DrawCorrupt(RuntimeError):
    """A unit's files do not hold what it reported (torn, replaced or truncated): never used."""


def draws_dir(out: Path) -> Path:
    """Where the units of the mixture at ``out`` write (beside it, like its staging folder)."""
    return out.parent / f".{out.name}.draws"


def write_entries(work: Path, drawn: Drawn, cache_tokens: int) -> dict[str, Any]:
    """In the worker: the entries file (the tokens file is already in place); returns the unit's summary."""
    frame = pl.DataFrame(
        {
            "start": pl.Series(drawn.starts, dtype=pl.Int64),
            "length": pl.Series(drawn.lengths, dtype=pl.Int64),
            "truncated": pl.Series(drawn.truncated, dtype=pl.Boolean),
            "id": pl.Series(drawn.ids, dtype=pl.String),
            "key": pl.Series(drawn.keys, dtype=pl.UInt64),
        }
    )
    atomic_write_parquet(work / f"{drawn.source}{ENTRIES}", frame)
    return {"cache_tokens": int(cache_tokens), "entries": frame.height, "stats": drawn.stats}


def check_files(work: Path, source: str, summary: dict[str, Any], itemsize: int) -> None:
    """Both files are there with the size and row count the unit reported, or :class:`DrawCorrupt`."""
    tokens, entries = work / f"{source}{TOKENS}", work / f"{source}{ENTRIES}"
    try:
        size, rows = tokens.stat().st_size, pq.read_metadata(entries).num_rows
    except (OSError, ValueError) as e:
        raise DrawCorrupt(f"{source}: draw files unreadable: {e}") from None
    if size != summary["cache_tokens"] * itemsize or rows != summary["entries"]:
        raise DrawCorrupt(
            f"{source}: draw files hold {size} bytes / {rows} entries, the unit reported "
            f"{summary['cache_tokens'] * itemsize} / {summary['entries']}"
        )


def commit(work: Path, source: str, settings: str, summary: dict[str, Any]) -> None:
    atomic_write_json(work / f"{source}{DONE}", {"settings": settings, **summary})


def committed(work: Path, source: str, settings: str, itemsize: int) -> dict[str, Any] | None:
    """The summary of a draw committed earlier with the same settings whose files still check out."""
    done = read_json(work / f"{source}{DONE}")
    if not isinstance(done, dict) or done.get("settings") != settings:
        return None
    try:
        check_files(work, source, done, itemsize)
    except DrawCorrupt:
        return None
    return done


def read_draw(work: Path, source: str, summary: dict[str, Any], dtype: np.dtype) -> tuple[Drawn, np.ndarray]:
    """A committed draw as the gather needs it (entries + memory-mapped tokens), checked for consistency."""
    check_files(work, source, summary, dtype.itemsize)
    f = pl.read_parquet(work / f"{source}{ENTRIES}")
    d = Drawn(
        source,
        f["start"].to_numpy(),
        f["length"].to_numpy(),
        f["truncated"].to_numpy(),
        f["id"].to_numpy(),
        f["key"].to_numpy(),
        dict(summary["stats"]),
    )
    n = summary["cache_tokens"]
    ends = d.starts + d.lengths
    if int(d.lengths.sum()) != d.stats["tokens"] or (ends.size and (d.starts.min() < 0 or ends.max() > n)):
        raise DrawCorrupt(f"{source}: entries do not fit its {n} cached tokens or its token count")
    cache = np.memmap(work / f"{source}{TOKENS}", dtype=dtype, mode="r") if n else np.empty(0, dtype)
    return d, cache
