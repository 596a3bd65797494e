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
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from corpuskit.connectors.base import TRUNCATED, Connector, Options, Record, Skip, register
from corpuskit.connectors.htmltext import html_to_text
from corpuskit.connectors.safexml import RowParser
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes, strip_compression_suffix
from corpuskit.connectors.tempstore import scratch_db

TABLES = ("Users", "Posts", "Comments")
_SITE = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_TAGS = re.compile(r"<([^<>]+)>")
_LICENSE_URL = {
    "CC BY-SA 2.5": "https://creativecommons.org/licenses/by-sa/2.5/",
    "CC BY-SA 3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
}
_BATCH = 2000


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


def parse_date(s: str | None) -> datetime | None:
    """Dump dates are UTC without a zone (``2014-01-21T20:26:05.383``)."""
    if not s:
        return None
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        return None
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def license_for(row: dict[str, str]) -> str:
    """The post's licence: its ``ContentLicense`` or, for older dumps, the one in force at its last edit."""
    if row.get("ContentLicense"):
        return row["ContentLicense"]
    when = row.get("LastEditDate") or row.get("CreationDate") or ""
    if when < "2011-04-08":
        return "CC BY-SA 2.5"
    if when < "2018-05-02":
        return "CC BY-SA 3.0"
    return "CC BY-SA 4.0"


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


def _int(s: str | None) -> int | None:
    try:
        return int(s) if s not in (None, "") else None
    except ValueError:
        return None


_SCHEMA = """
CREATE TABLE q(id INTEGER PRIMARY KEY, title TEXT, body TEXT, score INT, tags TEXT, created TEXT,
               last_edit TEXT, accepted INT, answer_count INT, views INT, owner INT, owner_name TEXT,
               license TEXT, keep INT);
CREATE TABLE a(id INTEGER PRIMARY KEY, parent INT, body TEXT, score INT, created TEXT, owner INT,
               owner_name TEXT, license TEXT);
CREATE TABLE c(id INTEGER PRIMARY KEY, post INT, text TEXT, score INT, created TEXT);
CREATE TABLE u(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE skip(n INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT, locator TEXT, detail TEXT);
"""


