"""Writing one part (the documents of one input) as numbered Parquet files, bounded in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpuskit.documents import to_frame
from corpuskit.store.atomic import atomic_write_parquet
from corpuskit.store.commits import FileRecord
from corpuskit.store.layout import SourceStore

ROWS_PER_FILE = 20_000  # a part is split into files of at most this many rows ...
BYTES_PER_FILE = 128 * 1024**2  # ... or this much text, so a shard of whole books stays bounded in memory


class PartWriter:
    """Writes one part as ``part-<key>-<n>.parquet`` files of at most ``rows_per_file`` rows /
    ``bytes_per_file`` of text, each atomically; :attr:`files` describes them for the commit record.

    Nothing here commits: until the stage writes the part's commit record the files are invisible to
    readers, and a rerun clears and redoes them.
    """

    def __init__(
        self,
        store: SourceStore,
        key: str,
        rows_per_file: int = ROWS_PER_FILE,
        bytes_per_file: int = BYTES_PER_FILE,
    ):
        self.store, self.key = store, key
        self.rows_per_file, self.bytes_per_file = rows_per_file, bytes_per_file
        self._rows: list[dict[str, Any]] = []
        self._buffered = 0
        self.files: list[FileRecord] = []
        self.rows_written = 0
        self.bytes_written = 0
        store.documents_dir.mkdir(parents=True, exist_ok=True)
        for p in store.documents_dir.glob(f"part-{key}-*.parquet"):  # leftovers of an unfinished try
            p.unlink(missing_ok=True)

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self._buffered += len(row["text"])
        if len(self._rows) >= self.rows_per_file or self._buffered >= self.bytes_per_file:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        frame = to_frame(self._rows)
        path: Path = self.store.part_file(self.key, len(self.files))
        atomic_write_parquet(path, frame)
        self.files.append(FileRecord.of(path, frame.height))
        self.rows_written += frame.height
        self.bytes_written += int(frame["text"].str.len_bytes().sum() or 0)
        self._rows = []
        self._buffered = 0

    def finish(self) -> list[FileRecord]:
        self._flush()
        return self.files


def write_part(
    store: SourceStore,
    key: str,
    rows: list[dict[str, Any]],
    *,
    uri: str | None = None,
    rows_per_file: int = ROWS_PER_FILE,
    info: dict[str, Any] | None = None,
) -> list[FileRecord]:
    """Write and commit a whole part from rows in memory (for fixtures, benchmarks and importers)."""
    from corpuskit.store.commits import commit_part

    writer = PartWriter(store, key, rows_per_file=rows_per_file)
    for r in rows:
        writer.add(r)
    files = writer.finish()
    commit_part(
        store,
        key,
        uri=uri or key,
        identity={},
        settings="",
        files=files,
        info={"bytes_text": writer.bytes_written, "errors": {}, "error_examples": [], **(info or {})},
    )
    return files
