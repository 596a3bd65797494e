"""JSONL (plain, gzip, zstd) and Parquet connectors: field mapping, bad lines, streaming."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from pydantic import ValidationError

from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.connectors.text import (
    JsonlConnector,
    ParquetConnector,
    ParquetOptions,
    TextOptions,
    parse_created,
)

ROWS = [
    {
        "id": "a",
        "text": "first doc",
        "url": "http://x.test/a",
        "created": "2021-03-04T05:06:07Z",
        "lang": "en",
    },
    {"id": "b", "text": "second doc", "created": 1609459200, "lang": "fr"},
    {"id": "c", "body": "no text field here"},
]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["d.jsonl", "d.jsonl.gz", "d.jsonl.zst"])
def test_jsonl_plain_gzip_zstd(tmp_path: Path, name: str) -> None:
    lines = [json.dumps(ROWS[0]), "{not json", "", json.dumps(ROWS[1]), json.dumps(ROWS[2]), "[1, 2]"]
    out = list(JsonlConnector().read(write_jsonl(tmp_path / name, lines), name))
    assert [(type(r).__name__, r.locator) for r in out] == [
        ("Record", "line=1"),
        ("Skip", "line=2"),
        ("Record", "line=4"),
        ("Skip", "line=5"),
        ("Skip", "line=6"),
    ]
    a, bad, b, missing, arr = out
    assert (a.text, a.url, a.created) == (
        "first doc",
        "http://x.test/a",
        datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    assert a.metadata == {"source_id": "a", "lang": "en"}
    assert b.url is None and b.created == datetime(2021, 1, 1, tzinfo=UTC)
    assert bad.reason == "invalid_json"
    assert missing.reason == "missing_text_field" and "'text'" in missing.detail
    assert arr.reason == "not_an_object"


def test_invalid_utf8_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "u.jsonl"
    p.write_bytes(b'{"text": "ok"}\n{"text": "bad \xff\xfe"}\n{"text": "ok too"}\n')
    out = list(JsonlConnector().read(p, "u"))
    assert [getattr(r, "reason", "doc") for r in out] == ["doc", "invalid_json", "doc"]


def test_truncated_gzip_keeps_earlier_lines(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(json.dumps({"text": f"doc {i} " * 50}) for i in range(200))).encode())
    p = tmp_path / "cut.jsonl.gz"
    p.write_bytes(data[: len(data) // 2])
    out = list(JsonlConnector().read(p, "cut"))
    assert isinstance(out[-1], Skip) and out[-1].reason == "truncated_input"
    docs = [r for r in out if isinstance(r, Record)]
    assert len(docs) > 10 and docs[0].text.startswith("doc 0 ")
    assert all(isinstance(r, Record) for r in out[:-1])


def test_field_mapping_dotted_and_selected(tmp_path: Path) -> None:
    row = {"content": "hello", "meta": {"link": "http://y.test/", "ts": "2020-01-02"}, "k": 1, "drop": 2}
    p = write_jsonl(tmp_path / "m.jsonl", [json.dumps(row)])
    opts = TextOptions(
        text_field="content",
        url_field="meta.link",
        created_field="meta.ts",
        id_field=None,
        metadata_fields=["k"],
    )
    (rec,) = JsonlConnector(opts).read(p, "m")
    assert (rec.text, rec.url, rec.created) == ("hello", "http://y.test/", datetime(2020, 1, 2, tzinfo=UTC))
    assert rec.metadata == {"k": 1}
    (missing,) = JsonlConnector(TextOptions(text_field="body")).read(p, "m")
    assert missing.reason == "missing_text_field" and "'body'" in missing.detail


def test_ccnet_dolma_jsonl(shared_data: Path) -> None:
    """Real cc_net output in Dolma format: url and segment live under `metadata`."""
    files = sorted((shared_data / "web/commoncrawl_ccnet_jsonl").glob("*.jsonl.gz"))
    conn = JsonlConnector(TextOptions(url_field="metadata.url"))
    out = [r for f in files for r in conn.read(f, f.name)]
    assert len(out) == 20 and all(isinstance(r, Record) for r in out)
    first = out[0]
    assert first.url == "http://100kinvesting.com/2016/11/28/first-teleconference-calls-invoice-factoring/"
    assert first.created == datetime(2020, 3, 29, 9, 4, 10, tzinfo=UTC)
    assert first.metadata["source_id"] == first.url  # Dolma ids of cc_net docs are the URL
    assert (
        first.metadata["metadata"]["language"] == "en" and first.metadata["metadata"]["perplexity"] == 304.6
    )
    assert first.metadata["metadata"]["cc_segment"].startswith("crawl-data/CC-MAIN-2020-16/segments/")
    assert first.text.startswith("We will be starting to hold weekly teleconferences")
    assert {r.locator for r in out[:10]} == {f"line={i}" for i in range(1, 11)}


def test_parquet_streams_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 2500
    table = pa.table(
        {
            "id": [f"d{i}" for i in range(n)],
            "text": [f"text {i}" if i % 1000 else None for i in range(n)],
            "url": [f"http://z.test/{i}" for i in range(n)],
            "created": pa.array([datetime(2022, 1, 1, tzinfo=UTC)] * n, pa.timestamp("us", "UTC")),
            "score": [float(i) for i in range(n)],
        }
    )
    p = tmp_path / "t.parquet"
    pq.write_table(table, p, row_group_size=1000)
    batches: list[int] = []
    real = pq.ParquetFile.iter_batches

    def spy(self: pq.ParquetFile, **kw: object):  # noqa: ANN202
        for b in real(self, **kw):
            batches.append(b.num_rows)
            yield b

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    out = list(ParquetConnector(ParquetOptions(batch_rows=300)).read(p, "t"))
    assert max(batches) <= 300 and sum(batches) == n  # never the whole file at once
    assert len(out) == n and out[1234].locator == "row=1234" and out[1234].text == "text 1234"
    assert out[1234].url == "http://z.test/1234" and out[1234].created == datetime(2022, 1, 1, tzinfo=UTC)
    assert out[1234].metadata == {"source_id": "d1234", "score": 1234.0}
    assert [(s.locator, s.reason) for s in out if isinstance(s, Skip)] == [
        ("row=0", "missing_text_field"),
        ("row=1000", "missing_text_field"),
        ("row=2000", "missing_text_field"),
    ]


def test_parquet_selected_columns_and_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "c.parquet"
    pq.write_table(pa.table({"content": ["x", "y"], "a": [1, 2], "b": [3, 4]}), p)
    out = list(ParquetConnector(ParquetOptions(text_field="content", metadata_fields=["b"])).read(p, "c"))
    assert [r.metadata for r in out] == [{"b": 3}, {"b": 4}]
    (skip,) = ParquetConnector().read(p, "c")
    assert skip.reason == "missing_text_field" and "'text'" in skip.detail and "content" in skip.detail


def test_not_a_parquet_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"this is not parquet at all")
    (skip,) = ParquetConnector().read(p, "bad")
    assert skip.reason == "read_error"


def test_created_parsing() -> None:
    assert parse_created("2020-01-02T03:04:05+02:00") == datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert parse_created(1_600_000_000_000) == datetime.fromtimestamp(1_600_000_000, tz=UTC)  # milliseconds
    assert parse_created("1600000000") == datetime.fromtimestamp(1_600_000_000, tz=UTC)
    assert parse_created("yesterday") is None and parse_created(True) is None and parse_created(None) is None


def test_registry_and_option_errors() -> None:
    assert (
        get_connector_class("jsonl") is JsonlConnector and get_connector_class("parquet") is ParquetConnector
    )
    with pytest.raises(ValidationError):
        TextOptions.model_validate({"text_feild": "body"})
    with pytest.raises(ValidationError):
        TextOptions.model_validate({"metadata_fields": "everything"})
