"""Write documents out for other tools: Dolma-style JSONL.gz or Parquet, optionally kept documents only."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from corpuskit.documents import read_manifest
from corpuskit.store import atomic_write_parquet, list_parts, scan_file


def export_source(
    corpus: Path | str,
    source: str,
    out_dir: Path,
    *,
    fmt: str = "dolma",
    kept_only: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[int, list[Path]]:
    """Export one source, one output file per input part (streams part by part; bounded memory).

    Dolma's ``added`` is when corpuskit ingested the part (the marker's time), ``created`` when the
    content was made (from the connector), so re-exporting gives the same bytes.
    """
    if fmt not in {"dolma", "parquet"}:
        raise ValueError(f"unknown export format {fmt!r}; use 'dolma' or 'parquet'")
    out_dir = Path(out_dir) / source
    out_dir.mkdir(parents=True, exist_ok=True)
    added = read_manifest(corpus, source).get("written_at") or datetime.now(UTC).isoformat(timespec="seconds")
    written, files = 0, []
    for part in list_parts(corpus, source):
        if not part.files:
            continue
        frames = [scan_file(corpus, source, f, kept_only=kept_only).collect() for f in part.files]
        frame = pl.concat(frames, how="diagonal_relaxed")
        if fmt == "parquet":
            path = out_dir / f"part-{part.key}.parquet"
            atomic_write_parquet(path, frame)
        else:
            path = out_dir / f"part-{part.key}.jsonl.gz"
            _write_dolma(path, frame, added)
        files.append(path)
        written += frame.height
        if on_progress:
            on_progress(frame.height)
    return written, files


def _write_dolma(path: Path, frame: pl.DataFrame, added: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    extra_cols = [c for c in frame.columns if c not in {"id", "text", "source", "created", "metadata"}]
    # mtime=0: gzip otherwise stamps the current time and the same export would differ byte-wise.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for row in frame.iter_rows(named=True):
            meta = json.loads(row["metadata"]) if row["metadata"] else {}
            for c in extra_cols:
                if row[c] is not None:
                    meta[c] = row[c] if not isinstance(row[c], datetime) else row[c].isoformat()
            doc = {
                "id": row["id"],
                "text": row["text"],
                "source": row["source"],
                "added": added,
                "created": row["created"].isoformat() if row["created"] else None,
                "metadata": meta,
            }
            gz.write((json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n").encode())
    os.replace(tmp, path)
