"""Project Gutenberg plain-text books: licence header/footer stripped, metadata from the header.

Input: one book per file (``.txt``, or compressed: ``.txt.gz``/``.zst``/…, or PG's ``.zip`` holding one
``.txt``). One document per book, so memory is one book (bounded by ``max_bytes``).

Markers: PG changed its boilerplate many times since 1971; the start/end lines recognised here cover
the variants seen in the catalogue — ``*** START OF THIS/THE PROJECT GUTENBERG EBOOK …``,
``***START OF THE PROJECT GUTENBERG EBOOK``, the 1990s ``*END*THE SMALL PRINT! FOR PUBLIC DOMAIN
ETEXTS*`` and ``*END THE SMALL PRINT``, ``This etext was prepared by``; and at the end
``*** END OF THIS/THE PROJECT GUTENBERG EBOOK``, ``End of the Project Gutenberg EBook of``,
``End of Project Gutenberg's``, ``End of this Project Gutenberg Etext``, ``*** START: FULL LICENSE``.
The text starts after the *last* start marker in the first part of the file (old books have a
marker and then the small print) and ends at the *first* end marker after it, so the "End of the
Project Gutenberg EBook of …" line that precedes "*** END OF …" goes too.

Files not in the expected format are not crashed on: with no start marker the text is kept from the
top (``header_found: false`` in metadata, counted by analyse) — the PG-git zh book in the shared data
is such a file — unless ``require_header`` turns them into ``no_gutenberg_header`` Skips.

Line breaks: PG texts are hard-wrapped at ~70 columns. A paragraph whose lines (except its last)
all reach near the file's wrap width is prose and its lines are joined (with no space between CJK
characters); other paragraphs — verse, tables of contents, letters — keep their line breaks.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from corpuskit.connectors.base import Connector, Options, Record, Skip
from corpuskit.connectors.streams import STREAM_ERRORS, open_bytes

_START = re.compile(
    r"^\W*(?:\*{3}\s*START OF (?:THIS|THE) PROJECT GUTENBERG E-?(?:BOOK|TEXT)"
    r"|\*+\s*START OF THE PROJECT GUTENBERG"
    r"|\*?END\*?THE SMALL PRINT"
    r"|\*+\s*END THE SMALL PRINT"
    r"|START OF (?:THE|THIS) PROJECT GUTENBERG E-?(?:BOOK|TEXT)"
    r"|This etext was prepared by"
    r"|E-text prepared by"
    r")",
    re.I,
)
_END = re.compile(
    r"^\W*(?:\*{3}\s*END OF (?:THIS|THE) PROJECT GUTENBERG E-?(?:BOOK|TEXT)"
    r"|\*+\s*END OF THE PROJECT GUTENBERG"
    r"|END OF (?:THE |THIS )?PROJECT GUTENBERG(?:'S|’S)?\b"
    r"|End of Project Gutenberg(?:'s|’s)"
    r"|End of the Project Gutenberg E-?(?:book|text)"
    r"|End of this Project Gutenberg E-?(?:book|text)"
    r"|\*{3}\s*START: FULL LICENSE"
    r"|START: FULL LICENSE"
    r")",
    re.I,
)
_PRODUCED = re.compile(
    r"^(?:Produced by|E-?text prepared by|Transcribed by|This e-?book was produced by)\b", re.I
)
_FIELD = re.compile(
    r"^(Title|Author|Language|Release Date|Posting Date|Character set encoding|Translator|Editor)"
    r"\s*:\s*(.*)$",
    re.I,
)
_EBOOK_NO = re.compile(r"\[E-?(?:Book|Text)\s*#\s*(\d+)\]", re.I)
_DECLARED_ENCODING = re.compile(rb"Character set encoding:\s*([A-Za-z0-9_-]+)", re.I)
# names PG uses in "Language:" -> ISO 639-1 (the common ones; others are left as the name only)
LANGUAGES = {
    "english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it", "dutch": "nl",
    "finnish": "fi", "chinese": "zh", "portuguese": "pt", "swedish": "sv", "danish": "da",
    "norwegian": "no", "latin": "la", "greek": "el", "russian": "ru", "polish": "pl", "hungarian": "hu",
    "japanese": "ja", "czech": "cs", "esperanto": "eo", "catalan": "ca", "tagalog": "tl",
}  # fmt: skip
HEADER_LINES = 400  # markers and fields are looked for in this many lines at the top


class GutenbergOptions(Options):
    require_header: bool = Field(
        False, description="skip files without a PG start marker instead of keeping them"
    )
    join_hard_wraps: bool = Field(True, description="join hard-wrapped prose lines; verse keeps its breaks")
    strip_producer_credits: bool = Field(True, description="drop a leading 'Produced by …' paragraph")
    max_bytes: int = Field(64 << 20, gt=0, description="books larger than this are skipped")


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): BOM, then UTF-8, then the header's declared charset, then Windows-1252/Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for bom, enc in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):  # fmt: skip
        if data.startswith(bom):  # UTF-32 first: its little-endian BOM starts like UTF-16's
            return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    m = _DECLARED_ENCODING.search(data[:20000])
    for enc in ([m.group(1).decode()] if m else []) + ["cp1252"]:
        try:
            return data.decode(enc), enc.lower()
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1"), "latin-1"


def parse_header(lines: list[str]) -> dict[str, str]:
    """Title/Author/Language/dates from the "Title: …" block (continuation lines are indented)."""
    fields: dict[str, str] = {}
    last = None
    for line in lines:
        m = _FIELD.match(line.strip())
        if m:
            last = m.group(1).lower()
            fields.setdefault(last, m.group(2).strip())
        elif last and line.startswith((" ", "\t")) and line.strip():
            sep = " " if last == "title" else ", "  # a wrapped title; one more author/translator
            fields[last] = f"{fields[last]}{sep}{line.strip()}"
        else:
            last = None
    return fields


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def join_wraps(body: str) -> str:
    """Join hard-wrapped prose paragraphs; keep short-line (verse, lists) paragraphs as they are."""
    paras = [p.strip("\n") for p in re.split(r"\n(?:[ \t\u3000]*\n)+", body)]
    lengths = sorted(len(ln.rstrip()) for p in paras for ln in p.split("\n") if ln.strip())
    if not lengths:
        return body
    width = lengths[int(len(lengths) * 0.95)]  # the wrap width: most full lines reach it
    if width < 30:
        return body
    out = []
    for p in paras:
        lines = p.split("\n")
        if len(lines) > 1 and all(len(ln.rstrip()) >= 0.75 * width for ln in lines[:-1]):
            joined = lines[0].rstrip()
            for ln in lines[1:]:
                nxt = ln.strip()
                if not nxt:
                    continue
                glue = "" if joined and _is_cjk(joined[-1]) and _is_cjk(nxt[0]) else " "
                joined += glue + nxt
            out.append(joined)
        else:
            out.append(p)
    return "\n\n".join(out)


def strip_boilerplate(text: str) -> tuple[str, bool, bool, list[str]]:
    """(body, start marker found, end marker found, header lines)."""
    lines = text.split("\n")
    start = None
    for i, line in enumerate(lines[:HEADER_LINES]):
        if _START.match(line):
            start = i
    begin = start + 1 if start is not None else 0
    header = lines[:begin] if start is not None else lines[: min(HEADER_LINES, len(lines))]
    end = None
    for i in range(begin, len(lines)):
        if _END.match(lines[i]):
            end = i
            break
    body_lines = lines[begin : end if end is not None else len(lines)]
    return "\n".join(body_lines), start is not None, end is not None, header


class _Unreadable(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def _read(path: Path, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the book (so an oversize file is noticed without reading it all)."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as z:
                names = [i for i in z.infolist() if i.filename.lower().endswith(".txt") and not i.is_dir()]
                if not names:
                    raise _Unreadable("unreadable_book", "zip holds no .txt file")
                info = names[0]
                if ".." in Path(info.filename).parts or info.filename.startswith(("/", "\\")):
                    raise _Unreadable("zip_unsafe_path", f"unsafe path in zip: {info.filename!r}")
                with z.open(info) as fh:
                    return fh.read(max_bytes + 1)
        with open_bytes(path) as fh:
            return fh.read(max_bytes + 1)
    except (zipfile.BadZipFile, *STREAM_ERRORS) as e:
        raise _Unreadable("unreadable_book", f"{type(e).__name__}: {e}") from None


class GutenbergConnector(Connector[GutenbergOptions]):
    kind = "gutenberg"
    default_patterns = ("*.txt", "*.txt.gz", "*.zip")

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        opts = self.options
        try:
            data = _read(path, opts.max_bytes)
        except _Unreadable as e:
            yield Skip(e.reason, "book", str(e))
            return
        if len(data) > opts.max_bytes:
            yield Skip("book_too_large", "book", f"over max_bytes={opts.max_bytes}")
            return
        if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
            yield Skip("not_text", "book", "binary content (NUL bytes)")
            return
        text, encoding = decode(data)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        body, has_start, has_end, header = strip_boilerplate(text)
        if not has_start and opts.require_header:
            yield Skip("no_gutenberg_header", "book", "no Project Gutenberg start marker in the first lines")
            return
        fields = parse_header(header) if has_start else {}
        body = body.strip("\n")
        if opts.strip_producer_credits:
            first, _, rest = body.lstrip("\n").partition("\n\n")
            if _PRODUCED.match(first.strip()):
                body = rest.strip("\n")
        body = "\n".join(ln.rstrip() for ln in body.split("\n"))
        if opts.join_hard_wraps:
            body = join_wraps(body)
        body = re.sub(r"\n{3,}", "\n\n", body).strip()
        if not body:
            yield Skip("empty_book", "book", "no text between the Project Gutenberg markers")
            return
        release = fields.get("release date") or fields.get("posting date")  # first release, not a repost
        m = _EBOOK_NO.search(" ".join(header))
        language = fields.get("language")
        yield Record(
            text=body,
            locator="book",
            url=f"https://www.gutenberg.org/ebooks/{m.group(1)}" if m else None,
            metadata={
                "title": fields.get("title"),
                "author": fields.get("author"),
                "language": language,
                "language_code": LANGUAGES.get((language or "").split(",")[0].strip().lower()),
                "release_date": release.split("[")[0].strip(" ,") if release else None,
                "ebook_id": int(m.group(1)) if m else None,
                "encoding": encoding,
                "header_found": has_start,
                "footer_found": has_end,
            },
        )
