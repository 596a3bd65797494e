"""A corpus on object storage (``s3://``, ``gs://``, any fsspec URL), mirrored by a local working copy.

The stages keep working on local paths: a :class:`RemoteCorpus` pulls a source's *committed* units into a
working copy (every file a commit record names, checked against the record's size and digest before the
record is written locally), and pushes units back as they commit, in the order that keeps the remote
corpus consistent for any reader and for a resumed run:

1. a record about to be replaced or removed is deleted remotely first (the unit is uncommitted there);
2. the unit's data objects are uploaded (and checked: size, and the MD5 where the ETag is one);
3. its commit record is uploaded last.

An object store's PUT is atomic (an object is all there or absent, multipart uploads included), so a
file goes up in one PUT; on a filesystem-like target (``file://``, NFS via fsspec) it goes to a temp
name first and is renamed. A run killed at any moment leaves at most data objects without a record,
which readers never see and the next writer removes. Keys are the working copy's relative paths, so the
layout stays :mod:`corpuskit.store.layout`'s alone.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path
from typing import Any

from corpuskit.store.atomic import TEMP_SUFFIX, atomic_write, file_digest, read_json
from corpuskit.store.commits import named_files
from corpuskit.store.layout import SourceStore

_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "oss", "r2"}  # a PUT is all-or-nothing
_MD5 = re.compile(r'^"?([0-9a-f]{32})"?$')
CHUNK = 1 << 20


class RemoteCorpusError(OSError):
    """The remote corpus could not be read or written (denied, unreachable, an upload that did not match)."""


def is_remote(root: str | Path) -> bool:
    """Whether a corpus root is a URL (``s3://``, ``file://``, ``memory://`` ...) rather than a local path."""
    return isinstance(root, str) and "://" in root


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def etag_md5(info: dict[str, Any]) -> str | None:
    """The object's MD5 when its ETag is one (a single-part upload), else None."""
    m = _MD5.match(str(info.get("ETag") or info.get("etag") or ""))
    return m.group(1) if m else None


class RemoteCorpus:
    """The corpus at ``url`` and its working copy ``local``; ``known`` is what this process knows is
    there remotely (relative key -> size, digest), filled by :meth:`pull` and kept by every push."""

    def __init__(self, url: str, local: Path, storage_options: dict[str, Any] | None = None):
        from corpuskit.configs import ConfigError
        from corpuskit.connectors.objectstore import ObjectStoreError, filesystem

        self.url = url.rstrip("/")
        try:
            self.fs, self.root = filesystem(self.url, storage_options or {})
        except ObjectStoreError as e:  # no driver for the scheme: an install a person can fix
            raise ConfigError(
                f"corpus {e}".replace("object-storage inputs", "a corpus on object storage")
            ) from None
        self.root = self.root.rstrip("/")
        self.local = Path(local).resolve()  # absolute: workers (Ray's too) may run elsewhere
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        self.atomic_put = protocol in _ATOMIC_PUT
        self.known: dict[str, tuple[int, str]] = {}
        self.push_errors: list[str] = []

    # ------------------------------------------------------------------------------------ keys and I/O

    def rel(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.local.resolve()).as_posix()

    def key(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def where(self, rel: str) -> str:
        return f"{self.url}/{rel}"

    def listing(self, rel: str) -> dict[str, dict[str, Any]]:
        """Every object under ``rel`` (relative key -> info); empty when there is none."""
        try:
            found = self.fs.find(self.key(rel), detail=True)
        except FileNotFoundError:
            return {}
        except Exception as e:  # noqa: BLE001 - a driver's errors (botocore, aiohttp) have no common base
            raise RemoteCorpusError(f"{self.where(rel)}: listing failed: {type(e).__name__}: {e}") from None
        strip = len(self.root) + 1
        return {k[strip:]: v for k, v in found.items() if v.get("type") == "file"}

    def cat(self, rel: str) -> bytes | None:
        try:
            return self.fs.cat_file(self.key(rel))
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001 - see listing
            raise RemoteCorpusError(f"{self.where(rel)}: read failed: {type(e).__name__}: {e}") from None

    def cat_many(self, rels: list[str]) -> dict[str, bytes | None]:
        """Several small objects at once (s3fs fetches them concurrently); None for one that is missing."""
        if not rels:
            return {}
        keys = {self.fs._strip_protocol(self.key(r)): r for r in rels}
        try:
            found = self.fs.cat(list(keys), on_error="return")
        except Exception as e:  # noqa: BLE001 - see listing
            raise RemoteCorpusError(f"{self.url}: reading records failed: {type(e).__name__}: {e}") from None
        out: dict[str, bytes | None] = dict.fromkeys(rels)
        for key, data in found.items():
            rel = keys[self.fs._strip_protocol(key)]
            if isinstance(data, bytes):
                out[rel] = data
            elif not isinstance(data, FileNotFoundError):
                raise RemoteCorpusError(f"{self.where(rel)}: read failed: {type(data).__name__}: {data}")
        return out

    def download(self, rel: str, size: int, digest: str | None) -> bool:
        """Copy the object to the working copy atomically if it has ``size`` bytes (and blake2b ``digest``);
        False (nothing written) when it does not: the unit is then not committed here."""
        target = self.local / rel
        blake = hashlib.blake2b(digest_size=16)

        def write(tmp: str) -> None:
            got = 0
            with self.fs.open(self.key(rel), "rb", block_size=CHUNK) as src, open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    got += len(chunk)
                    blake.update(chunk)
                    out.write(chunk)
            if got != size or (digest is not None and blake.hexdigest() != digest):
                raise _Mismatch

        try:
            atomic_write(target, write)
        except (_Mismatch, FileNotFoundError):
            return False
        except Exception as e:  # noqa: BLE001 - see listing
            raise RemoteCorpusError(f"{self.where(rel)}: download failed: {type(e).__name__}: {e}") from None
        self.known[rel] = (size, blake.hexdigest())
        return True

    def upload(self, path: Path) -> None:
        """One file to its key: a single PUT on an object store, temp name + rename elsewhere; checked."""
        rel = self.rel(path)
        size, digest = path.stat().st_size, file_digest(path)
        key = self.key(rel)
        try:
            if self.atomic_put:
                self.fs.put_file(str(path), key)
            else:
                parent, name = key.rsplit("/", 1)
                tmp = f"{parent}/.{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
                self.fs.makedirs(parent, exist_ok=True)
                self.fs.put_file(str(path), tmp)
                self.fs.mv(tmp, key)
            info = self.fs.info(key)
        except Exception as e:  # noqa: BLE001 - see listing
            raise RemoteCorpusError(f"{self.where(rel)}: upload failed: {type(e).__name__}: {e}") from None
        md5 = etag_md5(info)
        if int(info.get("size") or 0) != size or (md5 is not None and md5 != md5_of(path)):
            raise RemoteCorpusError(f"{self.where(rel)}: the uploaded object does not match {path}")
        self.known[rel] = (size, digest)

    def delete(self, rel: str) -> None:
        try:
            self.fs.rm_file(self.key(rel))
        except FileNotFoundError:
            pass
        except Exception as e:  # noqa: BLE001 - see listing
            raise RemoteCorpusError(f"{self.where(rel)}: delete failed: {type(e).__name__}: {e}") from None
        self.known.pop(rel, None)

    def under_data(self, store: SourceStore, rel: str) -> bool:
        return any(rel.startswith(self.rel(d) + "/") for d in store.data_dirs())

    # ------------------------------------------------------------------------------------ pull

    def sources(self) -> list[str]:
        """Source names with a documents folder on the remote corpus."""
        from corpuskit.store.layout import check_source_name

        try:
            entries = self.fs.ls(self.root, detail=False)
        except FileNotFoundError:
            return []
        names = []
        for entry in entries:
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            try:
                check_source_name(name)
            except ValueError:
                continue
            if self.fs.isdir(self.key(self.rel(SourceStore(self.local, name).documents_dir))):
                names.append(name)
        return sorted(names)

    def pull(self, source: str) -> int:
        """Make the working copy of ``source`` the remote's committed state (:func:`~.sync.pull_source`)."""
        from corpuskit.store.sync import pull_source

        return pull_source(self, SourceStore(self.local, source))

    # ------------------------------------------------------------------------------------ push

    def push_record(self, store: SourceStore, record: Path) -> None:
        """Push one committed unit: the files its record names (those not already there), then the record.
        A failure is remembered for :meth:`sync` (which retries) rather than breaking the stage."""
        try:
            files = named_files(store, read_json(record)) or []
            for path, _, digest in files:  # the record's digest was just computed from this file
                if self.known.get(self.rel(path)) != (path.stat().st_size, digest or file_digest(path)):
                    self.upload(path)
            self.upload(record)
        except (OSError, RemoteCorpusError) as e:
            self.push_errors.append(f"{record.name}: {e}")

    def retract_record(self, record: Path) -> None:
        rel = self.rel(record)
        if rel in self.known:
            self.delete(rel)

    def sync(self, source: str) -> None:
        """Make the remote ``source`` the working copy's state (records retracted first, data, records, then
        what the stage removed); raises :class:`RemoteCorpusError` if anything could not be pushed."""
        from corpuskit.store.sync import push_source

        self.push_errors = []
        push_source(self, SourceStore(self.local, source))


class _Mismatch(Exception):
    pass


def working_copy(cache_dir: Path, url: str) -> Path:
    """Where the working copy of ``url`` lives: one folder per corpus URL under the cache."""
    tail = re.sub(r"[^A-Za-z0-9_.-]", "_", url.rstrip("/").rsplit("/", 1)[-1])[:40]
    return Path(cache_dir) / "corpora" / f"{hashlib.sha256(url.rstrip('/').encode()).hexdigest()[:16]}-{tail}"


def default_cache_dir() -> Path:
    """Where working copies go: ``$CORPUSKIT_CACHE_DIR`` (as for downloads), else ``.corpuskit-cache``."""
    return Path(os.environ.get("CORPUSKIT_CACHE_DIR") or ".corpuskit-cache").resolve()
