"""One writer per source on object storage: a lock object created only if absent.

A ``flock`` cannot span machines, so a writer creates ``<corpus>/<source>/_lock`` with a conditional
write (fsspec mode ``"xb"``: S3 ``PutObject`` with ``If-None-Match: *``, an exclusive create on local and
memory filesystems). The object names its holder (host, pid, command, user, time); a second writer gets
:class:`~corpuskit.store.lock.SourceBusy` (exit 3) naming it. The holder deletes the object when it is done
(only if it is still its own).

A writer killed with ``kill -9`` cannot delete its lock: the lock is then *stale*. On the same host a lock
whose process is gone is taken over at once (the kernel says the pid is dead); a lock from another host
cannot be checked from here, so the message says how to remove it once that host's process is known to be
gone.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from corpuskit.store.layout import SourceStore
from corpuskit.store.lock import SourceBusy, pid_alive
from corpuskit.store.remote import RemoteCorpus, RemoteCorpusError

WAIT_POLL_S = 5.0


def _owner(command: str) -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": command,
        "user": user,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
        "nonce": os.urandom(8).hex(),
    }


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "another writer (its lock object is unreadable)"
    return (
        f"another `{holder.get('command', 'corpuskit')}` (pid {holder.get('pid')} on {holder.get('host')}, "
        f"user {holder.get('user')}, since {holder.get('since')})"
    )


def _read(remote: RemoteCorpus, rel: str) -> dict[str, Any] | None:
    try:
        data = remote.cat(rel)
        return json.loads(data) if data else None
    except (ValueError, RemoteCorpusError):
        return None


def _create(remote: RemoteCorpus, rel: str, owner: dict[str, Any]) -> bool:
    """Create the lock object if absent; False if it exists."""
    key = remote.key(rel)
    try:
        if not remote.atomic_put:  # a filesystem needs the folder; an object store has none (and s3fs
            remote.fs.makedirs(key.rsplit("/", 1)[0], exist_ok=True)  # would create a missing bucket)
        with remote.fs.open(key, "xb") as f:
            f.write((json.dumps(owner, sort_keys=True) + "\n").encode())
        return True
    except FileExistsError:
        return False
    except Exception as e:  # noqa: BLE001 - a driver's errors have no common base
        raise RemoteCorpusError(
            f"{remote.where(rel)}: cannot create the lock: {type(e).__name__}: {e}"
        ) from None


@contextlib.contextmanager
def remote_lock(remote: RemoteCorpus, source: str, command: str, *, wait: bool = False) -> Iterator[None]:
    """Hold the source's lock object for the ``with`` block; :class:`SourceBusy` if another writer has it
    (``wait``: poll until it is free)."""
    rel = remote.rel(SourceStore(remote.local, source).lock_file)
    owner = _owner(command)
    while True:
        try:
            _acquire(remote, source, rel, owner)
            break
        except SourceBusy as e:
            if not wait:
                raise
            print(f"waiting: {e}", file=sys.stderr)
            time.sleep(WAIT_POLL_S)
    try:
        yield
    finally:
        if (_read(remote, rel) or {}).get("nonce") == owner["nonce"]:
            remote.delete(rel)


def _acquire(remote: RemoteCorpus, source: str, rel: str, owner: dict[str, Any]) -> None:
    if not _create(remote, rel, owner):
        holder = _read(remote, rel)
        stale = (
            holder is not None
            and holder.get("host") == owner["host"]
            and isinstance(holder.get("pid"), int)
            and not pid_alive(holder["pid"])
        )
        if not stale:
            where, lock = remote.where(source), remote.where(rel)
            raise SourceBusy(
                f"{_describe(holder)} holds {where} (lock {lock}); wait for it or stop it. If that process "
                f"is gone (killed, its machine lost) the lock is stale: delete {lock} (e.g. `aws s3 rm "
                f"{lock}`) and rerun; committed units are kept"
            )
        remote.delete(rel)  # its process is dead (same host): the lock is stale
        if not _create(remote, rel, owner):
            raise SourceBusy(f"{_describe(_read(remote, rel))} took {remote.where(source)} just now")
