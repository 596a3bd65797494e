"""Stack Exchange phase two: each kept question read back from the scratch store with its answers
(accepted first, then by score) and comments, rendered as one document with licence and attribution."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from corpuskit.connectors.base import Record, Skip

if TYPE_CHECKING:
    from corpuskit.connectors.stackexchange import StackExchangeOptions

_TAGS = re.compile(r"<([^<>]+)>")
_LICENSE_URL = {
    "CC BY-SA 2.5": "https://creativecommons.org/licenses/by-sa/2.5/",
    "CC BY-SA 3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
}


def parse_date(s: str | None) -> datetime | None:
    """Dump dates are UTC without a zone (``2014-01-21T20:26:05.383``)."""
    if not s:
        return None
    try:
        d = datetime.fromisoformat(s)
    except ValueError:
        return None
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def thread_records(
    con: sqlite3.Connection, site: str | None, opts: StackExchangeOptions
) -> Iterator[Record | Skip]:
    """One document per kept question, in question-id order (deterministic output)."""
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
            yield Skip("too_few_answers", f"question={qid}", f"{len(answers)} answers < {opts.min_answers}")
            continue
        parts = [title.strip(), body] if title.strip() else [body]
        parts += _comments(sub, qid, opts)
        authors = [{"name": user_name(owner, owner_name), "profile": profile(owner), "role": "question"}]
        licenses = {lic}
        for aid, abody, _ascore, _acreated, aowner, aowner_name, alic in answers:
            parts.append(("Answer (accepted):" if aid == accepted else "Answer:") + "\n" + abody)
            parts += _comments(sub, aid, opts)
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


def _comments(cur: sqlite3.Cursor, post_id: int, opts: StackExchangeOptions) -> list[str]:
    if not opts.include_comments:
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
