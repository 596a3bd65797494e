"""EPUB 2 and 3 books: one document per book, chapters in spine order, metadata from the OPF.

An EPUB is a zip archive from an untrusted source, so:

* **No path traversal.** Archive members are only ever read by name, never extracted to disk; any
  member whose name is absolute or climbs out with ``..`` is reported as a ``zip_unsafe_path`` Skip
  and never read, and spine references that resolve outside the archive root are refused the same way.
* **Zip bombs.** Declared sizes are checked before reading (per member and in total) and reads are
  bounded so a lying header cannot exceed the limits; members compressed more than
  ``max_compression_ratio`` times (beyond 1 MiB) are refused.
* **No entities.** ``container.xml`` and the OPF go through :mod:`corpuskit.connectors.safexml`
  (entity declarations and external entities refused); XHTML chapters that declare entities are
  skipped, the others are parsed with lxml's HTML parser, which fetches nothing.

A bad chapter becomes a Skip and the rest of the book is kept; a book with no readable chapter, or
no readable package document, is a Skip.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote
from xml.parsers import expat

from pydantic import Field

from corpuskit.connectors.base import Connector, Options, Record, Skip
from corpuskit.connectors.htmltext import html_to_text
from corpuskit.connectors.safexml import XMLRefused, parse_tree

OPF = "{http://www.idpf.org/2007/opf}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)


class EpubOptions(Options):
    max_member_bytes: int = Field(64 << 20, gt=0, description="largest allowed decompressed member")
    max_total_bytes: int = Field(512 << 20, gt=0, description="largest allowed decompressed book")
    max_compression_ratio: float = Field(100.0, gt=1, description="refuse members compressed more than this")
    include_nonlinear: bool = Field(False, description="also include spine items marked linear='no'")


class _Refused(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def unsafe_name(name: str) -> bool:
    """Absolute, drive-qualified or parent-climbing member names (after normalising backslashes)."""
    n = name.replace("\\", "/")
    return n.startswith("/") or re.match(r"^[A-Za-z]:", n) is not None or ".." in PurePosixPath(n).parts


class _Book:
    """Bounded, name-checked access to an EPUB's members."""

    def __init__(self, z: zipfile.ZipFile, opts: EpubOptions):
        self.z = z
        self.opts = opts
        self.read_total = 0
        self.unsafe = {i.filename for i in z.infolist() if unsafe_name(i.filename)}

    def read(self, name: str) -> bytes:
        if name in self.unsafe or unsafe_name(name):
            raise _Refused("zip_unsafe_path", f"member path {name!r} escapes the archive")
        try:
            info = self.z.getinfo(name)
        except KeyError:
            raise _Refused("missing_member", f"{name!r} is not in the archive") from None
        limit = min(self.opts.max_member_bytes, self.opts.max_total_bytes - self.read_total)
        if info.file_size > limit:
            raise _Refused("zip_too_large", f"{name!r} declares {info.file_size} bytes (limit {limit})")
        if info.file_size > 1 << 20 and info.file_size > self.opts.max_compression_ratio * max(
            info.compress_size, 1
        ):
            raise _Refused(
                "zip_bomb", f"{name!r} is compressed {info.file_size / max(info.compress_size, 1):.0f}x"
            )
        with self.z.open(info) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise _Refused("zip_too_large", f"{name!r} decompresses past the limit ({limit} bytes)")
        self.read_total += len(data)
        return data

    def xml(self, name: str) -> Any:
        data = self.read(name)
        try:
            return parse_tree(data)
        except XMLRefused as e:
            raise _Refused(XMLRefused.reason, f"{name}: {e}") from None
        except expat.ExpatError as e:
            raise _Refused("invalid_xml", f"{name}: {e}") from None


def _text(el: Any) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def _date(s: str) -> datetime | None:
    s = s.strip()
    if not s:
        return None
    try:
        d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$", s)
        if not m:
            return None
        d = datetime(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d.astimezone(UTC)


def opf_metadata(pkg: Any) -> dict[str, Any]:
    md = pkg.find(f"{OPF}metadata")
    if md is None:
        md = pkg
    creators = [_text(c) for c in md.iter(f"{DC}creator") if _text(c)]
    modified = next(
        (_text(m) for m in md.iter(f"{OPF}meta") if m.get("property") == "dcterms:modified"), None
    )
    return {
        "title": _text(md.find(f".//{DC}title")) or None,
        "authors": creators,
        "author": ", ".join(creators) or None,
        "language": _text(md.find(f".//{DC}language")) or None,
        "date": _text(md.find(f".//{DC}date")) or None,
        "modified": modified,
        "identifier": _text(md.find(f".//{DC}identifier")) or None,
        "publisher": _text(md.find(f".//{DC}publisher")) or None,
        "rights": _text(md.find(f".//{DC}rights")) or None,
        "epub_version": pkg.get("version"),
    }


def _resolve(base_dir: str, href: str) -> str | None:
    """Archive path of an OPF-relative href, or None when it points outside the archive."""
    href = unquote(href.split("#", 1)[0])
    if not href or "://" in href or href.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(base_dir, href))
    return None if joined.startswith("../") or joined == ".." else joined


