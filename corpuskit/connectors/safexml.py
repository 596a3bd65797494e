"""Safe, streaming XML for untrusted dumps: no entity expansion, no external entities, resumable rows.

Built on :mod:`pyexpat` directly rather than ``ElementTree.iterparse`` for two reasons:

* **Safety.** Any ``<!ENTITY`` declaration (internal or external, general or parameter) raises
  :class:`XMLRefused` the moment expat reports it, before a single reference is expanded, so a
  billion-laughs file fails in microseconds; external entities and parameter-entity parsing are
  refused too (what defusedxml does, without the dependency).
* **Speed and memory.** Data dumps such as Stack Exchange's ``Posts.xml`` are a flat list of
  ``<row a="…"/>`` elements; handling the start-tag callback gives the attributes with no tree to
  build or clear, and memory stays at one chunk plus the rows of that chunk.

Malformed input: Stack Exchange dumps hold one row per line, so after a well-formedness error the
:class:`RowParser` switches to *line recovery*: each later line is parsed alone with a fresh (equally
locked-down) parser, bad lines become :class:`~corpuskit.connectors.base.Skip` items and good rows
are kept. A refused DTD is never recovered from: the file is hostile, so it stops there.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import BinaryIO
from xml.parsers import expat

from corpuskit.connectors.base import Skip

CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 64 << 20  # one row longer than this in recovery mode is refused, bounding memory
MAX_KEEP_BYTES = 8 << 20  # how far back recovery may step to the last good row


_DECLARED = re.compile(rb"""(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?(\sencoding\s*=\s*["']([^"']*)["'])""")


class XMLRefused(ValueError):
    """The XML declares entities or needs external resources: refused before anything is expanded."""

    reason = "xml_entity_declaration"


def _refuse_entity(name: str, *args: object) -> None:
    raise XMLRefused(
        f"XML declares entity {name!r}; entity declarations are refused "
        "(protects against entity expansion / billion-laughs attacks)"
    )


def _refuse_external(context: object, base: object, system_id: object, public_id: object) -> int:
    raise XMLRefused(f"XML references an external entity ({system_id!r}); external entities are refused")


def _locked_parser(namespaces: bool = False) -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator="}" if namespaces else None)
    p.EntityDeclHandler = _refuse_entity
    p.UnparsedEntityDeclHandler = _refuse_entity
    p.ExternalEntityRefHandler = _refuse_external
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.buffer_text = True
    return p


class RowParser:
    """Push parser yielding the attribute dicts of ``<tag …>`` elements, plus Skips for bad parts.

    :meth:`feed` and :meth:`close` return lists of ``dict`` (a row's attributes) or :class:`Skip`.
    Push-style so it can sit behind a decompressor that pushes data (py7zr's writer factory) as well
    as behind ``read()`` (see :func:`iter_rows`).
    """

    def __init__(self, tag: str = "row"):
        self.tag = tag
        self._out: list[dict[str, str] | Skip] = []
        self._parser = self._new_parser()
        self._offset = 0  # absolute byte offset of the start of the data being fed
        # bytes from the start of the last good row on, so recovery can step back to it (bounded)
        self._keep, self._keep_start = b"", 0
        self._last_row: tuple[int, int] | None = None  # (byte index, line) where the last row started
        self._recovering = False
        self._stopped = False
        self._line_buf = b""
        self._line_no = 0  # line number of the last complete line seen in recovery mode
        self._skip_rest_of_line = False  # recovery: drop bytes up to the next newline first

    def _new_parser(self) -> expat.XMLParserType:
        p = _locked_parser()
        p.StartElementHandler = self._start
        return p

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if name == self.tag:
            self._out.append(attrs)
            self._last_row = (self._parser.CurrentByteIndex, self._parser.CurrentLineNumber)

    def _take(self) -> list[dict[str, str] | Skip]:
        out, self._out = self._out, []
        return out

    def feed(self, data: bytes) -> list[dict[str, str] | Skip]:
        if self._stopped or not data:
            return self._take()
        if self._offset == 0 and not self._recovering:
            data = self._known_encoding(data)
        if self._recovering:
            self._recover_lines(data, final=False)
            return self._take()
        try:
            self._parser.Parse(data, False)
            self._remember(data)
            self._offset += len(data)
        except XMLRefused as e:
            self._out.append(Skip(XMLRefused.reason, f"line={self._parser.CurrentLineNumber}", str(e)))
            self._stopped = True
        except expat.ExpatError as e:
            self._enter_recovery(data, e)
        except LookupError as e:  # an encoding expat asks Python for and Python does not know
            self._out.append(Skip("unknown_encoding", f"line={self._parser.CurrentLineNumber}", str(e)))
            self._stopped = True
        return self._take()

    def _known_encoding(self, data: bytes) -> bytes:
        """An XML declaration naming an encoding Python does not know (``ttf-8``) would stop expat with
        LookupError: blank it out (same length, offsets unchanged), read as UTF-8, and count it."""
        m = _DECLARED.match(data)
        if m is None:
            return data
        try:
            codecs.lookup(m.group(2).decode("ascii", "replace"))
            return data
        except LookupError:
            self._out.append(
                Skip("unknown_encoding", "line=1", f"declared encoding {m.group(2)!r}; read as UTF-8")
            )
            return data[: m.start(1)] + b" " * (m.end(1) - m.start(1)) + data[m.end(1) :]

    def close(self) -> list[dict[str, str] | Skip]:
        if self._stopped:
            return self._take()
        if self._recovering:
            self._recover_lines(b"", final=True)
            return self._take()
        try:
            self._parser.Parse(b"", True)
        except XMLRefused as e:
            self._out.append(Skip(XMLRefused.reason, f"line={self._parser.CurrentLineNumber}", str(e)))
        except expat.ExpatError as e:
            reason = "truncated_xml" if e.code in _TRUNCATION_CODES else "invalid_xml"
            self._out.append(Skip(reason, f"line={e.lineno}", f"XML ends early or is malformed: {e}"))
        self._stopped = True
        return self._take()

    def _remember(self, data: bytes) -> None:
        keep = self._keep + data
        start = self._keep_start
        if self._last_row is not None and self._last_row[0] > start:
            keep, start = keep[self._last_row[0] - start :], self._last_row[0]
        if len(keep) > MAX_KEEP_BYTES:
            keep, start = keep[-MAX_KEEP_BYTES:], start + len(keep) - MAX_KEEP_BYTES
        self._keep, self._keep_start = keep, start

    def _enter_recovery(self, data: bytes, err: expat.ExpatError) -> None:
        """Continue line by line from the line after the last good row.

        Not from the error position: an unclosed attribute swallows the rows after it and expat only
        notices a line or more later, so stepping back recovers those rows. Each re-read line that is
        bad becomes its own Skip.
        """
        err_at = self._parser.ErrorByteIndex
        window, window_start = self._keep + data, self._keep_start
        self._parser = None  # type: ignore[assignment]  # expat cannot continue after an error
        self._recovering, self._line_buf, self._keep = True, b"", b""
        if self._last_row is not None and self._last_row[0] >= window_start:
            start, line = self._last_row[0] - window_start, self._last_row[1]
        else:  # no good row in reach: skip the line holding the error itself
            self._out.append(Skip("invalid_xml", f"line={err.lineno}", f"malformed XML: {err}"))
            start, line = max(err_at - window_start, 0), err.lineno
        self._line_no = line - 1  # _line_no counts the lines fully consumed
        nl = window.find(b"\n", start)
        self._skip_rest_of_line = nl < 0  # that line goes on into the next chunk
        if nl >= 0:
            self._line_no += 1
            self._recover_lines(window[nl + 1 :], final=False)

    def _recover_lines(self, data: bytes, final: bool) -> None:
        if self._skip_rest_of_line:
            nl = data.find(b"\n")
            if nl < 0:
                if final:
                    self._stopped = True
                return
            data = data[nl + 1 :]
            self._line_no += 1
            self._skip_rest_of_line = False
        buf = self._line_buf + data
        lines = buf.split(b"\n")
        self._line_buf = b"" if final else lines.pop()
        for line in lines:
            self._line_no += 1
            self._parse_line(line.strip())
        if len(self._line_buf) > MAX_LINE_BYTES:
            self._out.append(Skip("line_too_long", f"line={self._line_no + 1}", "row longer than 64 MiB"))
            self._line_buf = b""
            self._skip_rest_of_line = True
        if final:
            self._stopped = True

    def _parse_line(self, line: bytes) -> None:
        if not line.startswith(b"<" + self.tag.encode()):
            if line and not line.startswith((b"</", b"<?xml", b"<!--")):
                self._out.append(
                    Skip("invalid_xml", f"line={self._line_no}", "unexpected content between rows")
                )
            return  # blank line, closing root tag
        p = _locked_parser()
        rows: list[dict[str, str]] = []
        p.StartElementHandler = lambda name, attrs: rows.append(attrs) if name == self.tag else None
        try:
            p.Parse(line, True)
        except XMLRefused as e:
            self._out.append(Skip(XMLRefused.reason, f"line={self._line_no}", str(e)))
            return
        except expat.ExpatError as e:
            self._out.append(Skip("invalid_xml", f"line={self._line_no}", f"malformed XML, row skipped: {e}"))
            return
        self._out.extend(rows)


# expat error codes that mean "the document stopped early" rather than "bad bytes"
_TRUNCATION_CODES = {
    expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
    expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
    expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
    expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION],
}


def iter_rows(stream: BinaryIO, tag: str = "row", chunk_bytes: int = CHUNK_BYTES) -> Iterator[dict | Skip]:
    """Stream the attributes of every ``<tag>`` element of an XML byte stream (Skips for bad parts)."""
    parser = RowParser(tag)
    while chunk := stream.read(chunk_bytes):
        yield from parser.feed(chunk)
    yield from parser.close()


def parse_tree(data: bytes) -> ET.Element:
    """Parse a small XML document (an OPF, container.xml) into an ElementTree, refusing entities.

    Names are in ElementTree's ``{namespace}local`` form. Raises :class:`XMLRefused` or
    ``expat.ExpatError``.
    """
    builder = ET.TreeBuilder()
    p = _locked_parser(namespaces=True)

    def qname(name: str) -> str:
        return "{" + name if "}" in name else name

    p.StartElementHandler = lambda name, attrs: builder.start(
        qname(name), {qname(k): v for k, v in attrs.items()}
    )
    p.EndElementHandler = lambda name: builder.end(qname(name))
    p.CharacterDataHandler = builder.data
    p.Parse(data, True)
    return builder.close()
