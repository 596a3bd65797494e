"""One web page's bytes -> its main text: options, charset decoding, and extraction under a time limit.

Shared by the ``warc`` (:mod:`corpuskit.connectors.warc`) and ``html`` (:mod:`corpuskit.connectors.html`)
connectors. Extraction is pluggable (``extractor: trafilatura | resiliparse``); trafilatura runs with the
settings FineWeb used through datatrove (``favor_precision=True, include_comments=False,
deduplicate=True``). Its dedup cache is created per input file (:meth:`Extractor.new_file`), so a file's
output depends only on that file (resume- and worker-count-safe), unlike trafilatura's process-global
default. Each extraction runs under a time limit (SIGALRM in the main thread; a watched thread otherwise)
so one pathological page cannot hang a run.
"""

from __future__ import annotations

import codecs
import re
import signal
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from corpuskit.connectors.base import Skip
from corpuskit.connectors.pageoptions import WebOptions

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
        self._trafilatura: Any = None  # trafilatura's options object for settings(), built once per file
        # resiliparse parses UTF-8 bytes: handed the page's own bytes it skips re-encoding the decoded str
        # (a tenth of a resiliparse ingest); trafilatura gets the str, as when it is called directly
        self.takes_utf8 = options.extractor == "resiliparse"
        if options.extractor == "trafilatura":
            import trafilatura  # noqa: F401 - fail early, in the parent, when missing
        else:
            import resiliparse.extract.html2text  # noqa: F401

    @staticmethod
    def modules(extractor: str) -> tuple[str, ...]:
        """What extracting imports (all thread-free on import): a worker's preload."""
        if extractor == "trafilatura":
            return ("trafilatura", "corpuskit.connectors.pagetree")
        return ("resiliparse.extract.html2text", "resiliparse.parse.html", "resiliparse.parse.encoding")

    def new_file(self) -> None:
        if self.options.extractor == "trafilatura" and self.options.trafilatura.deduplicate:
            from trafilatura.deduplication import LRUCache
            from trafilatura.settings import LRU_SIZE

            self._dedup = LRUCache(maxsize=LRU_SIZE)
        self._trafilatura = None

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

    def __call__(self, html: str, utf8: bytes | None = None) -> str:
        """Main text of ``html``; ``utf8``: the page's bytes where ``html`` is exactly their decoding."""
        if self.options.extractor == "trafilatura":
            from trafilatura import extract

            from corpuskit.connectors.pagetree import extraction_options, load_tree, owned

            if self._trafilatura is None:
                self._trafilatura = extraction_options(self.settings())
            tree = load_tree(html)  # what trafilatura would parse, on faster element classes
            return (extract(owned(tree), options=self._trafilatura) or "") if tree is not None else ""
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        page = HTMLTree.parse_from_bytes(utf8, "utf-8") if utf8 is not None else html
        return extract_plain_text(page, **self.settings())


def extract_text(extractor: Extractor, html: str, locator: str, utf8: bytes | None = None) -> str | Skip:
    """Run the extractor under the time limit; any failure becomes a counted Skip."""
    call = (lambda: extractor(html)) if utf8 is None else (lambda: extractor(html, utf8))
    try:
        text = run_with_time_limit(call, extractor.options.timeout_s)
    except ExtractionTimeout as e:
        return Skip("extraction_timeout", locator, str(e))
    except Exception as e:  # noqa: BLE001 - a library bug on one page must not stop the file
        return Skip("extraction_error", locator, f"{type(e).__name__}: {e}"[:300])
    text = (text or "").strip()
    if not text:
        return Skip("empty_extraction", locator, f"{extractor.options.extractor} found no main text")
    return text


def html_to_text(
    extractor: Extractor, body: bytes, http_charset: str | None, locator: str
) -> tuple[str, str] | Skip:
    if body.isspace() or not body:  # an empty 200 response: no extractor can find text in it
        return Skip("empty_page", locator, "the page is empty or only whitespace")
    decoded = decode_html(body, http_charset)
    if decoded is None:
        return Skip("decode_error", locator, f"no charset decodes the page (declared {http_charset!r})")
    html, charset = decoded
    utf8 = body if charset == "utf-8" and extractor.takes_utf8 else None  # no BOM: html is all of body
    text = extract_text(extractor, html, locator, utf8)
    return text if isinstance(text, Skip) else (text, charset)


HTML_MIMES = {"text/html", "application/xhtml+xml", "application/xml+xhtml", "text/x-html"}
GENERIC_MIMES = {
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


def mime_type(content_type: str | None) -> str:
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
    return (data[:limit], True) if len(data) > limit else (data, False)  # no copy of a page within limit
