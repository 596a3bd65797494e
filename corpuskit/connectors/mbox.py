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

from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from corpuskit.connectors.base import Connector, Options, Record, Skip
from corpuskit.connectors.mbox_clean import EMAIL_RE, PHONE_RE, clean_body
from corpuskit.connectors.mbox_message import (
    body_text,
    decode_bytes,
    decode_header,
    message_ids,
    parse_date,
    split_mbox,
)
from corpuskit.connectors.mbox_threads import thread_records
from corpuskit.connectors.streams import strip_compression_suffix

__all__ = [
    "EMAIL_RE",
    "PHONE_RE",
    "MboxConnector",
    "MboxOptions",
    "body_text",
    "clean_body",
    "decode_bytes",
    "decode_header",
    "message_ids",
    "parse_date",
    "split_mbox",
]


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


class MboxConnector(Connector[MboxOptions]):
    kind = "mbox"
    default_patterns = ("*.mbox", "*.mbox.gz", "*.mbx", "*.txt.gz", "*.mbox.zst")

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        opts = self.options
        default_list = opts.list_name or strip_compression_suffix(path.name).removesuffix(".mbox")
        yield from thread_records(path, opts, default_list)
