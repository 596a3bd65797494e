"""Commit records: a unit of work is done only when its record exists *and* still matches.

A part's record (``_commits/documents/part-<key>.json``) names

- the unit's **input** and its identity (local file: size + mtime_ns; folder: a digest of its files'
  names, sizes and mtimes; URL: the URL with the length and validator of the cached download),
- the hash of only the **settings** that change this stage's output (ingest: name, kind, options),
- each **output file** with its row count, size and blake2b digest.

On resume a part is done only if all three match; otherwise it is redone. Readers check the files
(present, same size). An attribute file's record names the document file it was computed from by digest,
and the parameters it was computed with, so a re-ingested part (new digest) invalidates every attribute
derived from it, and readers ignore such stale files.

A failed unit never gets a commit record: it gets a failure record (class, message, time) instead, which
the next successful run of the unit removes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpuskit.store import mirrors
from corpuskit.store.atomic import atomic_write_json, file_digest, read_json
from corpuskit.store.layout import SourceStore

FORMAT = 1  # bump when the meaning of a record changes: older records are then redone


@dataclass(frozen=True)
class FileRecord:
    """One output file as committed."""

    name: str
    rows: int
    bytes: int
    digest: str

    @classmethod
    def of(cls, path: Path, rows: int | None = None) -> FileRecord:
        path = Path(path)
        if rows is None:
            import pyarrow.parquet as pq  # here, not at import: ingest workers start without pyarrow

            rows = pq.read_metadata(path).num_rows
        return cls(path.name, int(rows), path.stat().st_size, file_digest(path))

    def matches(self, path: Path, *, rows: bool = False) -> bool:
        """Present with the committed size (and, with ``rows``, the committed row count)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if path.stat().st_size != self.bytes:
                return False
            return not rows or pq.read_metadata(path).num_rows == self.rows
        except (OSError, ValueError, pa.ArrowException):
            return False


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def settings_hash(settings: dict[str, Any]) -> str:
    blob = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- inputs


def input_identity(local: Path | None, uri: str) -> dict[str, Any]:
    """What says an input is the same as when it was committed, without reading it."""
    if "://" in uri:
        ident: dict[str, Any] = {"url": uri}
        if local is not None and local.exists():
            ident["length"] = local.stat().st_size
            validator = read_json(local.with_name(local.name + ".json"))
            if isinstance(validator, dict) and validator.get("validator"):
                ident["validator"] = validator["validator"]
        return ident
    path = Path(local) if local is not None else Path(uri)
    if path.is_dir():
        h = hashlib.blake2b(digest_size=16)
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(path).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return {"folder": h.hexdigest()}
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def input_unchanged(record: dict[str, Any], local: Path | None, uri: str) -> bool:
    """Whether the input still has the identity its commit recorded (a URL whose cached copy is gone is
    taken as unchanged: checking it would need the network)."""
    old = record.get("input", {}).get("identity")
    if not isinstance(old, dict):
        return False
    if "url" in old and (local is None or not local.exists()):
        return True
    try:
        return old == input_identity(local, uri)
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- parts


@dataclass(frozen=True)
class Part:
    """One committed input of a source: its document files and its commit record."""

    source: str
    key: str
    files: tuple[Path, ...]
    record: dict[str, Any]

    @property
    def marker(self) -> dict[str, Any]:  # the name earlier code used
        return self.record

    @property
    def file_records(self) -> tuple[FileRecord, ...]:
        return tuple(FileRecord(**f) for f in self.record.get("files", []))


def commit_part(
    store: SourceStore,
    key: str,
    *,
    uri: str,
    identity: dict[str, Any],
    settings: str,
    files: list[FileRecord],
    info: dict[str, Any],
) -> dict[str, Any]:
    """Write the commit record of a part whose files are complete; clears an earlier failure record."""
    record = {
        "format": FORMAT,
        "stage": "ingest",
        "key": key,
        "input": {"uri": uri, "identity": identity},
        "settings": settings,
        "files": [asdict(f) for f in files],
        "documents": sum(f.rows for f in files),
        "committed_at": now(),
        **info,
    }
    atomic_write_json(store.part_commit(key), record)
    mirrors.committed(store, store.part_commit(key))
    store.part_failure(key).unlink(missing_ok=True)
    return record


def record_failure(store: SourceStore, key: str, uri: str, error_class: str, message: str) -> dict[str, Any]:
    failure = {"key": key, "uri": uri, "class": error_class, "message": message, "failed_at": now()}
    atomic_write_json(store.part_failure(key), failure)
    return failure


