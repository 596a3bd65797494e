"""Reddit dumps (pushshift style): one document per submission with its comment tree, or per comment.

Input: a ``.jsonl`` / ``.ndjson`` / ``.json`` file (JSON lines; a small JSON array also works), or the
same compressed (``.zst`` with a 2 GiB window as pushshift needs, ``.gz``, ``.bz2``, ``.xz``), or a
folder of such files. Objects may be bare pushshift objects or Reddit API ``{"kind": "t1", "data":
{…}}`` wrappers. A line is a submission if it has a ``title`` (or a ``t3_`` name), a comment if it
has a ``body`` and ``link_id``.

Modes:

* ``threads`` — one document per submission: title, self text, then the comment tree depth-first
  as a nested Markdown list, siblings by score (highest first). Needs the submissions *and* the
  comments: give a folder holding both, a file mixing both, or a submissions file whose comments
  sit beside it (``RS_2019-01.zst`` → ``RC_2019-01.zst``, ``*submissions*`` → ``*comments*``).
* ``comments`` — one document per comment (and per submission with self text), streamed directly.
* ``auto`` (default) — ``threads`` when the input holds any submission, else ``comments``.

Why an on-disk store for threads: pushshift files are ordered by time, so a thread's comments are
spread over the whole month; grouping them in memory would grow with the file. One pass writes the
kept fields to a scratch SQLite store (:mod:`corpuskit.connectors.tempstore`) and threads are read
back by ``link_id`` index, so RAM holds one thread at a time.

Dropped, each counted: ``[deleted]``/``[removed]`` bodies, bot authors (a configurable list and
pattern), scores below ``min_score``, bad JSON lines, non-UTF-8 lines, truncated archives. A deleted
comment's replies stay in the thread (lifted to its place). Authors are not kept (personal data).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from corpuskit.connectors.base import TRUNCATED, Connector, Options, Record, Skip, register
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes, strip_compression_suffix
from corpuskit.connectors.tempstore import scratch_db

REMOVED = {"[deleted]", "[removed]", "[removed by reddit]", "[ Removed by Reddit ]", "[deleted by user]"}
DEFAULT_BOTS = [
    "AutoModerator",
    "RemindMeBot",
    "WikiTextBot",
    "TweetPoster",
    "image_linker_bot",
    "sneakpeekbot",
]
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_ARRAY_MAX_BYTES = 256 << 20


class RedditOptions(Options):
    mode: Literal["auto", "threads", "comments"] = Field("auto", description="see the module docstring")
    min_score: int | None = Field(None, description="submissions/comments with a lower score are dropped")
    bot_authors: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BOTS), description="exact author names"
    )
    bot_author_pattern: str | None = Field(
        r"(?:^|[_-])[Bb]ot$|Bot$", description="regex on the author name marking bots; null to disable"
    )
    pair_siblings: bool = Field(
        True, description="for a submissions file, also read the comments file beside it"
    )
    temp_dir: Path | None = Field(None, description="where the scratch store goes (default: system temp)")

    @field_validator("bot_author_pattern")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"not a valid regular expression: {e}") from None
        return v


def utc(ts: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _fullname(obj: dict[str, Any], prefix: str) -> str | None:
    name = obj.get("name")
    if isinstance(name, str) and name.startswith(prefix):
        return name
    oid = obj.get("id")
    return f"{prefix}{oid}" if isinstance(oid, str) and oid else None


def classify(obj: Any) -> tuple[str, dict[str, Any]] | None:
    """('submission' | 'comment', fields) for a pushshift object or an API ``{kind, data}`` wrapper."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("data"), dict) and obj.get("kind") in ("t1", "t3"):
        obj = obj["data"]
    name = obj.get("name") if isinstance(obj.get("name"), str) else ""
    if "title" in obj or name.startswith("t3_"):
        return "submission", obj
    if "body" in obj:  # a comment, even without link_id (then skipped as malformed, with that reason)
        return "comment", obj
    return None


def sibling_comment_files(path: Path) -> list[Path]:
    """``RS_2019-01.zst`` → ``RC_2019-01.zst``; ``x_submissions.jsonl.gz`` → ``x_comments.jsonl.gz``."""
    candidates = []
    if path.name.startswith("RS_"):
        candidates.append(path.with_name("RC_" + path.name[3:]))
    if "submissions" in path.name:
        candidates.append(path.with_name(path.name.replace("submissions", "comments")))
    return [c for c in candidates if c.exists() and c != path]


def input_files(path: Path, pair_siblings: bool) -> list[Path]:
    if path.is_dir():
        return sorted(
            f
            for f in path.iterdir()
            if f.is_file() and strip_compression_suffix(f.name).lower().endswith(_JSON_SUFFIXES)
        )
    return [path] + (sibling_comment_files(path) if pair_siblings else [])


