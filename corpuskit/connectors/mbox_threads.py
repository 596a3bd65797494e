"""Mbox threads: messages go to a scratch SQLite store under a provisional root, roots are resolved
through known messages, then each thread is read back as one document (see
:mod:`corpuskit.connectors.mbox` for why on disk)."""

from __future__ import annotations

import email
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from corpuskit.connectors.base import TRUNCATED, Record, Skip
from corpuskit.connectors.mbox_clean import clean_body
from corpuskit.connectors.mbox_message import body_text, decode_header, message_ids, parse_date, split_mbox
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes
from corpuskit.connectors.tempstore import scratch_db

if TYPE_CHECKING:
    from corpuskit.connectors.mbox import MboxOptions

_LIST_ID = re.compile(r"<([^<>]+)>")

_SCHEMA = """
CREATE TABLE m(pos INTEGER PRIMARY KEY, mid TEXT, root TEXT, subject TEXT, created REAL, list TEXT,
               body TEXT, fallback INT);
CREATE INDEX m_mid ON m(mid);
"""


def thread_records(path: Path, opts: MboxOptions, default_list: str) -> Iterator[Record | Skip]:
    """One document per thread of the mbox at ``path``; the skips of the reading pass first."""
    with scratch_db(opts.temp_dir) as con:
        con.executescript(_SCHEMA)
        yield from _load(path, con, opts)
        _resolve_roots(con)
        con.execute("CREATE INDEX m_root ON m(root)")
        yield from _threads(con, default_list)


def _load(path: Path, con: sqlite3.Connection, opts: MboxOptions) -> Iterator[Skip]:
    line = 0
    try:
        with open_bytes(path) as fh:
            for item in split_mbox(fh, opts.max_message_bytes):
                if isinstance(item, Skip):
                    yield item
                    continue
                line, raw = item
                if skip := _add(con, line, raw, opts):
                    yield skip
    except STREAM_ERRORS as e:
        yield Skip(TRUNCATED, f"after_line={line}", f"cannot read further: {type(e).__name__}: {e}")


def _add(con: sqlite3.Connection, line: int, raw: bytes, opts: MboxOptions) -> Skip | None:
    try:
        msg = email.message_from_bytes(raw)
    except Exception as e:  # the stdlib parser is lenient; this guards against the odd crash
        return Skip("malformed_message", f"line={line}", f"{type(e).__name__}: {e}")
    if not msg.keys():
        return Skip("malformed_message", f"line={line}", "no headers")
    own = message_ids(decode_header(msg.get("Message-ID")))
    mid = own[0] if own else f"<line-{line}@corpuskit.invalid>"
    if own and con.execute("SELECT 1 FROM m WHERE mid=?", (mid,)).fetchone():
        return Skip("duplicate_message", f"line={line}", f"Message-ID {mid} already seen in this file")
    refs = message_ids(decode_header(msg.get("References")))
    reply_to = message_ids(decode_header(msg.get("In-Reply-To")))
    root = refs[0] if refs else reply_to[0] if reply_to else mid
    text, fallback = body_text(msg)
    body = clean_body(text, opts)
    list_id = decode_header(msg.get("List-Id"))
    m = _LIST_ID.search(list_id)
    created = parse_date(decode_header(msg.get("Date")))
    con.execute(
        "INSERT INTO m VALUES (?,?,?,?,?,?,?,?)",
        (line, mid, root, decode_header(msg.get("Subject")), created.timestamp() if created else None,
         m.group(1) if m else (list_id or None), body, int(fallback)),
    )  # fmt: skip
    return None


def _threads(con: sqlite3.Connection, default_list: str) -> Iterator[Record | Skip]:
    cur = con.cursor()
    for (root,) in con.execute("SELECT root FROM m GROUP BY root ORDER BY MIN(pos)"):
        rows = cur.execute(
            "SELECT mid, subject, created, list, body, fallback FROM m WHERE root=?"
            " ORDER BY created IS NULL, created, pos",
            (root,),
        ).fetchall()
        mids = [r[0] for r in rows]
        subject = next((r[1] for r in rows if r[1]), "")
        bodies = [r[4] for r in rows if r[4] and r[4].strip()]
        locator = f"thread={root}"
        if not bodies:
            yield Skip("empty_thread", locator, "no message text left after cleaning")
            continue
        created = [r[2] for r in rows if r[2] is not None]
        head = f"Subject: {subject}\n\n" if subject else ""
        yield Record(
            text=head + "\n\n---\n\n".join(bodies),
            locator=locator,
            created=datetime.fromtimestamp(min(created), tz=UTC) if created else None,
            metadata={
                "list": next((r[3] for r in rows if r[3]), None) or default_list,
                "subject": subject,
                "thread_root": root,
                "message_ids": mids,
                "dates": [datetime.fromtimestamp(r[2], tz=UTC).isoformat() if r[2] else None for r in rows],
                "message_count": len(rows),
                "charset_fallbacks": sum(r[5] for r in rows),
            },
        )


def _resolve_roots(con: sqlite3.Connection, max_rounds: int = 64) -> None:
    """Follow provisional roots through known messages until no root changes (bounded for cycles)."""
    for _ in range(max_rounds):
        changed = con.execute(
            "UPDATE m SET root = (SELECT p.root FROM m p WHERE p.mid = m.root AND p.root != m.root"
            " ORDER BY p.pos LIMIT 1)"
            " WHERE EXISTS (SELECT 1 FROM m p WHERE p.mid = m.root AND p.root != m.root)"
        ).rowcount
        if not changed:
            return
