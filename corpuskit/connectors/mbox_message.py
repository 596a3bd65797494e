"""Reading an mbox: splitting the stream into messages (mboxrd escapes undone) and decoding each one's
headers, body and date with charset fallbacks (see :mod:`corpuskit.connectors.mbox`)."""

from __future__ import annotations

import email
import email.header
import email.message
import email.utils
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from corpuskit.connectors.base import Skip
from corpuskit.connectors.htmltext import html_to_text

_MSGID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_FROM_LINE = re.compile(rb"^From \S*")


def split_mbox(stream: Any, max_bytes: int) -> Iterator[tuple[int, bytes] | Skip]:
    """(1-based line number of the From_ line, raw message bytes) for each message; Skips for oversize."""
    buf: list[bytes] = []
    size = 0
    start = 1
    too_big = False
    prev_blank = True
    n = 0
    for n, line in enumerate(stream, 1):
        if prev_blank and _FROM_LINE.match(line):
            if buf or too_big:
                yield _finish(start, buf, too_big, size)
            buf, size, start, too_big = [], 0, n, False
            prev_blank = False
            continue
        prev_blank = not line.strip()
        if too_big:
            continue
        if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
            line = line[1:]  # mboxrd: ">From " in a body was escaped by the writer
        buf.append(line)
        size += len(line)
        if size > max_bytes:
            too_big, buf = True, []
    if buf or too_big:
        yield _finish(start, buf, too_big, size)


def _finish(start: int, buf: list[bytes], too_big: bool, size: int) -> tuple[int, bytes] | Skip:
    if too_big:
        return Skip("message_too_large", f"line={start}", f"message over the size limit ({size} bytes read)")
    return start, b"".join(buf)


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Text and whether a fallback charset was needed."""
    for i, cs in enumerate((charset, "utf-8", "cp1252")):
        if not cs:
            continue
        try:
            return data.decode(cs), i > 0 and charset is not None
        except (LookupError, UnicodeDecodeError, ValueError):  # ValueError: a NUL in the charset name
            continue
    return data.decode("latin-1"), True


def decode_header(value: Any) -> str:
    """A header as text: RFC 2047 words decoded, raw 8-bit bytes decoded with fallbacks."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        value = str(value)
    value = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit header bytes kept as surrogates
        value = decode_bytes(value.encode("ascii", "surrogateescape"), None)[0]
    try:
        parts = email.header.decode_header(value)
    except (email.errors.HeaderParseError, ValueError):
        return " ".join(value.split())
    out = []
    for chunk, cs in parts:
        out.append(decode_bytes(chunk, cs)[0] if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


def body_text(msg: email.message.Message) -> tuple[str, bool]:
    """Text of the message: its text/plain parts (or text/html when no plain part), and fallback flag."""
    plain: list[email.message.Message] = []
    htmls: list[email.message.Message] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if (part.get("Content-Disposition") or "").strip().lower().startswith("attachment"):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(part)
        elif ctype == "text/html":
            htmls.append(part)
    texts, fallback = [], False
    for part in plain or htmls:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            charset = part.get_content_charset()
        except (LookupError, ValueError):
            charset = None
        text, fb = decode_bytes(payload, charset)
        fallback |= fb
        texts.append(html_to_text(text) if part.get_content_type() == "text/html" else text)
    return "\n\n".join(t.strip("\n") for t in texts), fallback


def parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        d = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def message_ids(value: str) -> list[str]:
    return [f"<{m}>" for m in _MSGID.findall(value or "")]
