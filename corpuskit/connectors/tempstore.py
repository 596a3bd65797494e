"""An on-disk SQLite scratch store for connectors that must group records before emitting them.

Stack Exchange answers can come years after their question in ``Posts.xml``; Reddit comments are
ordered by time, not by thread; e-mail replies may precede what they reply to. Holding everything in
memory would make memory grow with the input, so these connectors write rows here in one pass and
read them back grouped. SQLite keeps RAM bounded by its page cache (``cache_size`` below) whatever
the input size; the cost is temporary disk roughly the size of the kept text, freed on close.
Journaling and fsync are off: the file is scratch and is deleted when the connector finishes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "corpuskit-scratch-"

CACHE_KIB = 16 * 1024  # SQLite page cache per store: with one XML/JSON chunk, the memory bound


@contextmanager
def scratch_db(temp_dir: Path | str | None = None) -> Iterator[sqlite3.Connection]:
    """A throwaway SQLite database in its own temporary folder, removed on exit. The folder is named with
    the owner's pid, so one left by a killed process is removed by the next scratch user."""
    remove_orphans(temp_dir)
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-", dir=temp_dir) as tmp:
        con = sqlite3.connect(Path(tmp) / "scratch.sqlite", isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            con.execute("PRAGMA temp_store=FILE")
            con.execute("BEGIN")
            yield con
        finally:
            con.close()


def remove_orphans(temp_dir: Path | str | None = None) -> int:
    """Remove scratch folders whose owning process no longer exists; returns how many."""
    root = Path(temp_dir or tempfile.gettempdir())
    n = 0
    for p in root.glob(f"{PREFIX}*"):
        pid = p.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(p, ignore_errors=True)
            n += 1
    return n


def _alive(pid: int) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 0)
        return True
    return False