def iter_objects(files: list[Path], label: bool) -> Iterator[tuple[str, Any] | Skip]:
    """(locator, parsed JSON) per line of every file, or Skips for bad lines / unreadable archives."""
    for f in files:
        where = f"file={f.name};" if label else ""
        n = 0
        try:
            with open_bytes(f) as fh:
                head = fh.peek(64)[:64].lstrip() if hasattr(fh, "peek") else b""
                if head.startswith(b"["):
                    yield from _json_array(fh, where)
                    continue
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                        # "\ud800"-style escapes decode to lone surrogates, which SQLite and Parquet refuse
                        yield f"{where}line={n}", _repaired(obj) if b"\\u" in line else obj
                    except UnicodeDecodeError as e:
                        yield Skip("non_utf8", f"{where}line={n}", f"line is not UTF-8: {e}")
                    except RecursionError:
                        yield Skip("too_deep", f"{where}line={n}", "JSON nested too deeply to parse")
                    except ValueError as e:
                        yield Skip("bad_json_line", f"{where}line={n}", f"invalid JSON: {e}")
        except STREAM_ERRORS as e:
            yield Skip(TRUNCATED, f"{where}line={n + 1}", f"cannot read further: {type(e).__name__}: {e}")


def _json_array(fh: Any, where: str) -> Iterator[tuple[str, Any] | Skip]:
    data = fh.read(_ARRAY_MAX_BYTES + 1)
    if len(data) > _ARRAY_MAX_BYTES:
        yield Skip(
            "json_array_too_large", where + "item=0", "JSON arrays over 256 MiB are refused; use JSON lines"
        )
        return
    try:
        items = json.loads(data)
    except ValueError as e:
        yield Skip("bad_json", where + "item=0", f"invalid JSON array: {e}")
        return
    for i, obj in enumerate(items):
        yield f"{where}item={i}", obj


class _Filter:
    def __init__(self, opts: RedditOptions):
        self.opts = opts
        self.bots = set(opts.bot_authors)
        self.bot_re = re.compile(opts.bot_author_pattern) if opts.bot_author_pattern else None

    def drop_reason(self, obj: dict[str, Any], text: str) -> str | None:
        author = obj.get("author") or ""
        if text.strip() in REMOVED:
            return "deleted_or_removed"
        if author in self.bots or (
            self.bot_re is not None and author not in REMOVED and self.bot_re.search(author)
        ):
            return "bot_author"
        score = obj.get("score")
        if self.opts.min_score is not None and isinstance(score, int | float) and score < self.opts.min_score:
            return "below_min_score"
        return None


def _text(s: Any) -> str:
    return html.unescape(s).strip() if isinstance(s, str) else ""


def _submission_meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "subreddit": obj.get("subreddit"),
        "submission_id": _fullname(obj, "t3_"),
        "score": obj.get("score"),
        "num_comments": obj.get("num_comments"),
        "created_utc": obj.get("created_utc"),
        "permalink": obj.get("permalink"),
        "link_url": obj.get("url"),
        "over_18": obj.get("over_18"),
    }


def _permalink_url(obj: dict[str, Any]) -> str | None:
    p = obj.get("permalink")
    return f"https://www.reddit.com{p}" if isinstance(p, str) and p.startswith("/") else None


def _comment_url(obj: dict[str, Any], cid: str) -> str | None:
    sub, link = obj.get("subreddit"), obj.get("link_id")
    if isinstance(sub, str) and isinstance(link, str) and link.startswith("t3_"):
        return f"https://www.reddit.com/r/{sub}/comments/{link[3:]}/_/{cid.removeprefix('t1_')}/"
    return None


_SCHEMA = """
CREATE TABLE s(id TEXT PRIMARY KEY, created REAL, title TEXT, body TEXT, meta TEXT, url TEXT, dropped TEXT);
CREATE TABLE c(id TEXT PRIMARY KEY, link TEXT, parent TEXT, body TEXT, score REAL, created REAL, loc TEXT);
"""


def _classified(files: list[Path], label: bool) -> Iterator[Skip | tuple[str, str, dict[str, Any]]]:
    """Objects of the dump as (locator, "submission" | "comment", object); unreadable or unknown ones
    as a Skip."""
    for item in iter_objects(files, label):
        if isinstance(item, Skip):
            yield item
            continue
        loc, raw = item
        got = classify(raw)
        if got is None:
            yield Skip("unknown_object", loc, "neither a submission nor a comment")
            continue
        yield loc, *got


