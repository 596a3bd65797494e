"""Mailing-list archives (mbox, optionally gzip/zstd/bz2/xz): one document per thread.

Messages are streamed: the file is read line by line and split at ``From `` lines that start the
file or follow a blank line (mboxrd ``>From`` escapes are undone), so the whole mbox is never loaded.
Each message is MIME-decoded (text/plain parts preferred, text/html turned into text otherwise) with
charset fallbacks: the declared charset, then UTF-8, then Windows-1252, then Latin-1 (never fails).

Cleaning, each part optional: quoted replies (``> …`` lines and the "On … wrote:" line before them,
Outlook "-----Original Message-----" tails), signatures (after ``-- ``) and Mailman list footers are
removed; e-mail addresses and phone numbers are redacted by default.

**Threads, with bounded memory.** A thread needs all its messages, which may be spread over the
whole archive (and a reply may even come before what it answers). Messages are written as they are
read to a scratch SQLite store (:mod:`corpuskit.connectors.tempstore`) with a provisional root: the
first ``References`` id (by RFC 5322 the thread's start), else ``In-Reply-To``, else the message itself.
After the pass, roots are followed through known messages until stable (this joins replies that only
had ``In-Reply-To``), then threads are read back by root in order of first appearance. RAM holds one
message while reading and one thread while writing. Ids without an ``@`` (broken mailers write
``In-Reply-To: <yes>``) are ignored so they cannot glue unrelated threads together.
"""

from __future__ import annotations

import email
import email.header
import email.message
import email.utils
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from corpuskit.connectors.base import TRUNCATED, Connector, Options, Record, Skip, register
from corpuskit.connectors.htmltext import html_to_text
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes, strip_compression_suffix
from corpuskit.connectors.tempstore import scratch_db

EMAIL_RE = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
    # pipermail's obfuscated "name at host.org", only inside <>, () or [] to spare "look at example.com"
    r"|(?<=[<(\[])[\w.+-]+ at [A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?=[>)\]])"
)
PHONE_RE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}"  # +49 30 1234 5678
    r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"  # (555) 123-4567
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 555-123-4567
    r")(?![\w])"
)
_MSGID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_FROM_LINE = re.compile(rb"^From \S*")
_QUOTE = re.compile(r"^\s*[A-Za-z]{0,4}>(?:\s|>|$)")  # "> x", ">> x" and supercite "LK> x"
_ATTRIBUTION = re.compile(
    r"(wrote|writes|said|schrieb|a écrit|escribió|scrisse|skrev|kirjoitti|napisał|написал)\s*:?\s*$", re.I
)
_ORIGINAL = re.compile(r"^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}", re.I)
_FOOTER = re.compile(r"^_{20,}\s*$")
_SCRUBBED = re.compile(r"^-{5,} next part -{5,}$")  # pipermail's note on removed attachments
_ATTRIBUTION_HINT = re.compile(r"\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b|@|\S+ at \S+\.\w+")
_LIST_ID = re.compile(r"<([^<>]+)>")


class MboxOptions(Options):
    list_name: str | None = Field(
        None, description="list name; default: the List-Id header, else the file name"
    )
    strip_quotes: bool = Field(True, description="remove quoted replies ('> ...') and their attribution line")
    strip_signatures: bool = Field(True, description="remove signatures ('-- ') and mailing-list footers")
    redact_emails: bool = Field(True, description="replace e-mail addresses with email_placeholder")
    redact_phones: bool = Field(True, description="replace phone numbers with phone_placeholder")
    email_placeholder: str = "[EMAIL]"
    phone_placeholder: str = "[PHONE]"
    max_message_bytes: int = Field(32 << 20, gt=0, description="larger messages are skipped")
    temp_dir: Path | None = Field(None, description="where the scratch store goes (default: system temp)")


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


def clean_body(text: str, opts: MboxOptions) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        if opts.strip_signatures:
            if line in ("-- ", "--"):
                break
            if _SCRUBBED.match(line.strip()):
                break
            if _FOOTER.match(line) and any(
                "mailing list" in ln.lower() or "listinfo" in ln for ln in lines[i + 1 : i + 4]
            ):
                break
        if opts.strip_quotes:
            if _ORIGINAL.match(line.strip()):
                break
            if _QUOTE.match(line):
                # drop the "On <date>, <someone> wrote:" line (possibly wrapped over two) before the quote
                while out and not out[-1].strip():
                    out.pop()
                if out and _is_attribution(out[-1]):
                    out.pop()
                elif len(out) >= 2 and _is_attribution(out[-2] + " " + out[-1]):
                    del out[-2:]
                out.append("")
                continue
        out.append(line.rstrip())
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    if opts.redact_emails:
        body = EMAIL_RE.sub(opts.email_placeholder, body)
    if opts.redact_phones:
        body = PHONE_RE.sub(opts.phone_placeholder, body)
    return body


def _is_attribution(line: str) -> bool:
    """ "On Tue, Nov 17, 2009 at 2:00 PM, Ann <a@b.org> wrote:" and the many localised/odd variants."""
    s = line.strip()
    if _ATTRIBUTION.search(s):
        return True
    return s.endswith(":") and len(s) < 300 and bool(_ATTRIBUTION_HINT.search(s))


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


_SCHEMA = """
CREATE TABLE m(pos INTEGER PRIMARY KEY, mid TEXT, root TEXT, subject TEXT, created REAL, list TEXT,
               body TEXT, fallback INT);
CREATE INDEX m_mid ON m(mid);
"""


@register
class MboxConnector(Connector):
    kind = "mbox"
    Options = MboxOptions
    default_patterns = ("*.mbox", "*.mbox.gz", "*.mbx", "*.txt.gz", "*.mbox.zst")

    options: MboxOptions

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        opts = self.options
        default_list = opts.list_name or strip_compression_suffix(path.name).removesuffix(".mbox")
        with scratch_db(opts.temp_dir) as con:
            con.executescript(_SCHEMA)
            yield from self._load(path, con)
            _resolve_roots(con)
            con.execute("CREATE INDEX m_root ON m(root)")
            yield from self._threads(con, default_list)

    def _load(self, path: Path, con: sqlite3.Connection) -> Iterator[Skip]:
        opts = self.options
        line = 0
        try:
            with open_bytes(path) as fh:
                for item in split_mbox(fh, opts.max_message_bytes):
                    if isinstance(item, Skip):
                        yield item
                        continue
                    line, raw = item
                    if skip := self._add(con, line, raw):
                        yield skip
        except STREAM_ERRORS as e:
            yield Skip(TRUNCATED, f"after_line={line}", f"cannot read further: {type(e).__name__}: {e}")

    def _add(self, con: sqlite3.Connection, line: int, raw: bytes) -> Skip | None:
        opts = self.options
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

    def _threads(self, con: sqlite3.Connection, default_list: str) -> Iterator[Record | Skip]:
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
                    "dates": [
                        datetime.fromtimestamp(r[2], tz=UTC).isoformat() if r[2] else None for r in rows
                    ],
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