class _Loader:
    """Phase one: rows of each table go to the scratch store (HTML already turned into text)."""

    def __init__(self, con: sqlite3.Connection, opts: StackExchangeOptions):
        self.con = con
        self.opts = opts
        self.pending: dict[str, list[tuple[Any, ...]]] = {"q": [], "a": [], "c": [], "u": [], "skip": []}

    def consume(self, table: str, events: list[dict[str, str] | Skip]) -> None:
        handle = {"Posts": self._post, "Comments": self._comment, "Users": self._user}[table]
        for ev in events:
            if isinstance(ev, Skip):
                self.skip(Skip(ev.reason, f"{table}.xml:{ev.locator}", ev.detail))
            else:
                handle(ev)
        if sum(len(v) for v in self.pending.values()) >= _BATCH:
            self.flush()

    def skip(self, s: Skip) -> None:
        self.pending["skip"].append((s.reason, s.locator, s.detail))

    def _post(self, row: dict[str, str]) -> None:
        pid = _int(row.get("Id"))
        if pid is None:
            self.skip(
                Skip("malformed_record", f"post_id={row.get('Id')!r}", "post row without an integer Id")
            )
            return
        kind = row.get("PostTypeId")
        score = _int(row.get("Score")) or 0
        owner = _int(row.get("OwnerUserId"))
        if kind == "1":
            keep = self.opts.min_score is None or score >= self.opts.min_score
            if not keep:
                self.skip(
                    Skip("below_min_score", f"question={pid}", f"score {score} < {self.opts.min_score}")
                )
            body = html_to_text(row.get("Body", "")) if keep else None
            self.pending["q"].append(
                (pid, row.get("Title", ""), body, score, row.get("Tags", ""), row.get("CreationDate"),
                 row.get("LastEditDate"), _int(row.get("AcceptedAnswerId")), _int(row.get("AnswerCount")),
                 _int(row.get("ViewCount")), owner, row.get("OwnerDisplayName"), license_for(row), int(keep))
            )  # fmt: skip
        elif kind == "2":
            if self.opts.min_answer_score is not None and score < self.opts.min_answer_score:
                return  # a per-answer filter inside a thread, not a document drop
            self.pending["a"].append(
                (pid, _int(row.get("ParentId")), html_to_text(row.get("Body", "")), score,
                 row.get("CreationDate"), owner, row.get("OwnerDisplayName"), license_for(row))
            )  # fmt: skip
        else:
            self.skip(Skip("other_post_type", f"post={pid}", f"PostTypeId={kind} (not a question or answer)"))

    def _comment(self, row: dict[str, str]) -> None:
        cid, post = _int(row.get("Id")), _int(row.get("PostId"))
        if cid is None or post is None:
            self.skip(Skip("malformed_record", f"comment_id={row.get('Id')!r}", "comment without Id/PostId"))
            return
        text = (row.get("Text") or "").strip()
        self.pending["c"].append((cid, post, text, _int(row.get("Score")) or 0, row.get("CreationDate")))

    def _user(self, row: dict[str, str]) -> None:
        uid = _int(row.get("Id"))
        if uid is not None:
            self.pending["u"].append((uid, row.get("DisplayName")))

    def flush(self) -> None:
        cols = {"q": 14, "a": 8, "c": 5, "u": 2}
        for table, rows in self.pending.items():
            if not rows:
                continue
            if table == "skip":
                self.con.executemany("INSERT INTO skip(reason, locator, detail) VALUES (?,?,?)", rows)
            else:
                marks = ",".join("?" * cols[table])
                self.con.executemany(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", rows)
            rows.clear()


def _find_tables(path: Path) -> dict[str, Path]:
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


@register
class StackExchangeConnector(Connector):
    kind = "stackexchange"
    requires = (("lxml.etree", "lxml"),)

    def check_environment(self) -> None:
        from corpuskit.environment import check_py7zr

        super().check_environment()
        check_py7zr()

    Options = StackExchangeOptions
    accepts_directories = True
    default_patterns = ("*.7z", "*Posts.xml", "*Posts.xml.gz", "*Posts.xml.zst")

    options: StackExchangeOptions

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        opts = self.options
        # the URI's name first: a downloaded file sits in the cache under a hash-prefixed name
        site = opts.site or infer_site(Path(urlsplit(uri).path)) or infer_site(path)
        with scratch_db(opts.temp_dir) as con:
            con.executescript(_SCHEMA)
            loader = _Loader(con, opts)
            tables = ["Users", "Posts"] + (["Comments"] if opts.include_comments else [])
            if path.suffix.lower() == ".7z":
                ok = self._load_7z(path, tables, loader)
            else:
                ok = self._load_files(_find_tables(path), tables, loader)
            loader.flush()
            con.execute("CREATE INDEX a_parent ON a(parent)")
            con.execute("CREATE INDEX c_post ON c(post)")
            yield from (
                Skip(*row) for row in con.execute("SELECT reason, locator, detail FROM skip ORDER BY n")
            )
            if ok:
                yield from self._threads(con, site)

    def _load_files(self, files: dict[str, Path], tables: list[str], loader: _Loader) -> bool:
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

    def _load_7z(self, path: Path, tables: list[str], loader: _Loader) -> bool:
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

    def _threads(self, con: sqlite3.Connection, site: str | None) -> Iterator[Record | Skip]:
        opts = self.options
        users = con.cursor()

        def user_name(uid: int | None, fallback: str | None) -> str:
            if uid is not None:
                row = users.execute("SELECT name FROM u WHERE id=?", (uid,)).fetchone()
                if row and row[0]:
                    return row[0]
            return fallback or (f"user{uid}" if uid is not None else "anonymous")

        def profile(uid: int | None) -> str | None:
            return f"https://{site}/users/{uid}" if site and uid is not None and uid > 0 else None

        sub = con.cursor()
        qcur = con.execute(
            "SELECT id, title, body, score, tags, created, accepted, answer_count, views, owner, owner_name,"
            " license FROM q WHERE keep=1 ORDER BY id"
        )
        for qid, title, body, score, tags, created, accepted, n_total, views, owner, owner_name, lic in qcur:
            answers = sub.execute(
                "SELECT id, body, score, created, owner, owner_name, license FROM a WHERE parent=?"
                " ORDER BY (id = ?) DESC, score DESC, created, id",
                (qid, accepted or -1),
            ).fetchall()
            if len(answers) < opts.min_answers:
                yield Skip(
                    "too_few_answers", f"question={qid}", f"{len(answers)} answers < {opts.min_answers}"
                )
                continue
            parts = [title.strip(), body] if title.strip() else [body]
            parts += self._comments(sub, qid)
            authors = [{"name": user_name(owner, owner_name), "profile": profile(owner), "role": "question"}]
            licenses = {lic}
            for aid, abody, _ascore, _acreated, aowner, aowner_name, alic in answers:
                parts.append(("Answer (accepted):" if aid == accepted else "Answer:") + "\n" + abody)
                parts += self._comments(sub, aid)
                authors.append(
                    {"name": user_name(aowner, aowner_name), "profile": profile(aowner), "role": "answer"}
                )
                licenses.add(alic)
            text = "\n\n".join(p for p in parts if p)
            url = f"https://{site}/questions/{qid}" if site else None
            license_str = "; ".join(sorted(licenses))
            yield Record(
                text=text,
                locator=f"question={qid}",
                url=url,
                created=parse_date(created),
                metadata={
                    "site": site,
                    "question_id": qid,
                    "title": title,
                    "score": score,
                    "tags": _TAGS.findall(tags or "") or [t for t in (tags or "").split("|") if t],
                    "answer_count": len(answers),
                    "answer_count_total": n_total,
                    "answer_ids": [a[0] for a in answers],
                    "accepted_answer_id": accepted,
                    "view_count": views,
                    "license": license_str,
                    "license_url": [_LICENSE_URL.get(x) for x in sorted(licenses)],
                    "authors": authors,
                    "attribution": _attribution(title, url, site, authors, license_str),
                },
            )

    def _comments(self, cur: sqlite3.Cursor, post_id: int) -> list[str]:
        if not self.options.include_comments:
            return []
        rows = cur.execute("SELECT text FROM c WHERE post=? ORDER BY created, id", (post_id,)).fetchall()
        return ["\n".join(f"Comment: {t}" for (t,) in rows if t)] if rows else []


def _attribution(title: str, url: str | None, site: str | None, authors: list[dict], lic: str) -> str:
    """The attribution CC BY-SA asks for: title, link, authors, licence."""
    names = []
    for a in authors:
        if a["name"] not in names:
            names.append(a["name"])
    where = f" on {site}" if site else " on Stack Exchange"
    link = f" ({url})" if url else ""
    return f'"{title}"{link}{where}, by {", ".join(names)}; licensed under {lic}.'
