"""Folders of HTML files (or single pages, gzipped or not) -> one document per page's main text."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from corpuskit.connectors.base import TRUNCATED, Connector, Record, Skip, register
from corpuskit.connectors.pageoptions import WebOptions
from corpuskit.connectors.pagetext import Extractor, html_to_text, read_limited


@register
class HtmlConnector(Connector):
    """A folder (searched recursively, sorted) or a single ``.html`` / ``.htm`` file, gzipped or not.

    A folder is one input (one shard); locators are ``file=<path relative to the folder>``.
    """

    kind = "html"
    Options = WebOptions
    accepts_directories = True
    default_patterns = ("*.html", "*.htm", "*.xhtml", "*.html.gz", "*.htm.gz")

    def worker_modules(self) -> tuple[str, ...]:
        return (*super().worker_modules(), *Extractor.modules(self.options.extractor))  # type: ignore[attr-defined]

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
        out = html_to_text(extractor, body, None, locator)
        if isinstance(out, Skip):
            return out
        text, charset = out
        meta = {"file": f.name, "charset": charset, "extractor": extractor.options.extractor}
        return Record(text=text, locator=locator, metadata=meta)
