"""One writer per source: an advisory ``flock`` on ``<corpus>/<source>/_lock``.

The kernel releases a flock when its process dies (even by ``kill -9``), so a lock is never stale. The
holder writes its pid and command into the file, so a second process can say who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from corpuskit.store.layout import SourceStore


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SourceBusy(Exception):
    """Another process is writing this source (CLI exit code 3)."""


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "another process"
    pid, _, command = text.partition(" ")
    return f"another `{command or 'corpuskit'}` (pid {pid})" if pid else "another process"


_held: dict[Path, bool] = {}  # lock files this process holds -> exclusively?


@contextlib.contextmanager
def source_lock(
    store: SourceStore, command: str, *, wait: bool = False, shared: bool = False
) -> Iterator[None]:
    """Hold the source's lock for the ``with`` block: exclusive for writers, ``shared`` for readers that
    must not see a source change under them. Raises :class:`SourceBusy` unless ``wait``. A process that
    already holds the lock (a remote corpus's working copy is locked around the stage) holds it again."""
    store.root.mkdir(parents=True, exist_ok=True)
    key = store.lock_file.resolve()
    if key in _held and (_held[key] or shared):
        yield
        return
    fd = os.open(store.lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise SourceBusy(
                    f"{_holder(store.lock_file)} holds {store.root}; wait for it or stop it "
                    "(or pass --wait to queue behind it)"
                ) from None
            print(f"waiting for {_holder(store.lock_file)} to release {store.root} ...", file=sys.stderr)
            fcntl.flock(fd, mode)
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {command}\n".encode(), 0)
        _held[key] = not shared
        try:
            yield
        finally:
            _held.pop(key, None)
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def source_locks(
    stores: Sequence[SourceStore], command: str, *, wait: bool = False, shared: Sequence[SourceStore] = ()
) -> Iterator[None]:
    """Locks of several sources, taken in a fixed order (so two commands never deadlock)."""
    shared_roots = {s.root for s in shared}
    with contextlib.ExitStack() as stack:
        for s in sorted({s.root: s for s in [*stores, *shared]}.values(), key=lambda s: str(s.root)):
            stack.enter_context(source_lock(s, command, wait=wait, shared=s.root in shared_roots))
        yield
