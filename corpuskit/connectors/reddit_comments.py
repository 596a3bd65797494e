"""Reddit comments mode: one document per comment (and per submission with self text), streamed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpuskit.connectors.base import Record, Skip
from corpuskit.connectors.reddit_dump import each_object, fullname, utc
from corpuskit.connectors.reddit_fields import (
    RedditFilter,
    RedditOptions,
    comment_url,
    permalink_url,
    submission_meta,
    text_of,
)


def comment_records(files: list[Path], label: bool, opts: RedditOptions) -> Iterator[Record | Skip]:
    flt = RedditFilter(opts)
    return each_object(files, label, lambda loc, kind, obj: _record(flt, loc, kind, obj))


def _record(flt: RedditFilter, loc: str, kind: str, obj: dict[str, Any]) -> Record | Skip:
    if kind == "comment":
        text = text_of(obj.get("body"))
        cid = fullname(obj, "t1_") or loc
        if (why := flt.drop_reason(obj, text)) or not text:
            return Skip(why or "empty", f"comment={cid}")
        meta = {
            "subreddit": obj.get("subreddit"),
            "comment_id": cid,
            "parent_id": obj.get("parent_id"),
            "link_id": obj.get("link_id"),
            "score": obj.get("score"),
            "created_utc": obj.get("created_utc"),
        }
        url = permalink_url(obj) or comment_url(obj, cid)
        return Record(text, f"comment={cid}", url, utc(obj.get("created_utc")), meta)
    sid = fullname(obj, "t3_") or loc
    title, body = text_of(obj.get("title")), text_of(obj.get("selftext"))
    if (why := flt.drop_reason(obj, body)) or not body:
        return Skip(why or "no_self_text", f"submission={sid}")
    text = f"{title}\n\n{body}" if title else body
    return Record(text, f"submission={sid}", permalink_url(obj), utc(obj.get("created_utc")),
                  submission_meta(obj))  # fmt: skip
