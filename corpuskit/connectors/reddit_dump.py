"""Reading a Reddit dump: JSON lines (or a small JSON array) from plain or compressed files, each
object classified as a submission or a comment, bad lines and unreadable archives as Skips.

Split from :mod:`corpuskit.connectors.reddit` so the connector only decides what to keep.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpuskit.connectors.base import TRUNCATED, Record, Skip
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes, strip_compression_suffix

_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_ARRAY_MAX_BYTES = 256 << 20


def utc(ts: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def fullname(obj: dict[str, Any], prefix: str) -> str | None:
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


def each_object(
    files: list[Path], label: bool, handle: Callable[[str, str, dict[str, Any]], Record | Skip | None]
) -> Iterator[Record | Skip]:
    """``handle(locator, kind, object)`` for every object of the dump, its result yielded unless None;
    the dump's own Skips (bad lines, unknown objects, unreadable archives) pass through in order."""
    for item in _classified(files, label):
        out = item if isinstance(item, Skip) else handle(*item)
        if out is not None:
            yield out
