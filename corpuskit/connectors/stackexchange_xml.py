"""Reading a Stack Exchange dump's XML tables, from a ``.7z`` archive (streamed, nothing extracted to
disk) or from files of an extracted dump, into a :class:`~corpuskit.connectors.stackexchange_load.Loader`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from corpuskit.connectors.base import TRUNCATED, Skip
from corpuskit.connectors.safexml import RowParser
from corpuskit.connectors.stackexchange_load import Loader
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes, strip_compression_suffix

TABLES = ("Users", "Posts", "Comments")


def find_tables(path: Path) -> dict[str, Path]:
    """Table files of an extracted dump folder or beside a single ``*Posts.xml``."""
    found: dict[str, Path] = {}
    if path.is_dir():
        for f in sorted(path.iterdir()):
            base = strip_compression_suffix(f.name).lower()
            for table in TABLES:
                if base == f"{table.lower()}.xml" or base.endswith(f"_{table.lower()}.xml"):
                    found.setdefault(table, f)
        return found
    found["Posts"] = path
    if "Posts" in path.name:
        for table in ("Comments", "Users"):
            sib = path.with_name(path.name.replace("Posts", table))
            if sib.exists():
                found[table] = sib
    return found


class _SinkIO:
    """py7zr writer: decompressed bytes go straight into the XML parser, never to disk or a buffer."""

    def __init__(self, on_events: Callable[[list[dict[str, str] | Skip]], None]):
        self.parser = RowParser()
        self.on_events = on_events
        self.n = 0
        self.closed = False

    def write(self, s: bytes | bytearray) -> int:
        self.n += len(s)
        self.on_events(self.parser.feed(bytes(s)))
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.n

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.n

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.on_events(self.parser.close())


def load_files(files: dict[str, Path], tables: list[str], loader: Loader) -> bool:
    if "Posts" not in files:
        loader.skip(Skip("missing_posts", "Posts.xml", "no Posts.xml in this dump folder"))
        return False
    for table in tables:
        f = files.get(table)
        if f is None:
            continue
        parser = RowParser()
        try:
            with open_bytes(f) as fh:
                while chunk := fh.read(1 << 20):
                    loader.consume(table, parser.feed(chunk))
        except STREAM_ERRORS as e:
            loader.skip(Skip(TRUNCATED, f"{f.name}", f"cannot read further: {e}"))
        loader.consume(table, parser.close())
    return True


def load_7z(path: Path, tables: list[str], loader: Loader) -> bool:
    import py7zr
    from py7zr.io import WriterFactory

    try:
        with py7zr.SevenZipFile(path, "r") as z:
            names = {Path(n).name: n for n in z.getnames()}
            members = {t: names[f"{t}.xml"] for t in tables if f"{t}.xml" in names}
            if "Posts" not in members:
                loader.skip(Skip("missing_posts", path.name, "no Posts.xml inside the archive"))
                return False
            by_name = {v: k for k, v in members.items()}
            sinks: list[_SinkIO] = []

            class Factory(WriterFactory):
                def create(self, filename: str) -> _SinkIO:
                    table = by_name[filename]
                    sinks.append(_SinkIO(lambda evs, t=table: loader.consume(t, evs)))
                    return sinks[-1]

            z.extract(targets=list(members.values()), factory=Factory())
            for sink in sinks:
                sink.close()  # no-op when py7zr already closed it
    except ImportError:
        raise  # a broken install (py7zr needs psutil, say), not a bad archive: the run stops and says so
    except Exception as e:  # py7zr raises many types (Bad7zFile, CrcError, lzma/EOF errors)
        cut = isinstance(e, EOFError) or "truncat" in str(e).lower()
        loader.skip(
            Skip(
                TRUNCATED if cut else "bad_archive",
                path.name,
                f"7z archive unreadable or truncated: {type(e).__name__}: {e}",
            )  # fmt: skip
        )
        return loader.con.execute("SELECT COUNT(*) FROM q").fetchone()[0] > 0 or bool(loader.pending["q"])
    return True