@register
class RedditConnector(Connector):
    kind = "reddit"
    requires = (("zstandard", "zstandard"),)
    Options = RedditOptions
    accepts_directories = True
    default_patterns = ("*.jsonl", "*.ndjson", "*.json", "*.zst", "*.gz", "*.bz2", "*.xz")

    options: RedditOptions

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        files = input_files(path, self.options.pair_siblings)
        mode = self.options.mode
        if mode == "auto":
            mode = "threads" if self._has_submissions(files) else "comments"
        label = len(files) > 1
        if mode == "comments":
            yield from self._items(files, label)
        else:
            yield from self._threads(files, label)

    def _has_submissions(self, files: list[Path]) -> bool:
        """Look at the first readable object of each file (dumps hold one kind per file)."""
        for f in files:
            for item in iter_objects([f], False):
                if isinstance(item, Skip):
                    continue
                kind = classify(item[1])
                if kind is not None:
                    if kind[0] == "submission":
                        return True
                    break
        return False

    def _items(self, files: list[Path], label: bool) -> Iterator[Record | Skip]:
        flt = _Filter(self.options)
        for item in _classified(files, label):
            if isinstance(item, Skip):
                yield item
                continue
            loc, kind, obj = item
            if kind == "comment":
                text = _text(obj.get("body"))
                cid = _fullname(obj, "t1_") or loc
                if (why := flt.drop_reason(obj, text)) or not text:
                    yield Skip(why or "empty", f"comment={cid}")
                    continue
                meta = {
                    "subreddit": obj.get("subreddit"),
                    "comment_id": cid,
                    "parent_id": obj.get("parent_id"),
                    "link_id": obj.get("link_id"),
                    "score": obj.get("score"),
                    "created_utc": obj.get("created_utc"),
                }
                url = _permalink_url(obj) or _comment_url(obj, cid)
                yield Record(text, f"comment={cid}", url, utc(obj.get("created_utc")), meta)
            else:
                sid = _fullname(obj, "t3_") or loc
                title, body = _text(obj.get("title")), _text(obj.get("selftext"))
                if (why := flt.drop_reason(obj, body)) or not body:
                    yield Skip(why or "no_self_text", f"submission={sid}")
                    continue
                text = f"{title}\n\n{body}" if title else body
                yield Record(text, f"submission={sid}", _permalink_url(obj), utc(obj.get("created_utc")),
                             _submission_meta(obj))  # fmt: skip

    def _threads(self, files: list[Path], label: bool) -> Iterator[Record | Skip]:
        flt = _Filter(self.options)
        with scratch_db(self.options.temp_dir) as con:
            con.executescript(_SCHEMA)
            subs: list[tuple[Any, ...]] = []
            comments: list[tuple[Any, ...]] = []
            for item in _classified(files, label):
                if isinstance(item, Skip):
                    yield item
                    continue
                loc, kind, obj = item
                if kind == "submission":
                    sid = _fullname(obj, "t3_")
                    if sid is None:
                        yield Skip("malformed_record", loc, "submission without id")
                        continue
                    title, body = _text(obj.get("title")), _text(obj.get("selftext"))
                    dropped = flt.drop_reason(obj, body)
                    if dropped == "deleted_or_removed":  # the self text is gone; title and comments remain
                        body, dropped = "", None
                    meta = json.dumps(_submission_meta(obj))
                    created = obj.get("created_utc") or 0
                    subs.append((sid, created, title, body, meta, _permalink_url(obj), dropped))
                else:
                    cid = _fullname(obj, "t1_")
                    link = obj.get("link_id")
                    if cid is None or not isinstance(link, str):
                        yield Skip("malformed_record", loc, "comment without id or link_id")
                        continue
                    text = _text(obj.get("body"))
                    kept = flt.drop_reason(obj, text) is None and text
                    score = obj.get("score") if isinstance(obj.get("score"), int | float) else 0
                    comments.append((cid, link, obj.get("parent_id"), text if kept else None, score,
                                     obj.get("created_utc") or 0, loc))  # fmt: skip
                if len(subs) + len(comments) >= 2000:
                    self._flush(con, subs, comments)
            self._flush(con, subs, comments)
            con.execute("CREATE INDEX c_link ON c(link)")
            yield from self._emit(con)

    @staticmethod
    def _flush(con: sqlite3.Connection, subs: list, comments: list) -> None:
        con.executemany("INSERT OR IGNORE INTO s VALUES (?,?,?,?,?,?,?)", subs)
        con.executemany("INSERT OR IGNORE INTO c VALUES (?,?,?,?,?,?,?)", comments)
        subs.clear()
        comments.clear()

    def _emit(self, con: sqlite3.Connection) -> Iterator[Record | Skip]:
        sub = con.cursor()
        for sid, created, title, body, meta_s, url, dropped in con.execute(
            "SELECT id, created, title, body, meta, url, dropped FROM s ORDER BY created, id"
        ):
            if dropped:
                yield Skip(dropped, f"submission={sid}")
                continue
            rows = sub.execute(
                "SELECT id, parent, body, score, created FROM c WHERE link=?", (sid,)
            ).fetchall()
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
            yield Skip(
                "orphan_comment", f"comment={cid}", f"its submission {link} is not in the input ({loc})"
            )


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


def _repaired(obj: Any) -> Any:
    """``obj`` with lone surrogates in its strings replaced by U+FFFD (see :func:`valid_text`)."""
    from corpuskit.documents import valid_text

    if isinstance(obj, str):
        return valid_text(obj)[0]
    if isinstance(obj, dict):
        return {_repaired(k): _repaired(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_repaired(v) for v in obj]
    return obj
