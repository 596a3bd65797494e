"""Document store: stable ids, parts that exist only once committed, commit records that are checked,
attributes that go stale with their part, kept_only, and a layout other tools read as plain Parquet."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from corpuskit.documents import SCHEMA, document_id
from corpuskit.store import SourceStore, list_parts, scan_documents, stale_sets
from corpuskit.store.commits import FileRecord, commit_part
from corpuskit.store.parts import PartWriter, write_part
from tests.support.store import attach, commit_rows, documents_dir


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


def _commit(store: SourceStore, key: str, files: list[FileRecord]) -> None:
    commit_part(store, key, uri="f", identity={}, settings="", files=files, info={})


def test_part_invisible_until_committed_then_readable(tmp_path):
    store = SourceStore(tmp_path, "web")
    w = PartWriter(store, "k1", rows_per_file=3)
    for r in _rows("web", 7):
        w.add(r)
    files = w.finish()
    # files of the uncommitted part exist on disk but readers must not see them
    assert list(store.documents_dir.glob("part-k1-*.parquet"))
    assert list_parts(tmp_path, "web") == []
    assert scan_documents(tmp_path, "web").collect().height == 0
    _commit(store, "k1", files)
    (part,) = list_parts(tmp_path, "web")
    assert part.marker["documents"] == 7 and len(part.files) == 3
    df = scan_documents(tmp_path, "web").collect()
    assert df.schema == pl.Schema(SCHEMA)
    assert df["locator"].to_list() == [f"f#{i}" for i in range(7)]
    assert json.loads(df["metadata"][0]) == {"b": "x", "i": 0}


def test_unfinished_part_is_cleared_when_redone(tmp_path):
    store = SourceStore(tmp_path, "web")
    w = PartWriter(store, "k1", rows_per_file=2)
    for r in _rows("web", 5):
        w.add(r)  # crash here: no finish(), no commit
    write_part(store, "k1", _rows("web", 3), rows_per_file=2)
    assert scan_documents(tmp_path, "web").collect().height == 3
    assert len(list(store.documents_dir.glob("*.parquet"))) == 2


def test_a_commit_whose_file_changed_is_not_trusted(tmp_path):
    store = SourceStore(tmp_path, "web")
    (f,) = write_part(store, "k", _rows("web", 10))
    path = store.documents_dir / f.name
    pl.read_parquet(path).head(6).write_parquet(path)  # the file lost rows behind the store's back
    assert list_parts(tmp_path, "web") == []  # readers see no part rather than a wrong one


def test_attributes_join_and_kept_only(tmp_path):
    rows = _rows("web", 4)
    commit_rows(tmp_path, "web", "k", rows, rows_per_file=100)
    (part,) = list_parts(tmp_path, "web")
    ids = [r["id"] for r in rows]
    attach(
        tmp_path,
        "web",
        "curate",
        part.files[0],
        pl.DataFrame(
            {"id": ids, "score": [1.0, 2.0, 3.0, 4.0], "curate_drop_reason": [None, "short", None, None]}
        ),
    )
    attach(
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


def test_attributes_of_a_redone_part_are_ignored(tmp_path):
    rows = _rows("web", 4)
    (doc,) = commit_rows(tmp_path, "web", "k", rows)
    ids = [r["id"] for r in rows]
    attach(tmp_path, "web", "curate", doc, pl.DataFrame({"id": ids, "curate_drop_reason": ["x"] * 4}))
    assert scan_documents(tmp_path, "web", kept_only=True).collect().height == 0
    for r in rows:
        r["text"] = "new text from another text_field"
    commit_rows(tmp_path, "web", "k", rows)  # re-ingested: same ids, other content
    assert stale_sets(tmp_path, "web") == {"curate": 1}
    df = scan_documents(tmp_path, "web", kept_only=True).collect()
    assert df.height == 4 and "curate_drop_reason" not in df.columns


def test_documents_and_attributes_are_plain_parquet_datasets(tmp_path):
    import duckdb
    import pyarrow.dataset as ds

    rows = _rows("web", 30)
    (doc,) = commit_rows(tmp_path, "web", "k", rows)
    attach(
        tmp_path, "web", "signals", doc, pl.DataFrame({"id": [r["id"] for r in rows], "n": list(range(30))})
    )
    store = SourceStore(tmp_path, "web")
    assert ds.dataset(store.documents_dir, format="parquet").count_rows() == 30
    assert ds.dataset(store.attributes_dir("signals"), format="parquet").count_rows() == 30
    n = duckdb.sql(f"select count(*) from read_parquet('{store.documents_dir}/*.parquet')").fetchall()[0][0]
    assert n == 30


def test_same_rows_same_bytes(tmp_path):
    for d in ("a", "b"):
        commit_rows(tmp_path / d, "web", "k", _rows("web", 50))
    fa = sorted(documents_dir(tmp_path / "a", "web").glob("*.parquet"))
    fb = sorted(documents_dir(tmp_path / "b", "web").glob("*.parquet"))
    assert [f.read_bytes() for f in fa] == [f.read_bytes() for f in fb]


def test_part_files_are_bounded_by_text_size_too(tmp_path):
    w = PartWriter(SourceStore(tmp_path, "books"), "k", bytes_per_file=1000)
    for r in _rows("books", 10):
        r["text"] = "x" * 400
        w.add(r)
    _commit(SourceStore(tmp_path, "books"), "k", w.finish())
    (part,) = list_parts(tmp_path, "books")
    assert len(part.files) == 4  # 3 + 3 + 3 + 1 documents of 400 characters
    assert scan_documents(tmp_path, "books").collect().height == 10
