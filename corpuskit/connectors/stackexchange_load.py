"""Stack Exchange phase one: rows of each dump table go to the scratch SQLite store, HTML already turned
into text, each post with its licence (see :mod:`corpuskit.connectors.stackexchange`)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from corpuskit.connectors.base import Skip
from corpuskit.connectors.htmltext import html_to_text

if TYPE_CHECKING:
    from corpuskit.connectors.stackexchange import StackExchangeOptions

_BATCH = 2000


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


def _int(s: str | None) -> int | None:
    try:
        return int(s) if s not in (None, "") else None
    except ValueError:
        return None


SCHEMA = """
CREATE TABLE q(id INTEGER PRIMARY KEY, title TEXT, body TEXT, score INT, tags TEXT, created TEXT,
               last_edit TEXT, accepted INT, answer_count INT, views INT, owner INT, owner_name TEXT,
               license TEXT, keep INT);
CREATE TABLE a(id INTEGER PRIMARY KEY, parent INT, body TEXT, score INT, created TEXT, owner INT,
               owner_name TEXT, license TEXT);
CREATE TABLE c(id INTEGER PRIMARY KEY, post INT, text TEXT, score INT, created TEXT);
CREATE TABLE u(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE skip(n INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT, locator TEXT, detail TEXT);
"""


class Loader:
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