class EpubConnector(Connector[EpubOptions]):
    kind = "epub"
    requires = (("lxml.etree", "lxml"),)
    default_patterns = ("*.epub",)

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        try:
            z = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            yield Skip("bad_archive", "book", f"not a readable zip (truncated or corrupt?): {e}")
            return
        with z:
            book = _Book(z, self.options)
            for name in sorted(book.unsafe):
                yield Skip("zip_unsafe_path", f"member={name}", "member path escapes the archive; never read")
            declared = sum(i.file_size for i in z.infolist() if i.filename not in book.unsafe)
            if declared > self.options.max_total_bytes:
                yield Skip("zip_too_large", "book", f"archive declares {declared} bytes decompressed")
                return
            try:
                yield from self._book(book)
            except _Refused as e:
                yield Skip(e.reason, "book", str(e))
            except (zipfile.BadZipFile, EOFError, OSError) as e:  # e.g. a corrupt member found while reading
                yield Skip("bad_archive", "book", f"{type(e).__name__}: {e}")

    def _book(self, book: _Book) -> Iterator[Record | Skip]:
        opf_path = self._opf_path(book)
        pkg = book.xml(opf_path)
        meta = opf_metadata(pkg)
        base = posixpath.dirname(opf_path)
        manifest = {
            item.get("id"): (item.get("href") or "", item.get("media-type") or "")
            for item in pkg.iter(f"{OPF}item")
        }
        spine = pkg.find(f"{OPF}spine")
        refs = [] if spine is None else list(spine.iter(f"{OPF}itemref"))
        chapters: list[str] = []
        skipped = 0
        for i, ref in enumerate(refs):
            if ref.get("linear", "yes").lower() == "no" and not self.options.include_nonlinear:
                continue
            href, media = manifest.get(ref.get("idref"), ("", ""))
            loc = f"spine={i}"
            if media not in XHTML_TYPES:
                continue  # images, SVG pages: nothing to read
            target = _resolve(base, href)
            if target is None:
                skipped += 1
                yield Skip("zip_unsafe_path", loc, f"spine item {href!r} points outside the archive")
                continue
            try:
                data = book.read(target)
            except (_Refused, zipfile.BadZipFile, EOFError, OSError) as e:
                skipped += 1
                yield Skip(getattr(e, "reason", "bad_archive"), loc, f"{target}: {e}")
                continue
            if _ENTITY_DECL.search(data[:65536]):
                skipped += 1
                yield Skip(XMLRefused.reason, loc, f"{target} declares XML entities; refused")
                continue
            text = html_to_text(data)
            if text:
                chapters.append(text)
        if not chapters:
            yield Skip("empty_book", "book", "no readable text in the spine")
            return
        meta.update(chapters=len(chapters), spine_items=len(refs), chapters_skipped=skipped)
        yield Record(
            text="\n\n".join(chapters), locator="book", created=_date(meta["date"] or ""), metadata=meta
        )

    @staticmethod
    def _opf_path(book: _Book) -> str:
        try:
            container = book.xml("META-INF/container.xml")
            for rf in container.iter(f"{CONTAINER}rootfile"):
                full = rf.get("full-path")
                if (
                    full
                    and rf.get("media-type", "application/oebps-package+xml")
                    == "application/oebps-package+xml"
                ):
                    if unsafe_name(full):
                        raise _Refused("zip_unsafe_path", f"package path {full!r} escapes the archive")
                    return full
        except _Refused as e:
            if e.reason != "missing_member":
                raise
        # no (usable) container.xml: take the first package document in the archive
        for name in sorted(book.z.namelist()):
            if name.lower().endswith(".opf") and name not in book.unsafe:
                return name
        raise _Refused("no_package_document", "no OPF package document (META-INF/container.xml missing)")
