"""Writing small corpora straight into the store, as ingest would commit them (for stage tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from corpuskit.store import SourceStore, doc_records, write_attributes
from corpuskit.store.parts import ROWS_PER_FILE, write_part


def commit_rows(
    corpus: Path,
    source: str,
    key: str,
    rows: list[dict[str, Any]],
    rows_per_file: int = ROWS_PER_FILE,
    **kw: Any,
) -> list[Path]:
    """Commit ``rows`` as one part of ``source``; returns its document files."""
    store = SourceStore(Path(corpus), source)
    files = write_part(store, key, rows, rows_per_file=rows_per_file, **kw)
    return [store.documents_dir / f.name for f in files]


def attach(corpus: Path, source: str, set_name: str, doc_file: Path, frame: pl.DataFrame) -> Path:
    """Commit an attribute file for one committed document file (as a stage would)."""
    (doc,) = [d for d in doc_records(corpus, source) if d.name == Path(doc_file).name]
    return write_attributes(SourceStore(Path(corpus), source), set_name, doc, frame)


def attributes_dir(corpus: Path, source: str, set_name: str) -> Path:
    return SourceStore(Path(corpus), source).attributes_dir(set_name)


def documents_dir(corpus: Path, source: str) -> Path:
    return SourceStore(Path(corpus), source).documents_dir
