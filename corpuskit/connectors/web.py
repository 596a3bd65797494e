"""Web archives (WARC / WET, gzip or plain) and folders of HTML files -> main text.

Reader choice: **warcio**, not FastWARC. On the malformed samples in ../shared/data/web/warc_malformed
FastWARC stops silently (``warcio-example-digest.warc``: 0 of 4 records; ``wrong-chunks``: no error at
all), while warcio either recovers (``trunc``) or raises an error we can count. Counting every loss is
the point of this module, and parsing costs ~1% of extraction time, so the faster parser buys little.
warcio's one gap, whole-file (non-chunked) gzip, is handled by re-reading through :mod:`gzip`.

Extraction is pluggable (``extractor: trafilatura | resiliparse``); trafilatura runs with the settings
FineWeb used through datatrove (``favor_precision=True, include_comments=False, deduplicate=True``).
Its dedup cache is created per input file, so a file's output depends only on that file (resume- and
worker-count-safe), unlike trafilatura's process-global default. Each extraction runs under a time limit
(SIGALRM in the main thread; a watched thread otherwise) so one pathological page cannot hang a run.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import re
import signal
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field

from corpuskit.connectors.base import TRUNCATED, Connector, Options, Record, Skip, register

# ---------------------------------------------------------------------------------------------- options


class TrafilaturaSettings(Options):
    """Passed to ``trafilatura.extract``; defaults are datatrove's ``Trafilatura(favour_precision=True)``."""

    favor_precision: bool = True
    include_comments: bool = False
    include_tables: bool = True
    deduplicate: bool = Field(True, description="drop text segments repeated within one input file")


class ResiliparseSettings(Options):
    """Passed to ``resiliparse.extract.html2text.extract_plain_text`` (main-content mode)."""

    main_content: bool = True
    preserve_formatting: bool = True
    list_bullets: bool = True
    alt_texts: bool = False
    links: bool = False
    form_fields: bool = False
    noscript: bool = False
    comments: bool = False


class WebOptions(Options):
    extractor: Literal["trafilatura", "resiliparse"] = "trafilatura"
    timeout_s: float = Field(
        5.0, gt=0, description="per-document extraction time limit (datatrove's default is 1 s)"
    )
    max_html_bytes: int = Field(
        5 * 1024**2, gt=0, description="larger pages are skipped (html_too_large); CC truncates at 1 MiB"
    )
    trafilatura: TrafilaturaSettings = Field(default_factory=TrafilaturaSettings)
    resiliparse: ResiliparseSettings = Field(default_factory=ResiliparseSettings)


class WarcOptions(WebOptions):
    record_types: list[Literal["response", "resource", "conversion"]] = Field(
        default_factory=lambda: ["response", "resource", "conversion"],
        description="WARC-Type values turned into documents; others are counted as skipped record_type",
    )
    max_resyncs: int = Field(
        100, ge=0, description="times per file to search past a malformed record for the next good one"
    )


# ------------------------------------------------------------------------------------------- charsets

# WHATWG encoding-standard labels whose Python codec differs (browsers decode them as the superset).
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "iso-8859-9": "cp1254",
    "unicode": "utf-8",
    "utf8": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.\-]+)", re.IGNORECASE)
MAX_REPLACED_FRACTION = 0.01  # more undecodable characters than this: the page is skipped (decode_error)


