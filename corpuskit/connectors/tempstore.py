"""An on-disk SQLite scratch store for connectors that must group records before emitting them.

Stack Exchange answers can come years after their question in ``Posts.xml``; Reddit comments are
ordered by time, not by thread; e-mail replies may precede what they reply to. Holding everything in
memory would make memory grow with the input, so these connectors write rows here in one pass and
read them back grouped. SQLite keeps RAM bounded by its page cache (``cache_size`` below) whatever
the input size; the cost is temporary disk roughly the size of the kept text, freed on close.
Journaling and fsync are off: the file is scratch and is deleted when the connector finishes.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_KIB = 16 * 1024  # SQLite page cache per store: with one XML/JSON chunk, the memory bound


@contextmanager
def scratch_db(temp_dir: Path | str | None = None) -> Iterator[sqlite3.Connection]:
    """A throwaway SQLite database in its own temporary folder, removed on exit."""
    with tempfile.TemporaryDirectory(prefix="corpuskit-", dir=temp_dir) as tmp:
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
