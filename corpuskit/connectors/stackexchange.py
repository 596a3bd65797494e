"""Stack Exchange data dumps: one document per question thread (question + answers [+ comments]).

Input (one of): a ``.7z`` site archive as published on archive.org (read directly, nothing extracted
to disk), an extracted dump folder, or a single ``Posts.xml`` (``*Posts.xml``, optionally gzip/zstd;
sibling ``*Comments.xml`` / ``*Users.xml`` beside it are used when present).

**Why a two-phase, on-disk design.** ``Posts.xml`` is ordered by post id, and an answer may come years
(millions of rows) after its question, so a thread can only be complete once the whole table has been
read. Holding posts in memory would grow with the dump (Stack Overflow's is ~100 GB), and a first pass
of ids/scores only would still need a second full parse plus random access to bodies. Instead one
streaming pass converts each post's HTML to text and writes it to a scratch SQLite store
(:mod:`corpuskit.connectors.tempstore`): RAM stays at SQLite's page cache plus one XML chunk, disk use
is about the size of the kept text, and the store is deleted when the input is done. Threads are then
read back in question-id order (deterministic output).

XML is parsed with :mod:`corpuskit.connectors.safexml`: entity declarations are refused (a
billion-laughs file stops at once with a ``xml_entity_declaration`` Skip) and rows after a malformed
line are kept.

Licence: each post carries its licence (``ContentLicense`` in dumps since 2019); older dumps lack it,
so it is derived from the post's last edit date using Stack Exchange's published schedule (CC BY-SA
2.5 before 2011-04-08, 3.0 until 2018-05-02, 4.0 after). CC BY-SA needs attribution, so every document
carries the question URL, the authors' names with profile links and a ready-made attribution line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field

from corpuskit.connectors.base import Connector, Options, Record, Skip
from corpuskit.connectors.stackexchange_load import SCHEMA, Loader, license_for
from corpuskit.connectors.stackexchange_threads import parse_date, thread_records
from corpuskit.connectors.stackexchange_xml import TABLES, find_tables, load_7z, load_files
from corpuskit.connectors.streams import strip_compression_suffix
from corpuskit.connectors.tempstore import scratch_db

__all__ = [
    "TABLES",
    "StackExchangeConnector",
    "StackExchangeOptions",
    "infer_site",
    "license_for",
    "parse_date",
]

_SITE = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")


class StackExchangeOptions(Options):
    site: str | None = Field(
        None, description="site host, e.g. 'beer.stackexchange.com'; inferred from the input name if unset"
    )
    min_score: int | None = Field(None, description="questions with a lower score are skipped")
    min_answer_score: int | None = Field(
        None, description="answers with a lower score are left out of the thread (answers-only-above-score)"
    )
    min_answers: int = Field(0, ge=0, description="threads with fewer kept answers are skipped")
    include_comments: bool = Field(False, description="append each post's comments (needs Comments.xml)")
    temp_dir: Path | None = Field(None, description="where the scratch store goes (default: system temp)")


def infer_site(path: Path) -> str | None:
    """``beer.stackexchange.com.7z``, ``beer.stackexchange.com_Posts.xml``, ``stackoverflow.com-Posts.7z``
    or a folder named after the site."""
    name = strip_compression_suffix(path.name)
    for suffix in (".7z", ".xml"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    for table in TABLES:
        for sep in ("_", "-"):
            if name.endswith(sep + table):
                name = name[: -len(table) - 1]
    return name if _SITE.match(name) and name.lower() not in {t.lower() for t in TABLES} else None


class StackExchangeConnector(Connector[StackExchangeOptions]):
    kind = "stackexchange"
    requires = (("lxml.etree", "lxml"),)
    accepts_directories = True
    default_patterns = ("*.7z", "*Posts.xml", "*Posts.xml.gz", "*Posts.xml.zst")

    def check_environment(self) -> None:
        from corpuskit.environment import check_py7zr

        super().check_environment()
        check_py7zr()

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        opts = self.options
        # the URI's name first: a downloaded file sits in the cache under a hash-prefixed name
        site = opts.site or infer_site(Path(urlsplit(uri).path)) or infer_site(path)
        with scratch_db(opts.temp_dir) as con:
            con.executescript(SCHEMA)
            loader = Loader(con, opts)
            tables = ["Users", "Posts"] + (["Comments"] if opts.include_comments else [])
            if path.suffix.lower() == ".7z":
                ok = load_7z(path, tables, loader)
            else:
                ok = load_files(find_tables(path), tables, loader)
            loader.flush()
            con.execute("CREATE INDEX a_parent ON a(parent)")
            con.execute("CREATE INDEX c_post ON c(post)")
            yield from (
                Skip(*row) for row in con.execute("SELECT reason, locator, detail FROM skip ORDER BY n")
            )
            if ok:
                yield from thread_records(con, site, opts)
