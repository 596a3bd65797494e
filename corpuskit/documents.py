"""Document store: schema, stable ids, atomic Parquet shards, attribute sets and manifests.

Layout of a corpus folder (one sub-folder per source)::

    <corpus>/<source>/documents/part-<key>-<n>.parquet   documents, written by ingest
    <corpus>/<source>/documents/part-<key>.done          completion marker (JSON: counts, errors)
    <corpus>/<source>/attributes/<set>/part-<key>-<n>.parquet
                                                         signal columns keyed by ``id`` (curate, dedup, ...)
    <corpus>/<source>/manifest.json                      config hash, versions, counts, errors by reason

Only parts with a completion marker are visible to readers, so a crash never exposes half a shard.
Attribute sets follow Dolma's idea: signals live beside documents, never rewritten into them, and a set
may carry a ``<set>_drop_reason`` column (null = kept) that :func:`scan_documents` uses for ``kept_only``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

#: Columns every document frame has, in this order. Later stages add attribute sets, not columns here.
SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),  # blake2b-128 hex of "<source>\0<locator>": stable across re-runs
    "source": pl.String(),  # the source config's name
    "text": pl.String(),  # UTF-8 text
    "url": pl.String(),  # nullable
    "locator": pl.String(),  # "<input uri>#<record locator>", e.g. "a.warc.gz#offset=1234"
    "created": pl.Datetime("us", "UTC"),  # when the content was made/crawled, nullable
    "metadata": pl.String(),  # JSON object (sorted keys) with connector-specific fields
}

PARQUET_COMPRESSION = "zstd"
ROWS_PER_FILE = 20_000  # a part is split into files of at most this many rows ...
BYTES_PER_FILE = 128 * 1024**2  # ... or this much text, so a shard of whole books stays bounded in memory


def document_id(source: str, locator: str) -> str:
    """Stable id: the same record of the same source always gets the same id, whatever the run."""
    return hashlib.blake2b(f"{source}\0{locator}".encode(), digest_size=16).hexdigest()


def shard_key(uri: str) -> str:
    """Name of the part made from one input (file path or URL); stable when other inputs change."""
    return hashlib.blake2b(uri.encode(), digest_size=8).hexdigest()


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Build a document frame with the exact schema (metadata dicts are serialised to sorted JSON)."""
    fixed = []
    for r in rows:
        meta = r.get("metadata")
        fixed.append(
            {
                "id": r["id"],
                "source": r["source"],
                "text": r["text"],
                "url": r.get("url"),
                "locator": r["locator"],
                "created": r.get("created"),
                "metadata": meta if isinstance(meta, str) or meta is None else dumps_metadata(meta),
            }
        )
    return pl.DataFrame(fixed, schema=SCHEMA)


def dumps_metadata(meta: dict[str, Any]) -> str:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------------------- atomic I/O