def normalize_charset(label: str | None) -> str | None:
    """A Python codec name for a charset label, or None when Python does not know it."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    m = _HEADER_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str] | None:
    """Decode page bytes as a browser would: BOM, HTTP charset, ``<meta>`` charset, UTF-8, detection.

    Returns (text, codec) or None when no candidate decodes it without too many replacements.
    """
    candidates: list[str] = []
    for bom, enc in _BOMS:
        if body.startswith(bom):
            candidates.append(enc)
    candidates.append(normalize_charset(http_charset) or "")
    m = _META_CHARSET.search(body[:4096])
    candidates.append(normalize_charset(m.group(1).decode("ascii", "ignore")) if m else "")
    candidates.append("utf-8")
    seen: list[str] = []
    for enc in candidates:
        if enc and enc not in seen:
            seen.append(enc)
            try:
                return body.decode(enc), enc
            except UnicodeDecodeError:
                continue
    from resiliparse.parse.encoding import detect_encoding

    detected = normalize_charset(detect_encoding(body)) or "cp1252"
    text = body.decode(detected, errors="replace")
    if text.count("\ufffd") > MAX_REPLACED_FRACTION * max(len(text), 1):
        return None
    return text, detected


# ----------------------------------------------------------------------------------------- extraction


class ExtractionTimeout(Exception):
    pass


def run_with_time_limit(fn: Callable[[], Any], seconds: float) -> Any:
    """``fn()`` or :class:`ExtractionTimeout` after ``seconds``.

    In a process's main thread (the ingest worker) a SIGALRM timer interrupts the extraction itself, and
    any timer already set (e.g. by pytest-timeout) is restored afterwards. Elsewhere signals cannot be
    used, so ``fn`` runs in a daemon thread that is abandoned when late: the run goes on, the stuck
    extraction keeps a core until it returns.
    """
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):

        def _on_alarm(signum: int, frame: Any) -> None:
            raise ExtractionTimeout(f"extraction took longer than {seconds:g} s")

        old_handler = signal.signal(signal.SIGALRM, _on_alarm)
        old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
        start = time.monotonic()
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
            if old_delay > 0:
                left = max(old_delay - (time.monotonic() - start), 1e-3)
                signal.setitimer(signal.ITIMER_REAL, left, old_interval)
    box: dict[str, Any] = {}

    def _target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = e

    t = threading.Thread(target=_target, daemon=True, name="corpuskit-extract")
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise ExtractionTimeout(f"extraction took longer than {seconds:g} s (left running in a thread)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


class Extractor:
    """HTML -> main text with the configured library; :meth:`new_file` resets per-file state."""

    def __init__(self, options: WebOptions):
        self.options = options
        self._dedup: Any = False
        if options.extractor == "trafilatura":
            import trafilatura  # noqa: F401 - fail early, in the parent, when missing
        else:
            import resiliparse.extract.html2text  # noqa: F401

    def new_file(self) -> None:
        if self.options.extractor == "trafilatura" and self.options.trafilatura.deduplicate:
            from trafilatura.deduplication import LRUCache
            from trafilatura.settings import LRU_SIZE

            self._dedup = LRUCache(maxsize=LRU_SIZE)

    def settings(self) -> dict[str, Any]:
        """The keyword arguments passed to the library (what the benchmark's direct call uses)."""
        if self.options.extractor == "trafilatura":
            s = self.options.trafilatura
            return {
                "favor_precision": s.favor_precision,
                "include_comments": s.include_comments,
                "include_tables": s.include_tables,
                "deduplicate": self._dedup,
            }
        return self.options.resiliparse.model_dump()

    def __call__(self, html: str) -> str:
        if self.options.extractor == "trafilatura":
            from trafilatura import extract

            return extract(html, **self.settings()) or ""
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text(html, **self.settings())


def extract_text(extractor: Extractor, html: str, locator: str) -> str | Skip:
    """Run the extractor under the time limit; any failure becomes a counted Skip."""
    try:
        text = run_with_time_limit(lambda: extractor(html), extractor.options.timeout_s)
    except ExtractionTimeout as e:
        return Skip("extraction_timeout", locator, str(e))
    except Exception as e:  # noqa: BLE001 - a library bug on one page must not stop the file
        return Skip("extraction_error", locator, f"{type(e).__name__}: {e}"[:300])
    text = (text or "").strip()
    if not text:
        return Skip("empty_extraction", locator, f"{extractor.options.extractor} found no main text")
    return text


def _html_to_text(
    extractor: Extractor, body: bytes, http_charset: str | None, locator: str
) -> tuple[str, str] | Skip:
    decoded = decode_html(body, http_charset)
    if decoded is None:
        return Skip("decode_error", locator, f"no charset decodes the page (declared {http_charset!r})")
    html, charset = decoded
    text = extract_text(extractor, html, locator)
    return text if isinstance(text, Skip) else (text, charset)


_HTML_MIMES = {"text/html", "application/xhtml+xml", "application/xml+xhtml", "text/x-html"}
_GENERIC_MIMES = {
    "",
    "unk",
    "text/plain",
    "application/octet-stream",
    "application/unknown",
    "binary/octet-stream",
}
_HTML_SNIFF = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.IGNORECASE | re.DOTALL
)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def looks_like_html(body_start: bytes) -> bool:
    return bool(_HTML_SNIFF.match(body_start.lstrip(b"\xef\xbb\xbf")[:2048]))