def read_part(store: SourceStore, key: str, *, rows: bool = False) -> Part | None:
    """The committed part ``key`` if its record is current and every file it names is intact."""
    record = read_json(store.part_commit(key))
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None
    paths = []
    for f in record.get("files", []):
        fr = FileRecord(**f)
        path = store.documents_dir / fr.name
        if not fr.matches(path, rows=rows):
            return None
        paths.append(path)
    return Part(store.name, key, tuple(paths), record)


def committed_keys(store: SourceStore) -> list[str]:
    cdir = store.commits_dir("documents")
    if not cdir.is_dir():
        return []
    return sorted(
        p.name[len("part-") : -len(".json")]
        for p in cdir.glob("part-*.json")
        if not p.name.endswith(".failed.json")
    )


def list_parts(corpus: Path | str, source: str) -> list[Part]:
    """The source's intact committed parts, sorted by key (a deterministic order for every reader)."""
    store = SourceStore(Path(corpus), source)
    return [p for k in committed_keys(store) if (p := read_part(store, k)) is not None]


def document_files(corpus: Path | str, source: str) -> list[Path]:
    """Every committed document file of a source, in part order."""
    return [f for part in list_parts(corpus, source) for f in part.files]


def failures(store: SourceStore) -> list[dict[str, Any]]:
    cdir = store.commits_dir("documents")
    out = [read_json(p) for p in sorted(cdir.glob("part-*.failed.json"))] if cdir.is_dir() else []
    return [f for f in out if isinstance(f, dict)]


def clear_part(store: SourceStore, key: str) -> None:
    """Remove a part entirely (its record first, so it is never visible half-removed), then its files."""
    if store.part_commit(key).exists():
        mirrors.retracting(store, store.part_commit(key))
    store.part_commit(key).unlink(missing_ok=True)
    for p in store.documents_dir.glob(f"part-{key}-*.parquet"):
        p.unlink(missing_ok=True)
    for p in store.documents_dir.glob(f".part-{key}-*.tmp"):
        p.unlink(missing_ok=True)


def named_files(store: SourceStore, record: Any) -> list[tuple[Path, int, str | None]] | None:
    """(path, bytes, digest or None) of each file a commit record names; None when ``record`` is not a
    commit record (a failure record, the plan, a foreign file)."""
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None
    try:
        if record.get("stage") == "ingest":
            return [(store.documents_dir / f["name"], int(f["bytes"]), f["digest"]) for f in record["files"]]
        if "set" in record:
            f = record["file"]
            return [(store.attribute_file(record["set"], f["name"]), int(f["bytes"]), None)]
    except (KeyError, TypeError, ValueError):
        return None
    return None


# ---------------------------------------------------------------------------------------------- attributes


def commit_attribute(
    store: SourceStore, set_name: str, doc: FileRecord, out_file: Path, params: str, rows: int
) -> None:
    """Record that ``out_file`` (already written atomically) holds set ``set_name`` for document file
    ``doc``, computed with ``params``."""
    record = store.attribute_commit(set_name, doc.name)
    atomic_write_json(
        record,
        {
            "format": FORMAT,
            "set": set_name,
            "from": {"file": doc.name, "digest": doc.digest, "rows": doc.rows},
            "params": params,
            "file": {"name": out_file.name, "rows": rows, "bytes": out_file.stat().st_size},
            "committed_at": now(),
        },
    )
    mirrors.committed(store, record)


def attribute_current(store: SourceStore, set_name: str, doc: FileRecord, params: str | None = None) -> bool:
    """Whether set ``set_name`` has an intact file computed from this very document file (and, when
    ``params`` is given, with these parameters)."""
    rec = read_json(store.attribute_commit(set_name, doc.name))
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        return False
    if rec.get("from", {}).get("digest") != doc.digest:
        return False
    if params is not None and rec.get("params") != params:
        return False
    path = store.attribute_file(set_name, doc.name)
    try:
        return path.stat().st_size == rec["file"]["bytes"]
    except (OSError, KeyError, TypeError):
        return False


def remove_attribute(store: SourceStore, set_name: str, doc_name: str) -> None:
    if store.attribute_commit(set_name, doc_name).exists():
        mirrors.retracting(store, store.attribute_commit(set_name, doc_name))
    store.attribute_commit(set_name, doc_name).unlink(missing_ok=True)
    store.attribute_file(set_name, doc_name).unlink(missing_ok=True)


def write_attributes(
    store: SourceStore, set_name: str, doc: FileRecord, frame: Any, params: str = ""
) -> Path:
    """Write the attribute rows (must include ``id``) of one document file atomically, then commit them."""
    from corpuskit.store.atomic import atomic_write_parquet

    if "id" not in frame.columns:
        raise ValueError("attribute frames must include the document 'id' column")
    path = store.attribute_file(set_name, doc.name)
    atomic_write_parquet(path, frame)
    commit_attribute(store, set_name, doc, path, params, frame.height)
    return path
