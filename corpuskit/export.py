"""Write documents out for other tools: Dolma-style JSONL.gz or Parquet, optionally kept documents only."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from corpuskit.documents import read_manifest
from corpuskit.progress import SILENT, Reporter
from corpuskit.store import atomic_write_parquet, list_parts, scan_file

FORMATS = ("dolma", "parquet", "datatrove")


def export_source(
    corpus: Path | str,
    source: str,
    out_dir: Path,
    *,
    fmt: str = "dolma",
    kept_only: bool = False,
    progress: Reporter = SILENT,
) -> tuple[int, list[Path]]:
    """Export one source, one output file per input part (streams part by part; bounded memory).

    ``dolma``: ``<out>/<source>/documents/part-*.jsonl.gz``, the layout ``dolma tag/dedupe/mix`` read;
    ``added`` is when corpuskit ingested the source, ``created`` when the content was made (omitted when
    unknown: Dolma wants a string, never null); ``metadata`` the connector's fields. ``parquet``: one
    schema for every source — :data:`PARQUET_COLUMNS`, ``metadata`` as a JSON string and the combined
    ``drop_reason`` — so tools load all sources at once (Hugging Face ``datasets``, duckdb, Spark).
    ``datatrove``: ``<out>/<source>/part-*.jsonl.gz`` as datatrove's ``JsonlWriter`` writes documents
    (``JsonlReader`` reads them with its defaults).
    Re-exporting gives the same bytes.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir) / source / ("documents" if fmt == "dolma" else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    added = read_manifest(corpus, source).get("written_at") or datetime.now(UTC).isoformat(timespec="seconds")
    written, files = 0, []
    meter = progress.meter(f"export {source}", "docs")
    for part in list_parts(corpus, source):
        if not part.files:
            continue
        frames = [scan_file(corpus, source, f, kept_only=kept_only).collect() for f in part.files]
        frame = pl.concat(frames, how="diagonal_relaxed")
        if fmt == "parquet":
            path = out_dir / f"part-{part.key}.parquet"
            atomic_write_parquet(path, _fixed_schema(frame, added))
        else:
            path = out_dir / f"part-{part.key}.jsonl.gz"
            _write_jsonl_gz(path, frame, added, _dolma_doc if fmt == "dolma" else _datatrove_doc)
        files.append(path)
        written += frame.height
        meter.advance(frame.height)
    return written, files


PARQUET_COLUMNS = ["id", "source", "text", "url", "locator", "created", "added", "metadata", "drop_reason"]


def _fixed_schema(frame: pl.DataFrame, added: str) -> pl.DataFrame:
    """The same columns and types for every source (signals stay in the corpus's attribute sets)."""
    if "drop_reason" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("drop_reason"))
    return frame.with_columns(pl.lit(added).alias("added")).select(PARQUET_COLUMNS)


def _meta(row: dict) -> dict:
    meta = json.loads(row["metadata"]) if row["metadata"] else {}
    for key in ("url", "locator", "drop_reason"):
        if row.get(key) is not None:
            meta[key] = row[key]
    return meta


def _dolma_doc(row: dict, added: str) -> dict:
    doc = {
        "id": row["id"],
        "text": row["text"],
        "source": row["source"],
        "added": added,
        "metadata": _meta(row),
    }
    if row["created"] is not None:  # Dolma: a string or absent, never null
        doc["created"] = row["created"].isoformat()
    return doc


def _datatrove_doc(row: dict, added: str) -> dict:
    """datatrove's ``Document`` as its ``JsonlWriter`` writes it: text, id, media, metadata (a dict —
    its readers merge it with ``|``, so a JSON string there would crash them)."""
    meta = {**_meta(row), "source": row["source"], "added": added}
    if row["created"] is not None:
        meta["created"] = row["created"].isoformat()
    return {"text": row["text"], "id": row["id"], "media": [], "metadata": meta}


def _write_jsonl_gz(path: Path, frame: pl.DataFrame, added: str, make_doc) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    # mtime=0: gzip otherwise stamps the current time and the same export would differ byte-wise.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for row in frame.iter_rows(named=True):
            gz.write((json.dumps(make_doc(row, added), ensure_ascii=False, sort_keys=True) + "\n").encode())
        gz.close()
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
