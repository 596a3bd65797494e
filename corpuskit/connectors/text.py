"""Corpora that arrive as text already: JSON lines (plain, gzip, zstd) and Parquet.

Dolma, RedPajama, cc_net output and Hugging Face exports differ only in where the text, id, url and date
live, so those are options (dotted paths reach nested fields, e.g. ``url_field: metadata.url`` for
Dolma). Both readers stream: JSONL line by line, Parquet batch by batch within row groups, so memory
does not grow with the file. Locators are ``line=<n>`` (1-based) and ``row=<n>`` (0-based).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import Field

from corpuskit.connectors.base import TRUNCATED, Connector, Options, Record, Skip
from corpuskit.connectors.streams import STREAM_ERRORS, open_zstd

_MISSING = object()


class TextOptions(Options):
    text_field: str = Field("text", description="field holding the document text (dotted path allowed)")
    id_field: str | None = Field("id", description="the source's own id, kept as metadata.source_id")
    url_field: str | None = Field("url", description="e.g. metadata.url for Dolma files")
    created_field: str | None = Field("created", description="ISO 8601 string, epoch seconds or a date")
    metadata_fields: list[str] | Literal["all_other"] = Field(
        "all_other", description="fields copied to metadata; all_other = every top-level field not used above"
    )


class ParquetOptions(TextOptions):
    batch_rows: int = Field(1024, gt=0, description="rows read at a time (bounded memory)")


def get_field(obj: dict[str, Any], path: str) -> Any:
    """``obj[a][b]`` for ``"a.b"`` (an exact top-level key wins over the dotted reading)."""
    if path in obj:
        return obj[path]
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def parse_created(value: Any) -> datetime | None:
    """A UTC datetime from the usual encodings; None when absent or not understood."""
    if value is None or value is _MISSING:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        secs = value / 1000 if value > 1e11 else value  # milliseconds since the epoch are common too
        try:
            return datetime.fromtimestamp(secs, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        s = value.strip().replace("Z", "+00:00")
        if s.isdigit():
            return parse_created(int(s))
        try:
            return parse_created(datetime.fromisoformat(s))
        except ValueError:
            return None
    return None


class _Mapper:
    """Turns one row (a dict) into a Record or a Skip, with the configured field mapping."""

    def __init__(self, opts: TextOptions):
        self.opts = opts
        self.used = {f for f in (opts.text_field, opts.id_field, opts.url_field, opts.created_field) if f}

    def __call__(self, obj: Any, locator: str) -> Record | Skip:
        o = self.opts
        if not isinstance(obj, dict):
            return Skip("not_an_object", locator, f"expected a JSON object, got {type(obj).__name__}")
        text = get_field(obj, o.text_field)
        if text is _MISSING or text is None:
            return Skip("missing_text_field", locator, f"no field {o.text_field!r} (set options.text_field)")
        if not isinstance(text, str):
            return Skip("invalid_text_field", locator, f"{o.text_field!r} is {type(text).__name__}, not text")
        if not text.strip():
            return Skip("empty_text", locator, f"{o.text_field!r} is empty")
        meta: dict[str, Any] = {}
        if o.metadata_fields == "all_other":
            meta.update({k: v for k, v in obj.items() if k not in self.used})
        else:
            for f in o.metadata_fields:
                v = get_field(obj, f)
                if v is not _MISSING:
                    meta[f] = v
        if o.id_field:
            sid = get_field(obj, o.id_field)
            if sid is not _MISSING and sid is not None:
                meta["source_id"] = sid
        url = get_field(obj, o.url_field) if o.url_field else None
        url = url if isinstance(url, str) and url else None
        created = parse_created(get_field(obj, o.created_field)) if o.created_field else None
        return Record(text=text, locator=locator, url=url, created=created, metadata=meta)


def open_maybe_compressed(path: Path) -> IO[bytes]:
    """A binary stream of the file's content, decompressing gzip or zstd (detected by magic bytes)."""
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    magic = fh.read(4)
    fh.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    if magic == b"\x28\xb5\x2f\xfd":  # the reader that notices a truncated frame (streams.py)
        fh.close()
        return open_zstd(path)
    return fh


_STREAM_ERRORS = STREAM_ERRORS


class JsonlConnector(Connector[TextOptions]):
    """JSON lines, one document per line; a bad line is skipped with its line number."""

    kind = "jsonl"
    requires = (("zstandard", "zstandard"),)
    default_patterns = ("*.jsonl", "*.jsonl.gz", "*.jsonl.zst", "*.json.gz", "*.ndjson", "*.json.zst")

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        mapper = _Mapper(self.options)
        n = 0
        try:
            with open_maybe_compressed(path) as stream:
                for n, line in enumerate(stream, start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except RecursionError:
                        yield Skip("too_deep", f"line={n}", "JSON nested too deeply to parse")
                        continue
                    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
                        yield Skip("invalid_json", f"line={n}", f"{type(e).__name__}: {e}"[:300])
                        continue
                    yield mapper(obj, f"line={n}")
        except _STREAM_ERRORS as e:
            reason = TRUNCATED if isinstance(e, EOFError) else "read_error"
            yield Skip(reason, f"line={n + 1}", f"cannot read further: {type(e).__name__}: {e}"[:300])


class ParquetConnector(Connector[ParquetOptions]):
    """Parquet files, read ``batch_rows`` rows at a time (never the whole file)."""

    kind = "parquet"
    requires = (("pyarrow.parquet", "pyarrow"),)
    default_patterns = ("*.parquet",)

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        opts = self.options
        mapper = _Mapper(opts)
        row = 0
        try:
            pf = pq.ParquetFile(path)
            top = opts.text_field.split(".", 1)[0]
            if opts.text_field not in pf.schema_arrow.names and top not in pf.schema_arrow.names:
                cols = ", ".join(pf.schema_arrow.names)
                yield Skip(
                    "missing_text_field",
                    "row=0",
                    f"no column {opts.text_field!r} in {pf.metadata.num_rows} rows (columns: {cols})"[:300],
                )
                return
            columns = (
                None if opts.metadata_fields == "all_other" else self._columns(opts, pf.schema_arrow.names)
            )
        except (pa.ArrowException, OSError, ValueError) as e:  # the footer itself is unreadable
            yield Skip("read_error", "row=0", f"cannot read the file: {type(e).__name__}: {e}"[:300])
            return
        # One row group at a time: a corrupt group costs its own rows (counted with their range), not the
        # rest of the file.
        for group in range(pf.metadata.num_row_groups):
            end = row + pf.metadata.row_group(group).num_rows
            try:
                for batch in pf.iter_batches(batch_size=opts.batch_rows, row_groups=[group], columns=columns):
                    for obj in batch.to_pylist():
                        yield mapper(obj, f"row={row}")
                        row += 1
            except (pa.ArrowException, OSError, ValueError) as e:
                yield Skip(
                    "corrupt_row_group",
                    f"row={row}",
                    f"rows {row}-{end - 1} (row group {group}) unreadable: {type(e).__name__}: {e}"[:300],
                )
            row = max(row, end)

    @staticmethod
    def _columns(opts: ParquetOptions, names: list[str]) -> list[str]:
        """Only the top-level columns the mapping needs (Parquet is columnar: the rest is never read)."""
        wanted = [opts.text_field, opts.id_field, opts.url_field, opts.created_field, *opts.metadata_fields]
        tops = {w.split(".", 1)[0] if w not in names else w for w in wanted if w}
        return [n for n in names if n in tops]
