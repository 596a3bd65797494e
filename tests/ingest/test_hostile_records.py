"""One bad record costs only itself: hostile records are skipped (or repaired) and counted, and the good
records of the same file are kept; hostile configs are one message with exit code 2."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest
import zstandard
from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.config import load_source_config
from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.ingest import ingest
from corpuskit.store import scan_documents

DEEP = "[" * 200_000 + "]" * 200_000


def read(kind: str, path: Path, **options) -> tuple[list[Record], Counter]:
    cls = get_connector_class(kind)
    items = list(cls(cls.Options(**options)).read(path, str(path)))
    return [i for i in items if isinstance(i, Record)], Counter(
        i.reason for i in items if isinstance(i, Skip)
    )


def lines(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n")
    return path


def good(i: int) -> str:
    return json.dumps(
        {
            "text": f"good record {i}",
            "id": f"t3_{i}",
            "title": f"title {i}",
            "selftext": "x" * 30,
            "author": "someone",
            "score": 5,
            "created_utc": 1_600_000_000 + i,
            "subreddit": "s",
        }
    )


def test_deeply_nested_json_line_is_one_skip_in_jsonl(tmp_path):
    rows = [good(i) for i in range(10)]
    rows[4] = DEEP
    records, reasons = read("jsonl", lines(tmp_path / "a.jsonl", rows))
    assert len(records) == 9 and reasons == Counter({"too_deep": 1})


def test_deeply_nested_json_line_is_one_skip_in_reddit(tmp_path):
    rows = [good(i) for i in range(10)]
    rows[4] = DEEP
    records, reasons = read("reddit", lines(tmp_path / "RS_a.jsonl", rows))
    assert len(records) == 9 and reasons["too_deep"] == 1


@pytest.mark.parametrize("kind", ["jsonl", "reddit"])
def test_lone_surrogate_is_repaired_and_the_source_ingests(tmp_path, kind):
    rows = [good(i) for i in range(10)]
    rows[3] = rows[3].replace("good record 3", "bad \\ud800 record").replace("title 3", "bad \\udfff title")
    lines(tmp_path / "RS_in.jsonl", rows)
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"name: s\nkind: {kind}\ninputs: ['RS_in.jsonl']\noutput: corpus\n")
    summary = ingest(load_source_config(cfg), workers=1)
    assert not summary.failed and summary.documents == 10
    if kind == "jsonl":  # reddit repairs while parsing (its thread store needs valid text too)
        assert summary.errors["repaired_invalid_unicode"] == 1
    texts = scan_documents(tmp_path / "corpus", "s").collect()["text"].to_list()
    assert any("\ufffd" in t for t in texts)


def test_truncated_zstd_keeps_what_came_before_and_says_so(tmp_path):
    rows = [json.dumps({"text": f"record {i} " + "lorem ipsum " * 20}) for i in range(5000)]
    data = zstandard.ZstdCompressor().compress(("\n".join(rows) + "\n").encode())
    (tmp_path / "cut.jsonl.zst").write_bytes(data[: len(data) * 7 // 10])
    records, reasons = read("jsonl", tmp_path / "cut.jsonl.zst")
    assert 0 < len(records) < 5000
    assert sum(reasons.values()) >= 1 and set(reasons) <= {"read_error", "truncated_input", "invalid_json"}
    assert "read_error" in reasons or "truncated_input" in reasons  # the truncation itself is reported


def test_nul_in_an_mbox_charset_costs_one_message_at_most(tmp_path):
    msgs = []
    for i in range(10):
        cs = "utf\x00-8" if i == 5 else "utf-8"
        msgs.append(
            f"From sender{i}@example.org Mon Jan  1 00:00:00 2024\nFrom: a{i}@example.org\n"
            f"Subject: message {i}\nMessage-ID: <m{i}@example.org>\n"
            f'Content-Type: text/plain; charset="{cs}"\n\n'
            f"Body of message number {i}, long enough to be a real message body.\n\n"
        )
    (tmp_path / "list.mbox").write_text("".join(msgs))
    records, _ = read("mbox", tmp_path / "list.mbox")
    assert sum(r.text.count("Body of message number") for r in records) >= 9


def _cfg(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_duplicate_yaml_keys_are_refused_with_their_line(tmp_path):
    p = _cfg(tmp_path, "name: a\nkind: jsonl\ninputs: [x.jsonl]\nkind: warc\n")
    res = CliRunner().invoke(app, ["ingest", str(p)])
    assert res.exit_code == 2
    assert "duplicate key 'kind'" in res.output and "line 4" in res.output


def test_yaml_alias_bomb_is_refused_before_anything_runs(tmp_path):
    bomb = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    for k in "bcdefghi":
        prev = chr(ord(k) - 1)
        bomb.append(f"{k}: &{k} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    p = _cfg(tmp_path, "\n".join(bomb) + "\nname: x\n")
    t0 = time.perf_counter()
    res = CliRunner().invoke(app, ["ingest", str(p)])
    assert res.exit_code == 2 and "aliases" in res.output
    assert time.perf_counter() - t0 < 5


def test_a_config_path_that_is_a_folder_is_a_message(tmp_path):
    res = CliRunner().invoke(app, ["ingest", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.output


def test_a_text_node_over_10_mb_is_extracted_not_emptied(tmp_path):
    big = "word " * 2_200_000  # 11 MB in one text node: libxml2's default limit would drop it silently
    posts = (
        '<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'
        f'  <row Id="1" PostTypeId="1" Score="5" Title="Big" Body="&lt;p&gt;{big}&lt;/p&gt;" '
        'CreationDate="2020-01-01T00:00:00.000" />\n</posts>\n'
    )
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "Posts.xml").write_text(posts)
    records, _ = read("stackexchange", tmp_path / "dump", site="x.stackexchange.com")
    (rec,) = records
    assert len(rec.text) > 10_000_000


def test_a_utf16_book_with_a_bom_is_decoded(tmp_path, shared_data):
    src = shared_data / "books" / "en_carroll_alice_pg11.txt"
    text = src.read_text(encoding="utf-8-sig")
    (tmp_path / "alice16.txt").write_bytes(text.encode("utf-16"))  # BOM + UTF-16-LE
    records, reasons = read("gutenberg", tmp_path / "alice16.txt")
    (want,), _ = read("gutenberg", src)
    (got,) = records
    assert got.text == want.text and not reasons


def test_a_reddit_object_with_a_body_but_no_link_id_is_a_malformed_comment(tmp_path):
    rows = [good(i) for i in range(3)] + [json.dumps({"id": "c1", "body": "orphan comment", "score": 3})]
    records, reasons = read("reddit", lines(tmp_path / "RS_x.jsonl", rows))
    assert len(records) == 3 and reasons["malformed_record"] == 1


def test_a_corrupt_parquet_row_group_costs_only_its_rows(tmp_path):
    import polars as pl
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pl.DataFrame({"text": [f"row number {i} " + "x" * 200 for i in range(100)]}).write_parquet(
        path, row_group_size=25, compression="uncompressed", statistics=False
    )
    meta = pq.read_metadata(path)
    col = meta.row_group(1).column(0)
    start = col.dictionary_page_offset or col.data_page_offset
    data = bytearray(path.read_bytes())
    data[start : start + 64] = b"\xff" * 64  # clobber the second row group's page header
    path.write_bytes(bytes(data))
    records, reasons = read("parquet", path)
    assert reasons == Counter({"corrupt_row_group": 1})
    assert len(records) == 75
    assert {r.locator for r in records} == {f"row={i}" for i in [*range(25), *range(50, 100)]}


def _members(data: bytes) -> list[bytes]:
    import zlib

    out, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        out.append(data[pos:end])
        pos = end
    return out


def test_a_corrupt_gzip_member_in_a_warc_costs_only_its_record(tmp_path, shared_data):
    src = shared_data / "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz"
    full, _ = read("warc", src, extractor="resiliparse")
    members = _members(src.read_bytes())
    bad = bytearray(members[20])
    bad[len(bad) // 2 : len(bad) // 2 + 40] = b"\0" * 40
    (tmp_path / "c.warc.gz").write_bytes(b"".join(members[:20]) + bytes(bad) + b"".join(members[21:]))
    records, reasons = read("warc", tmp_path / "c.warc.gz", extractor="resiliparse")
    assert len(records) == len(full) - 1 and reasons["truncated_record"] == 1
    lost = {r.locator for r in full} - {r.locator for r in records}
    assert len(lost) == 1  # locators of the records after the broken one are unchanged


def test_a_cut_whole_file_gzip_warc_keeps_its_complete_leading_records(tmp_path, shared_data):
    import gzip

    src = shared_data / "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz"
    whole = gzip.compress(gzip.decompress(src.read_bytes()))
    (tmp_path / "cut.warc.gz").write_bytes(whole[: len(whole) * 7 // 10])
    full, _ = read("warc", src, extractor="resiliparse")
    records, reasons = read("warc", tmp_path / "cut.warc.gz", extractor="resiliparse")
    assert 0 < len(records) < len(full) and reasons["truncated_input"] == 1
    assert [r.text for r in records] == [r.text for r in full[: len(records)]]


def test_found_by_fuzzing_an_unknown_xml_encoding_is_read_as_utf8(tmp_path, shared_data):
    posts = (shared_data / "forums/stackexchange/conlang_full_dump/Posts.xml").read_bytes()
    assert posts.startswith(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>')
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump/Posts.xml").write_bytes(posts.replace(b'encoding="utf-8"', b'encoding="ttf-8"', 1))
    records, reasons = read("stackexchange", tmp_path / "dump", site="conlang.meta.stackexchange.com")
    want, _ = read("stackexchange", shared_data / "forums/stackexchange/conlang_full_dump",
                   site="conlang.meta.stackexchange.com")  # fmt: skip
    assert reasons["unknown_encoding"] == 1 and len(records) == len(want) > 0


def test_found_by_fuzzing_a_warc_with_a_duplicated_slice_does_not_crash(tmp_path, shared_data):
    data = (shared_data / "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz").read_bytes()
    a, b, at = 6516, 11294, 5889
    (tmp_path / "d.warc.gz").write_bytes(data[:at] + data[a:b] + data[at:])
    records, reasons = read("warc", tmp_path / "d.warc.gz", extractor="resiliparse")
    assert records and reasons