def read_limited(stream: IO[bytes], limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes; True when more were there (reads one extra byte to know)."""
    parts, n = [], 0
    while n <= limit:
        chunk = stream.read(limit + 1 - n)
        if not chunk:
            break
        parts.append(chunk)
        n += len(chunk)
    data = b"".join(parts)
    return data[:limit], len(data) > limit


# ----------------------------------------------------------------------------------------------- WARC


def parse_warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class _WholeGzip(Exception):
    """Internal: the file is one gzip stream, not one gzip member per record."""


def _offset_after(raw: IO[bytes], n: int) -> int:
    """Uncompressed offset of record ``n`` (0-based) in a decompressed stream."""
    raw.seek(0)
    it = _quiet_iterator(raw)
    for i, _rec in enumerate(it):
        if i + 1 >= n:
            it.read_to_end()
            return it.offset
    return 0


class _Resync(Exception):
    """Internal: parsing failed mid-file; carries the Skip and where to search for the next record."""

    def __init__(self, skip: Skip | None, search_from: int):
        super().__init__(skip.detail if skip else "")
        self.skip = skip
        self.search_from = search_from


@register
class WarcConnector(Connector):
    """WARC (response/resource records -> extracted main text) and WET (conversion records -> text).

    Locators are ``record=<n>`` (0-based index of the record in the file, counting every record type),
    unique and stable; ``warc_offset`` in the metadata is the record's byte offset (compressed, as in the
    Common Crawl index) for per-record gzip and plain files, and the uncompressed offset for whole-file
    gzip (``warc_offset_uncompressed: true``).
    """

    kind = "warc"
    requires = (("warcio", "warcio"),)
    Options = WarcOptions
    default_patterns = ("*.warc", "*.warc.gz", "*.wet", "*.wet.gz", "*.arc.gz")

    def check_environment(self) -> None:
        from corpuskit.environment import check_extractor

        super().check_environment()
        check_extractor(self.options.extractor)  # type: ignore[attr-defined]

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        opts: WarcOptions = self.options  # type: ignore[assignment]
        extractor = Extractor(opts)
        extractor.new_file()
        with contextlib.ExitStack() as stack:
            raw: IO[bytes] = stack.enter_context(open(path, "rb"))
            gz = raw.read(2) == b"\x1f\x8b"
            head = _peek_decompressed(raw, gz)
            raw.seek(0)
            if not head.startswith((b"WARC/", b"filedesc://")):  # WARC, or the older ARC format
                first = head.split(b"\n", 1)[0][:80].decode("utf-8", "replace")
                yield Skip("not_a_warc", "record=0", f"file does not start with a WARC header: {first!r}")
                return
            counter = [0]  # records seen so far, shared by the (re)started iterators
            whole_gzip, start, resyncs, resynced = False, 0, 0, False
            while True:
                try:
                    yield from self._iterate(raw, start, counter, extractor, whole_gzip, resynced)
                    return
                except _WholeGzip:
                    # one gzip stream around many records: read it decompressed, past what was handled
                    raw, whole_gzip = stack.enter_context(gzip.open(path, "rb")), True
                    start = _offset_after(raw, counter[0])
                except _Resync as r:
                    if r.skip is not None:
                        yield r.skip
                        if (r.skip.reason == TRUNCATED and whole_gzip) or resyncs >= opts.max_resyncs:
                            return
                        resyncs += 1
                    found = self._find_next_record(raw, r.search_from, gz and not whole_gzip)
                    if found is None:
                        return
                    start, resynced = found, True

    def _iterate(
        self,
        raw: IO[bytes],
        start: int,
        counter: list[int],
        extractor: Extractor,
        whole_gzip: bool,
        resynced: bool = False,
    ) -> Iterator[Record | Skip]:
        from warcio.exceptions import ArchiveLoadFailed

        raw.seek(start)
        it = _quiet_iterator(raw)
        first = True
        last_offset = start - 1  # where the last record that parsed began (resync searches past it)
        while True:
            locator = f"record={counter[0]}"
            try:
                rec = next(it)
            except StopIteration:
                tail = _unread_tail(raw, it.offset, whole_gzip)
                if tail is None:
                    return
                skip = Skip(tail, locator, f"warcio stopped inside a record (at byte {it.offset:,})")
                if whole_gzip:
                    yield skip
                    return
                # per-record gzip / plain: a corrupt member stops warcio early; the records after it are
                # still readable, so look for the next record start instead of giving up on the file
                counter[0] += 1
                raise _Resync(skip, max(it.offset, last_offset) + 1) from None
            except Exception as e:  # noqa: BLE001 - warcio raises assorted errors on broken input
                offset = it.offset  # warcio has moved to the start of the record that failed
                if isinstance(e, ArchiveLoadFailed) and "non-chunked" in str(e) and not whole_gzip:
                    raise _WholeGzip from None
                if first and resynced:  # a false start found by the resync search: look further, quietly
                    raise _Resync(None, start + 1) from None
                if isinstance(e, EOFError | zlib.error | gzip.BadGzipFile) or _gzip_broken_at(
                    raw, offset, whole_gzip
                ):
                    reason = TRUNCATED
                else:
                    reason = "malformed_record"
                detail = _first_line(e) if isinstance(e, ArchiveLoadFailed) else f"{type(e).__name__}: {e}"
                counter[0] += 1
                # warcio's offset can run backwards (even below 0) on mangled gzip: never search behind
                # the last record that parsed
                raise _Resync(Skip(reason, locator, detail[:300]), max(offset, last_offset) + 1) from None
            offset = it.offset
            last_offset = max(last_offset, offset)
            first = False
            counter[0] += 1
            try:
                out = self._record(rec, locator, offset, extractor, whole_gzip)
            except Exception as e:  # noqa: BLE001 - e.g. a broken Content-Encoding in one payload
                out = Skip("record_error", locator, f"{type(e).__name__}: {e}"[:300])
            if isinstance(out, Skip) and out.reason == "truncated_record" and not whole_gzip:
                # a corrupt gzip member reads as a short record and warcio cannot go on from inside it:
                # count this record, then find the next record start (the rest of the file is kept)
                raise _Resync(out, max(offset, last_offset) + 1)
            yield out

    def _record(
        self, rec: Any, locator: str, offset: int, extractor: Extractor, whole_gzip: bool
    ) -> Record | Skip:
        opts: WarcOptions = self.options  # type: ignore[assignment]
        h = rec.rec_headers
        rtype = rec.rec_type
        if rtype not in opts.record_types:
            return Skip("record_type", locator, f"WARC-Type {rtype}")
        url = (h.get_header("WARC-Target-URI") or "").strip().strip("<>") or None  # wget wraps URIs in <>
        meta: dict[str, Any] = {
            "warc_type": rtype,
            "warc_record_id": h.get_header("WARC-Record-ID"),
            "warc_date": h.get_header("WARC-Date"),
            "warc_offset": offset,
        }
        if whole_gzip:
            meta["warc_offset_uncompressed"] = True
        for name, key in (
            ("WARC-Identified-Content-Language", "warc_content_language"),
            ("WARC-Truncated", "warc_truncated"),
            ("WARC-Refers-To", "warc_refers_to"),
        ):
            if h.get_header(name):
                meta[key] = h.get_header(name)
        created = parse_warc_date(h.get_header("WARC-Date"))

        http = rec.http_headers
        if rtype == "response" and http is not None:
            status_s = (http.get_statuscode() or "").strip()
            content_type = http.get_header("Content-Type")
            meta["http_status"] = int(status_s) if status_s.isdigit() else None
            if not status_s.isdigit():
                return Skip("malformed_http", locator, f"bad HTTP status line {http.statusline!r}"[:300])
            status = int(status_s)
            if 300 <= status < 400:
                return Skip("redirect", locator, f"HTTP {status} -> {http.get_header('Location')}")
            if status != 200:
                return Skip("http_status", locator, f"HTTP {status}")
        else:
            content_type = h.get_header("Content-Type")
        meta["content_type"] = content_type
        identified = _mime(h.get_header("WARC-Identified-Payload-Type"))  # Common Crawl's sniffed type

        stream = rec.content_stream()
        body, too_big = read_limited(stream, opts.max_html_bytes)
        if too_big:
            return Skip("html_too_large", locator, f"payload above max_html_bytes={opts.max_html_bytes:,}")
        left = getattr(rec.raw_stream, "limit", 0)
        if left and left > 0:
            return Skip("truncated_record", locator, f"record ends {left:,} bytes before its Content-Length")

        if rtype == "conversion":  # WET: text already extracted by Common Crawl
            decoded = decode_html(body, header_charset(content_type) or "utf-8")
            if decoded is None:
                return Skip("decode_error", locator, "conversion record is not decodable text")
            text = decoded[0].strip()
            if not text:
                return Skip("empty_text", locator, "conversion record has no text")
            meta["charset"] = decoded[1]
            return Record(text=text, locator=locator, url=url, created=created, metadata=meta)

        mime = identified or _mime(content_type)
        if mime not in _HTML_MIMES and not (mime in _GENERIC_MIMES and looks_like_html(body[:2048])):
            return Skip("non_html", locator, f"content type {mime or 'missing'}")
        out = _html_to_text(extractor, body, header_charset(content_type), locator)
        if isinstance(out, Skip):
            return out
        text, charset = out
        meta["charset"] = charset
        meta["extractor"] = extractor.options.extractor
        return Record(text=text, locator=locator, url=url, created=created, metadata=meta)

    @staticmethod
    def _find_next_record(raw: IO[bytes], pos: int, per_record_gzip: bool) -> int | None:
        """Offset of the next plausible record start at or after ``pos`` (gzip member or ``WARC/1.``)."""
        pattern = b"\x1f\x8b\x08" if per_record_gzip else b"\nWARC/1."
        skip = 0 if per_record_gzip else 1
        try:
            raw.seek(pos)
        except (OSError, ValueError):  # a nonsense offset from a mangled record: nothing further to find
            return None
        carry = b""
        base = pos
        while True:
            chunk = raw.read(1 << 20)
            if not chunk:
                return None
            buf = carry + chunk
            i = buf.find(pattern)
            if i >= 0:
                return base - len(carry) + i + skip
            carry = buf[-(len(pattern) - 1) :]
            base += len(chunk)


def _quiet_iterator(raw: IO[bytes]) -> Any:
    """A warcio iterator that does not print its Content-Length warning to stderr (it garbles progress
    bars); the record it warns about is still read, and real breakage raises and is counted."""
    from warcio.archiveiterator import ArchiveIterator

    class _Quiet(ArchiveIterator):
        INC_RECORD = ""

    return _Quiet(raw, check_digests=False)


def _peek_decompressed(raw: IO[bytes], gz: bool) -> bytes:
    raw.seek(0)
    if not gz:
        return raw.read(64)
    try:
        return zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(raw.read(4096), 64)
    except zlib.error:
        return b""


def _first_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return " ".join(lines[:2])[:300] or type(e).__name__


def _unread_tail(raw: IO[bytes], offset: int, whole_gzip: bool) -> str | None:
    """After warcio stops: a skip reason when bytes remain that it did not read as records, else None."""
    if whole_gzip:
        return None  # GzipFile raises EOFError itself on a cut stream
    raw.seek(offset)
    rest = raw.read(1 << 16)
    if not rest.strip(b"\r\n\x00 "):
        return None
    if rest[:2] == b"\x1f\x8b":
        return TRUNCATED if _gzip_broken_at(raw, offset, False) else None
    return "truncated_record"


def _gzip_broken_at(raw: IO[bytes], offset: int, whole_gzip: bool) -> bool:
    """True when the gzip data from ``offset`` ends early or is corrupt (a cut download, a bad disk).

    Checked only after a parse failure, to tell a truncated file from a malformed record; warcio itself
    just sees fewer bytes.
    """
    try:
        if whole_gzip:
            raw.seek(offset)
            while raw.read(1 << 20):
                pass
            return False
        raw.seek(0)
        if raw.read(2) != b"\x1f\x8b":
            return False
        raw.seek(offset)
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        while not d.eof:
            chunk = raw.read(1 << 16)
            if not chunk:
                return True
            d.decompress(chunk)
        return False
    except (EOFError, zlib.error, gzip.BadGzipFile, OSError):
        return True


# ----------------------------------------------------------------------------------------------- HTML


@register
class HtmlConnector(Connector):
    """A folder (searched recursively, sorted) or a single ``.html`` / ``.htm`` file, gzipped or not.

    A folder is one input (one shard); locators are ``file=<path relative to the folder>``.
    """

    kind = "html"
    Options = WebOptions
    accepts_directories = True
    default_patterns = ("*.html", "*.htm", "*.xhtml", "*.html.gz", "*.htm.gz")

    def check_environment(self) -> None:
        from corpuskit.environment import check_extractor

        check_extractor(self.options.extractor)  # type: ignore[attr-defined]

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        extractor = Extractor(self.options)  # type: ignore[arg-type]
        extractor.new_file()
        if path.is_dir():
            files = sorted(
                {f for pat in self.default_patterns for f in path.rglob(pat) if f.is_file()},
                key=lambda f: f.relative_to(path).as_posix(),
            )
            for f in files:
                yield self._one(f, f"file={f.relative_to(path).as_posix()}", extractor)
        else:
            yield self._one(path, f"file={path.name}", extractor)

    def _one(self, f: Path, locator: str, extractor: Extractor) -> Record | Skip:
        limit = self.options.max_html_bytes  # type: ignore[attr-defined]
        try:
            with open(f, "rb") as fh:
                gz = fh.read(2) == b"\x1f\x8b"
                fh.seek(0)
                stream: IO[bytes] = gzip.GzipFile(fileobj=fh) if gz else fh
                body, too_big = read_limited(stream, limit)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            return Skip(TRUNCATED, locator, f"{type(e).__name__}: {e}")
        except OSError as e:
            return Skip("read_error", locator, f"{type(e).__name__}: {e}")
        if too_big:
            return Skip("html_too_large", locator, f"page above max_html_bytes={limit:,}")
        out = _html_to_text(extractor, body, None, locator)
        if isinstance(out, Skip):
            return out
        text, charset = out
        meta = {"file": f.name, "charset": charset, "extractor": extractor.options.extractor}
        return Record(text=text, locator=locator, metadata=meta)
