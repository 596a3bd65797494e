"""Pulling a source's committed units into its working copy, and pushing the copy back, in the order that
keeps the remote corpus consistent.

**Pull**: every commit record is read; its unit is copied only if each file it names is there with the
record's size (and digest, or the object's MD5 ETag); then the record is written locally. Plain files
(summaries, the plan, failure records) are copied as they are; anything else of the working copy's
source is removed (the copy is the store's own).

**Push**:

1. records that changed or went away locally are deleted remotely first (their units become uncommitted);
2. each local commit record that the remote lacks: the data files it names, then the record itself;
3. plain files (summaries, the plan, failure records): uploaded when changed, deleted when the stage
   removed them;
4. data objects no record names, with the store's own names (``part-*.parquet``; the temp keys of an
   interrupted upload): leftovers of a killed run, removed. Nothing else is ever deleted.

Readers and resumed runs trust a unit only when its record is there and names intact files, so stopping
this at any point leaves a remote corpus whose committed units are all complete.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpuskit.store.atomic import TEMP_SUFFIX, atomic_write_bytes, file_digest, read_json
from corpuskit.store.commits import named_files
from corpuskit.store.layout import DATA_FILE, SourceStore

if TYPE_CHECKING:
    from corpuskit.store.remote import RemoteCorpus


def pull_source(remote: RemoteCorpus, store: SourceStore) -> int:
    """Make the working copy of ``store`` the remote's committed state; returns the committed units."""
    listing = remote.listing(remote.rel(store.root))
    commits = remote.rel(store.commits_root) + "/"
    lock = remote.rel(store.lock_file)
    records = sorted(r for r in listing if r.startswith(commits) and not _hidden(r))
    texts = remote.cat_many(records)
    keep: set[str] = set()
    units = 0
    for rel in records:
        files = named_files(store, _parse(texts[rel]))
        if files is None:  # a failure record, the plan: plain files
            _put_local(remote, rel, texts[rel])
            keep.add(rel)
        elif all(_pull_named(remote, p, size, digest, listing) for p, size, digest in files):
            _put_local(remote, rel, texts[rel])
            keep.update([rel, *(remote.rel(p) for p, _, _ in files)])
            units += 1
    for rel in sorted(listing):
        if not (rel.startswith(commits) or _hidden(rel) or rel == lock or remote.under_data(store, rel)):
            _put_local(remote, rel, remote.cat(rel))  # summaries for people
            keep.add(rel)
    for p in sorted(store.root.rglob("*")) if store.root.is_dir() else []:
        if p.is_file() and p != store.lock_file and remote.rel(p) not in keep:
            p.unlink()
    return units


def _hidden(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1].startswith(".")


def _parse(data: bytes | None) -> Any:
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None


def _put_local(remote: RemoteCorpus, rel: str, data: bytes | None) -> None:
    if data is None:
        return
    target = remote.local / rel
    if not (target.is_file() and target.read_bytes() == data):
        atomic_write_bytes(target, data)
    remote.known[rel] = (len(data), hashlib.blake2b(data, digest_size=16).hexdigest())


def _pull_named(remote: RemoteCorpus, path: Path, size: int, digest: str | None, listing: dict) -> bool:
    """Whether the working copy now holds ``path`` as the record names it (kept if it already does)."""
    from corpuskit.store.remote import etag_md5, md5_of

    rel = remote.rel(path)
    info = listing.get(rel)
    if info is None or int(info.get("size") or 0) != size:
        return False
    if path.is_file() and path.stat().st_size == size:
        local, md5 = file_digest(path), etag_md5(info)
        if (local == digest) if digest is not None else (md5 is not None and md5_of(path) == md5):
            remote.known[rel] = (size, local)
            return True
    return remote.download(rel, size, digest)


def _state(path: Path) -> tuple[int, str]:
    return path.stat().st_size, file_digest(path)


def push_source(remote: RemoteCorpus, store: SourceStore) -> None:
    from corpuskit.store.remote import RemoteCorpusError

    lock = remote.rel(store.lock_file)
    local = {
        remote.rel(p): p
        for p in (sorted(store.root.rglob("*")) if store.root.is_dir() else [])
        if p.is_file() and not p.name.startswith(".") and remote.rel(p) != lock
    }
    commits = remote.rel(store.commits_root) + "/"
    records: dict[str, list[Path]] = {}
    plain: dict[str, Path] = {}
    for rel, path in local.items():
        files = named_files(store, read_json(path)) if rel.startswith(commits) else None
        if files is not None:
            records[rel] = [p for p, _, _ in files]
        elif not remote.under_data(store, rel):
            plain[rel] = path
    listing = remote.listing(remote.rel(store.root))
    state = {rel: _state(p) for rel, p in [*plain.items(), *((r, local[r]) for r in records)]}

    # 1. retract: a remote record that is not this very local record
    for rel in sorted(listing):
        if rel.startswith(commits) and rel not in plain and remote.known.get(rel) != state.get(rel):
            if rel in records or rel in remote.known:
                remote.delete(rel)
    # 2. units: data first, the record last
    for rel, files in sorted(records.items()):
        if remote.known.get(rel) == state[rel] and rel in listing:
            continue
        for f in files:
            if f.is_file() and remote.known.get(remote.rel(f)) != _state(f):
                remote.upload(f)
        remote.upload(local[rel])
    # 3. plain files
    for rel, path in sorted(plain.items()):
        if remote.known.get(rel) != state[rel] or rel not in listing:
            remote.upload(path)
    for rel in sorted(set(remote.known) - set(local)):
        if rel in listing and not remote.under_data(store, rel):
            remote.delete(rel)
    # 4. leftovers in the data folders with the store's own names
    named = {remote.rel(f) for files in records.values() for f in files}
    for rel in sorted(listing):
        name = rel.rsplit("/", 1)[-1]
        ours = DATA_FILE.match(name) or (name.startswith(".") and name.endswith(TEMP_SUFFIX))
        if remote.under_data(store, rel) and rel not in named and ours:
            remote.delete(rel)
    if remote.push_errors:
        raise RemoteCorpusError("; ".join(remote.push_errors))