def _umask_mode() -> int:
    """0666 minus the umask: what a plain open() would give (mkstemp creates files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder + fsync + rename, so readers see all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def atomic_write_parquet(path: Path, frame: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        frame.write_parquet(tmp, compression=PARQUET_COMPRESSION, statistics=True)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------- layout


def source_dir(corpus: Path | str, source: str) -> Path:
    return Path(corpus) / source


def documents_dir(corpus: Path | str, source: str) -> Path:
    return source_dir(corpus, source) / "documents"


def attributes_dir(corpus: Path | str, source: str, set_name: str) -> Path:
    return source_dir(corpus, source) / "attributes" / set_name


def list_sources(corpus: Path | str) -> list[str]:
    """Sources that have at least a documents folder, sorted by name."""
    root = Path(corpus)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "documents").is_dir())


@dataclass(frozen=True)
class Part:
    """One finished input shard of a source: its files and its completion-marker contents."""

    source: str
    key: str
    files: tuple[Path, ...]
    marker: dict[str, Any]


def marker_path(corpus: Path | str, source: str, key: str) -> Path:
    return documents_dir(corpus, source) / f"part-{key}.done"


def part_files(directory: Path, key: str) -> list[Path]:
    return sorted(directory.glob(f"part-{key}-*.parquet"))


def list_parts(corpus: Path | str, source: str) -> list[Part]:
    """Finished parts (those with a completion marker), sorted by key for a deterministic order."""
    ddir = documents_dir(corpus, source)
    parts = []
    for m in sorted(ddir.glob("part-*.done")):
        key = m.name[len("part-") : -len(".done")]
        parts.append(Part(source, key, tuple(part_files(ddir, key)), json.loads(m.read_text())))
    return parts


def clear_part(directory: Path, key: str) -> None:
    """Remove leftovers of an unfinished part (files and temp files) before it is redone."""
    for p in directory.glob(f"part-{key}-*.parquet"):
        p.unlink(missing_ok=True)
    for p in directory.glob(f".part-{key}-*.tmp"):
        p.unlink(missing_ok=True)


class PartWriter:
    """Writes one part as numbered files of at most ``ROWS_PER_FILE`` rows / ``BYTES_PER_FILE`` of text,
    then its marker.

    Memory stays bounded by one file's worth of rows whatever the input size. The marker is the commit
    point: until it exists the part does not exist for readers, and a resumed run clears and redoes it.
    """

    def __init__(
        self,
        directory: Path,
        key: str,
        rows_per_file: int = ROWS_PER_FILE,
        bytes_per_file: int = BYTES_PER_FILE,
    ):
        self.directory, self.key, self.rows_per_file = directory, key, rows_per_file
        self.bytes_per_file = bytes_per_file
        self._rows: list[dict[str, Any]] = []
        self._buffered = 0
        self._n_files = 0
        self.rows_written = 0
        self.bytes_written = 0
        clear_part(directory, key)

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self._buffered += len(row["text"])
        if len(self._rows) >= self.rows_per_file or self._buffered >= self.bytes_per_file:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        frame = to_frame(self._rows)
        path = self.directory / f"part-{self.key}-{self._n_files:05d}.parquet"
        atomic_write_parquet(path, frame)
        self.rows_written += frame.height
        self.bytes_written += int(frame["text"].str.len_bytes().sum() or 0)
        self._n_files += 1
        self._rows = []
        self._buffered = 0

    def finish(self, marker: dict[str, Any]) -> None:
        self._flush()
        atomic_write_json(
            self.directory / f"part-{self.key}.done",
            {
                **marker,
                "key": self.key,
                "files": self._n_files,
                "documents": self.rows_written,
                "bytes_text": self.bytes_written,
            },
        )


# ---------------------------------------------------------------------------------------------- reading


def scan_documents(
    corpus: Path | str,
    source: str,
    *,
    attributes: Iterable[str] | None = None,
    kept_only: bool = False,
) -> pl.LazyFrame:
    """Lazy frame of a source's finished documents, joined (by ``id``) with its attribute sets.

    ``attributes=None`` joins every set present. ``kept_only`` drops rows where any ``*_drop_reason``
    column is non-null; the combined first reason is exposed as ``drop_reason``.
    """
    files = [f for part in list_parts(corpus, source) for f in part.files]
    return _join_attributes(corpus, source, files, None, attributes, kept_only)


def scan_file(
    corpus: Path | str,
    source: str,
    document_file: Path,
    *,
    attributes: Iterable[str] | None = None,
    kept_only: bool = False,
) -> pl.LazyFrame:
    """Like :func:`scan_documents` for one document file: joins only the matching attribute files."""
    return _join_attributes(corpus, source, [document_file], document_file.name, attributes, kept_only)


def _join_attributes(
    corpus: Path | str,
    source: str,
    files: list[Path],
    file_name: str | None,
    attributes: Iterable[str] | None,
    kept_only: bool,
) -> pl.LazyFrame:
    if not files:
        return empty_frame().lazy()
    lf = pl.scan_parquet(files)
    set_names = list(attributes) if attributes is not None else list_attribute_sets(corpus, source)
    reason_cols: list[str] = []
    for name in set_names:
        adir = attributes_dir(corpus, source, name)
        afiles = sorted(adir.glob("part-*.parquet"))
        if file_name is not None and (adir / file_name).exists():
            afiles = [adir / file_name]  # attribute files mirror document files: join just that one
        if not afiles:
            continue
        alf = pl.scan_parquet(afiles)
        cols = alf.collect_schema().names()
        reason_cols += [c for c in cols if c.endswith("_drop_reason")]
        lf = lf.join(alf, on="id", how="left", maintain_order="left")
    if reason_cols:
        lf = lf.with_columns(pl.coalesce([pl.col(c) for c in reason_cols]).alias("drop_reason"))
        if kept_only:
            lf = lf.filter(pl.col("drop_reason").is_null())
    return lf


def list_attribute_sets(corpus: Path | str, source: str) -> list[str]:
    adir = source_dir(corpus, source) / "attributes"
    if not adir.is_dir():
        return []
    return sorted(p.name for p in adir.iterdir() if p.is_dir())


def write_attributes(
    corpus: Path | str, source: str, set_name: str, document_file: Path, frame: pl.DataFrame
) -> Path:
    """Atomically write the attribute rows (must include ``id``) for one document file."""
    if "id" not in frame.columns:
        raise ValueError("attribute frames must include the document 'id' column")
    path = attributes_dir(corpus, source, set_name) / document_file.name
    atomic_write_parquet(path, frame)
    return path


# ---------------------------------------------------------------------------------------------- manifests


def manifest_path(corpus: Path | str, source: str) -> Path:
    return source_dir(corpus, source) / "manifest.json"


def read_manifest(corpus: Path | str, source: str) -> dict[str, Any]:
    p = manifest_path(corpus, source)
    return json.loads(p.read_text()) if p.exists() else {}


def package_versions(names: Iterable[str] = ()) -> dict[str, str]:
    """Versions of corpuskit and the libraries that shape its output, for manifests."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in ["corpuskit", "polars", "trafilatura", "warcio", "fasttext", "datasketch", "tokenizers", *names]:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            continue
    return out
