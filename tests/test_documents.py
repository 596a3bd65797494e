"""Document store: stable ids, atomic parts that exist only with a marker, attribute joins, kept_only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from corpuskit.documents import (
    SCHEMA,
    PartWriter,
    document_id,
    documents_dir,
    list_parts,
    scan_documents,
    write_attributes,
)


def _rows(source: str, n: int, prefix: str = "f"):
    return [
        {
            "id": document_id(source, f"{prefix}#{i}"),
            "source": source,
            "text": f"document {i} " * 3,
            "url": f"https://example.org/{i}" if i % 2 else None,
            "locator": f"{prefix}#{i}",
            "created": datetime(2024, 1, 1, tzinfo=UTC) if i % 3 == 0 else None,
            "metadata": {"i": i, "b": "x"},
        }
        for i in range(n)
    ]


def test_document_id_is_stable_and_depends_on_source_and_locator():
    a = document_id("web", "x.warc#offset=1")
    assert a == document_id("web", "x.warc#offset=1")
    assert a != document_id("web", "x.warc#offset=2")
    assert a != document_id("books", "x.warc#offset=1")
    assert len(a) == 32


def test_part_invisible_until_marker_then_readable(tmp_path):
    ddir = documents_dir(tmp_path, "web")
    w = PartWriter(ddir, "k1", rows_per_file=3)
    for r in _rows("web", 7):
        w.add(r)
    # files of the unfinished part exist on disk but readers must not see them
    assert list(ddir.glob("part-k1-*.parquet"))
    assert list_parts(tmp_path, "web") == []
    assert scan_documents(tmp_path, "web").collect().height == 0
    w.finish({"uri": "f"})
    (part,) = list_parts(tmp_path, "web")
    assert part.marker["documents"] == 7 and len(part.files) == 3
    df = scan_documents(tmp_path, "web").collect()
    assert df.schema == pl.Schema(SCHEMA)
    assert df["locator"].to_list() == [f"f#{i}" for i in range(7)]
    assert json.loads(df["metadata"][0]) == {"b": "x", "i": 0}


def test_unfinished_part_is_cleared_when_redone(tmp_path):
    ddir = documents_dir(tmp_path, "web")
    w = PartWriter(ddir, "k1", rows_per_file=2)
    for r in _rows("web", 5):
        w.add(r)  # crash here: no finish()
    w2 = PartWriter(ddir, "k1", rows_per_file=2)
    for r in _rows("web", 3):
        w2.add(r)
    w2.finish({})
    assert scan_documents(tmp_path, "web").collect().height == 3


def test_attributes_join_and_kept_only(tmp_path):
    ddir = documents_dir(tmp_path, "web")
    w = PartWriter(ddir, "k", rows_per_file=100)
    rows = _rows("web", 4)
    for r in rows:
        w.add(r)
    w.finish({})
    (part,) = list_parts(tmp_path, "web")
    ids = [r["id"] for r in rows]
    write_attributes(
        tmp_path,
        "web",
        "curate",
        part.files[0],
        pl.DataFrame(
            {"id": ids, "score": [1.0, 2.0, 3.0, 4.0], "curate_drop_reason": [None, "short", None, None]}
        ),
    )
    write_attributes(
        tmp_path,
        "web",
        "dedup",
        part.files[0],
        pl.DataFrame({"id": ids, "dedup_drop_reason": [None, "near_duplicate", "near_duplicate", None]}),
    )
    full = scan_documents(tmp_path, "web").collect()
    assert full["drop_reason"].to_list() == [None, "short", "near_duplicate", None]
    kept = scan_documents(tmp_path, "web", kept_only=True).collect()
    assert kept["id"].to_list() == [ids[0], ids[3]]
    assert kept["score"].to_list() == [1.0, 4.0]


def test_same_rows_same_bytes(tmp_path):
    for d in ("a", "b"):
        w = PartWriter(documents_dir(tmp_path / d, "web"), "k")
        for r in _rows("web", 50):
            w.add(r)
        w.finish({})
    fa = sorted(documents_dir(tmp_path / "a", "web").glob("*.parquet"))
    fb = sorted(documents_dir(tmp_path / "b", "web").glob("*.parquet"))
    assert [f.read_bytes() for f in fa] == [f.read_bytes() for f in fb]


def test_part_files_are_bounded_by_text_size_too(tmp_path):
    w = PartWriter(documents_dir(tmp_path, "books"), "k", bytes_per_file=1000)
    for r in _rows("books", 10):
        r["text"] = "x" * 400
        w.add(r)
    w.finish({})
    (part,) = list_parts(tmp_path, "books")
    assert len(part.files) == 4  # 3 + 3 + 3 + 1 documents of 400 characters
    assert scan_documents(tmp_path, "books").collect().height == 10
