"""Reddit threads mode: one pass writes submissions and comments to a scratch SQLite store, then each
submission comes back with its comment tree (see :mod:`corpuskit.connectors.reddit` for why on disk).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpuskit.connectors.base import Record, Skip
from corpuskit.connectors.reddit_dump import each_object, fullname, utc
from corpuskit.connectors.reddit_fields import (
    RedditFilter,
    RedditOptions,
    permalink_url,
    submission_meta,
    text_of,
)
from corpuskit.connectors.tempstore import scratch_db

_SCHEMA = """
CREATE TABLE s(id TEXT PRIMARY KEY, created REAL, title TEXT, body TEXT, meta TEXT, url TEXT, dropped TEXT);
CREATE TABLE c(id TEXT PRIMARY KEY, link TEXT, parent TEXT, body TEXT, score REAL, created REAL, loc TEXT);
"""


def thread_records(files: list[Path], label: bool, opts: RedditOptions) -> Iterator[Record | Skip]:
    """One document per submission of ``files``, its comments as a tree; skips in input order first."""
    with scratch_db(opts.temp_dir) as con:
        con.executescript(_SCHEMA)
        loader = _Loader(con, RedditFilter(opts))
        yield from each_object(files, label, loader.add)
        loader.flush()
        con.execute("CREATE INDEX c_link ON c(link)")
        yield from _emit(con)


class _Loader:
    """Pass one: kept fields of each object go to the scratch store, in batches."""

    def __init__(self, con: sqlite3.Connection, flt: RedditFilter):
        self.con = con
        self.flt = flt
        self.subs: list[tuple[Any, ...]] = []
        self.comments: list[tuple[Any, ...]] = []

    def add(self, loc: str, kind: str, obj: dict[str, Any]) -> Skip | None:
        if kind == "submission":
            sid = fullname(obj, "t3_")
            if sid is None:
                return Skip("malformed_record", loc, "submission without id")
            title, body = text_of(obj.get("title")), text_of(obj.get("selftext"))
            dropped = self.flt.drop_reason(obj, body)
            if dropped == "deleted_or_removed":  # the self text is gone; title and comments remain
                body, dropped = "", None
            meta = json.dumps(submission_meta(obj))
            created = obj.get("created_utc") or 0
            self.subs.append((sid, created, title, body, meta, permalink_url(obj), dropped))
        else:
            cid = fullname(obj, "t1_")
            link = obj.get("link_id")
            if cid is None or not isinstance(link, str):
                return Skip("malformed_record", loc, "comment without id or link_id")
            text = text_of(obj.get("body"))
            kept = self.flt.drop_reason(obj, text) is None and text
            score = obj.get("score") if isinstance(obj.get("score"), int | float) else 0
            self.comments.append((cid, link, obj.get("parent_id"), text if kept else None, score,
                                  obj.get("created_utc") or 0, loc))  # fmt: skip
        if len(self.subs) + len(self.comments) >= 2000:
            self.flush()
        return None

    def flush(self) -> None:
        self.con.executemany("INSERT OR IGNORE INTO s VALUES (?,?,?,?,?,?,?)", self.subs)
        self.con.executemany("INSERT OR IGNORE INTO c VALUES (?,?,?,?,?,?,?)", self.comments)
        self.subs.clear()
        self.comments.clear()


def _emit(con: sqlite3.Connection) -> Iterator[Record | Skip]:
    sub = con.cursor()
    for sid, created, title, body, meta_s, url, dropped in con.execute(
        "SELECT id, created, title, body, meta, url, dropped FROM s ORDER BY created, id"
    ):
        if dropped:
            yield Skip(dropped, f"submission={sid}")
            continue
        rows = sub.execute("SELECT id, parent, body, score, created FROM c WHERE link=?", (sid,)).fetchall()
        tree, ids = render_tree(sid, rows)
        if not body and not tree:
            yield Skip("empty_thread", f"submission={sid}", "no self text and no kept comments")
            continue
        meta = json.loads(meta_s)
        meta.update(comments_included=len(ids), comments_in_input=len(rows), comment_ids=ids)
        text = "\n\n".join(p for p in (title, body, tree) if p)
        yield Record(text, f"submission={sid}", url, utc(created), meta)
    for cid, link, loc in con.execute(
        "SELECT id, link, loc FROM c WHERE link NOT IN (SELECT id FROM s) ORDER BY link, id"
    ):
        yield Skip("orphan_comment", f"comment={cid}", f"its submission {link} is not in the input ({loc})")


def render_tree(
    root: str, rows: list[tuple[str, str | None, str | None, float, float]]
) -> tuple[str, list[str]]:
    """Comments as a nested Markdown list, depth first, siblings by score then time.

    ``rows`` are (id, parent_id, body or None when dropped, score, created). A dropped comment's replies
    take its place; a reply whose parent is missing from the input hangs from the submission.
    """
    known = {r[0] for r in rows}
    children: dict[str, list[tuple[str, str | None, str | None, float, float]]] = {}
    for r in rows:
        parent = r[1] if r[1] in known else root
        children.setdefault(parent, []).append(r)
    for kids in children.values():
        kids.sort(key=lambda r: (-r[3], r[4], r[0]))
    lines: list[str] = []
    ids: list[str] = []
    stack: list[tuple[str, int]] = [(r[0], 0) for r in reversed(children.get(root, []))]
    by_id = {r[0]: r for r in rows}
    while stack:
        cid, depth = stack.pop()
        body = by_id[cid][2]
        child_depth = depth
        if body:
            pad = "  " * depth
            body_lines = body.split("\n")
            lines.append(pad + "- " + body_lines[0])
            lines.extend((pad + "  " + ln) if ln.strip() else "" for ln in body_lines[1:])
            ids.append(cid)
            child_depth = depth + 1
        stack.extend((r[0], child_depth) for r in reversed(children.get(cid, [])))
    return "\n".join(lines), ids
