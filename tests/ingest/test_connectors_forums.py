"""Forum connectors (Stack Exchange, Reddit, mbox) on the real samples in ../shared/data, and bad input.

Expected values were checked by hand against the raw files (grep on Posts.xml, the JSON lines, the mbox).
"""

from __future__ import annotations

import gzip
import io
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pydantic
import pytest
import zstandard

from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.connectors.stackexchange import infer_site, license_for


def run(kind: str, path: Path, **options) -> tuple[list[Record], Counter, list[Skip]]:
    cls = get_connector_class(kind)
    items = list(cls(cls.Options(**options)).read(path, str(path)))
    records = [i for i in items if isinstance(i, Record)]
    skips = [i for i in items if isinstance(i, Skip)]
    assert len({r.locator for r in records}) == len(records), "locators must be unique per input"
    for r in records:
        assert r.created is None or r.created.tzinfo is not None
    return records, Counter(s.reason for s in skips), skips


def by_locator(records: list[Record]) -> dict[str, Record]:
    return {r.locator: r for r in records}


# ------------------------------------------------------------------------------------------ Stack Exchange


@pytest.fixture(scope="module")
def beer(shared_data: Path) -> tuple[list[Record], Counter, list[Skip]]:
    return run("stackexchange", shared_data / "forums/stackexchange/beer.stackexchange.com_Posts.xml")


def test_se_one_document_per_question(beer):
    records, reasons, _ = beer
    assert len(records) == 663  # grep -c 'PostTypeId="1"'
    assert reasons == {"other_post_type": 119}  # 58 tag excerpts + 58 tag wikis + 3 privilege wikis


def test_se_answers_accepted_first_then_by_score(beer, shared_data):
    docs = by_locator(beer[0])
    q2 = docs["question=2"]
    assert q2.metadata["answer_ids"] == [175, 177, 102, 46]  # scores 13 (accepted), 12, 7, 6
    # q312: accepted 318 has score 1, 3412 has 3: accepted first anyway, then the score order
    assert docs["question=312"].metadata["answer_ids"] == [318, 3412, 316]
    text = docs["question=312"].text
    assert text.index("Answer (accepted):") < text.index("Answer:")
    coffee, _, _ = run(
        "stackexchange", shared_data / "forums/stackexchange/coffee.stackexchange.com_Posts.xml"
    )
    # accepted 324 (score 4) first, then 88 (9), 274 (5), 318 (4), 294 (3), 1538 (0)
    assert by_locator(coffee)["question=79"].metadata["answer_ids"] == [324, 88, 274, 318, 294, 1538]


def test_se_text_metadata_and_licence(beer):
    q2 = by_locator(beer[0])["question=2"]
    assert q2.text.startswith("When was the first beer ever brewed?\n\nAs far as we know, when did humans")
    assert q2.url == "https://beer.stackexchange.com/questions/2"
    assert q2.created == datetime(2014, 1, 21, 20, 27, 29, 797000, tzinfo=UTC)
    m = q2.metadata
    assert (m["site"], m["question_id"], m["score"], m["tags"], m["answer_count"]) == (
        "beer.stackexchange.com", 2, 21, ["history"], 4)  # fmt: skip
    assert m["license"] == "CC BY-SA 3.0"  # 2014 post, no ContentLicense in this dump: SE's schedule
    assert (
        "https://beer.stackexchange.com/questions/2" in m["attribution"]
        and "CC BY-SA 3.0" in m["attribution"]
    )
    assert "<p>" not in q2.text and "&lt;" not in q2.text


def test_se_code_blocks_kept_as_code(beer):
    text = by_locator(beer[0])["question=154"].text
    assert (
        "I imagine the might would look something like:\n\n```\nPale Lager    \nGeneric lager.\nPilsner"
        in text
    )


def test_se_dump_folder_with_users_and_comments(shared_data):
    folder = shared_data / "forums/stackexchange/conlang_full_dump"
    records, reasons, _ = run(
        "stackexchange", folder, include_comments=True, site="conlang.meta.stackexchange.com"
    )
    assert len(records) == 54 and reasons == {"other_post_type": 8}
    q3 = by_locator(records)["question=3"]
    assert q3.metadata["authors"][0]["name"] == "rotaredom"  # OwnerUserId 19 in Users.xml
    assert q3.metadata["authors"][0]["profile"] == "https://conlang.meta.stackexchange.com/users/19"
    assert "Comment: I assumed the icon is a short form of `artificial languages`." in q3.text
    assert q3.metadata["license"] == "CC BY-SA 3.0"  # ContentLicense of posts 3 and 8
    plain, _, _ = run("stackexchange", folder)
    assert "Comment:" not in by_locator(plain)["question=3"].text


def test_se_score_options(shared_data):
    path = shared_data / "forums/stackexchange/beer.stackexchange.com_Posts.xml"
    raw = path.read_text(encoding="utf-8-sig")
    n_high = sum(int(s) >= 10 for s in re.findall(r'PostTypeId="1"[^>]*? Score="(-?\d+)"', raw))
    records, reasons, _ = run("stackexchange", path, min_score=10, min_answer_score=10)
    assert len(records) == n_high and reasons["below_min_score"] == 663 - n_high
    assert by_locator(records)["question=2"].metadata["answer_ids"] == [175, 177]


def test_se_7z_archive_read_directly(shared_data, tmp_path):
    py7zr = pytest.importorskip("py7zr")
    folder = shared_data / "forums/stackexchange/conlang_full_dump"
    archive = tmp_path / "conlang.meta.stackexchange.com.7z"
    with py7zr.SevenZipFile(archive, "w") as z:
        for name in ("Posts.xml", "Users.xml", "Comments.xml"):
            z.write(folder / name, name)
    records, reasons, _ = run("stackexchange", archive, include_comments=True)
    expected, _, _ = run(
        "stackexchange", folder, include_comments=True, site="conlang.meta.stackexchange.com"
    )
    assert [(r.locator, r.text, r.metadata) for r in records] == [
        (r.locator, r.text, r.metadata) for r in expected
    ]
    truncated = tmp_path / "cut.7z"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    records, reasons, _ = run("stackexchange", truncated)
    assert records == [] and reasons["bad_archive"] == 1


def _posts(rows: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n' + "\n".join(rows) + "\n</posts>\n").encode()


Q = '  <row Id="{i}" PostTypeId="1" CreationDate="2015-01-01T00:00:00.000" Score="1" Body="&lt;p&gt;q{i}&lt;/p&gt;" Title="T{i}" Tags="&lt;x&gt;" />'  # noqa: E501


def test_se_malformed_rows_are_skipped_and_the_rest_kept(tmp_path):
    rows = [Q.format(i=i) for i in range(1, 6)]
    rows[1] = '  <row Id="2" PostTypeId="1" Body="unclosed'  # invalid XML on line 4
    data = _posts(rows).replace(b"q4", b"q\xff\xfe4")  # a non-UTF-8 row (line 6)
    path = tmp_path / "Posts.xml"
    path.write_bytes(data)
    records, reasons, skips = run("stackexchange", path)
    assert sorted(r.locator for r in records) == ["question=1", "question=3", "question=5"]
    assert reasons == {"invalid_xml": 2}
    assert {s.locator for s in skips} == {"Posts.xml:line=4", "Posts.xml:line=6"}


def test_se_truncated_xml_keeps_rows_before(tmp_path):
    data = _posts([Q.format(i=i) for i in range(1, 6)])
    path = tmp_path / "Posts.xml"
    path.write_bytes(data[: data.index(b'Id="4"') + 10])
    records, reasons, _ = run("stackexchange", path)
    assert [r.locator for r in records] == ["question=1", "question=2", "question=3"]
    assert reasons["truncated_xml"] + reasons["invalid_xml"] == 1


def test_se_entity_bomb_fails_fast(tmp_path):
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE posts [<!ENTITY lol0 "lol">{lol}]>\n<posts>\n'
    bomb += '<row Id="1" PostTypeId="1" Score="1" Title="&lol9;" Body="&lol9;" />\n</posts>\n'
    path = tmp_path / "Posts.xml"
    path.write_text(bomb)
    t0 = time.perf_counter()
    records, reasons, skips = run("stackexchange", path)
    assert time.perf_counter() - t0 < 2
    assert records == [] and reasons == {"xml_entity_declaration": 1}
    assert "entity" in skips[0].detail


def test_se_site_inference_and_licence_schedule():
    assert infer_site(Path("beer.stackexchange.com.7z")) == "beer.stackexchange.com"
    assert infer_site(Path("beer.stackexchange.com_Posts.xml")) == "beer.stackexchange.com"
    assert infer_site(Path("stackoverflow.com-Posts.7z")) == "stackoverflow.com"
    assert infer_site(Path("conlang_full_dump")) is None and infer_site(Path("Posts.xml")) is None
    assert license_for({"CreationDate": "2010-01-01T00:00:00"}) == "CC BY-SA 2.5"
    assert (
        license_for({"CreationDate": "2010-01-01T00:00:00", "LastEditDate": "2019-01-01T00:00:00"})
        == "CC BY-SA 4.0"
    )
    assert license_for({"CreationDate": "2019-01-01", "ContentLicense": "CC BY-SA 3.0"}) == "CC BY-SA 3.0"


def test_options_reject_unknown_keys():
    for kind in ("stackexchange", "reddit", "mbox"):
        with pytest.raises(pydantic.ValidationError):
            get_connector_class(kind).Options.model_validate({"min_scor": 3})


# ------------------------------------------------------------------------------------------ Reddit


@pytest.fixture(scope="module")
def reddit_threads(shared_data: Path):
    return run("reddit", shared_data / "forums/reddit/praw_cassettes_submissions.jsonl.gz")


def test_reddit_threads_from_submissions_and_sibling_comments(reddit_threads):
    records, reasons, _ = reddit_threads
    # 526 submissions: 65 with self text or kept comments, 461 link posts with nothing to read;
    # 1392 of the 3420 comments belong to submissions that are not in the file
    assert len(records) == 65
    assert reasons == {"empty_thread": 461, "orphan_comment": 1392}
    t = by_locator(records)["submission=t3_n49rw"]
    assert t.text.startswith("We're back\n\nHey folks,")
    assert t.created == datetime(2011, 12, 8, 3, 2, 24, tzinfo=UTC)
    assert t.url == "https://www.reddit.com/r/announcements/comments/n49rw/were_back/"
    assert (t.metadata["subreddit"], t.metadata["score"], t.metadata["comments_in_input"]) == (
        "announcements",
        2414,
        1428,
    )


def test_reddit_comment_tree_order_and_filters(reddit_threads):
    t = by_locator(reddit_threads[0])["submission=t3_3cxedn"]
    # highest-scored comments first: cszv2lg (5489), cszvwgm (5205), cszucsl (4583)
    a, b, c = (
        t.text.index(s) for s in ("- Absolutely. Shadowbanning", "- Yes, that's exactly", "- No. I know she")
    )
    assert a < b < c
    assert t.metadata["comment_ids"][:3] == ["t1_cszv2lg", "t1_cszvwgm", "t1_cszucsl"]
    all_text = "\n".join(r.text for r in reddit_threads[0])
    assert "I am a bot, and this action was performed automatically" not in all_text  # AutoModerator
    assert "\n- [deleted]" not in all_text


def test_reddit_one_document_per_comment(shared_data):
    path = shared_data / "forums/reddit/praw_cassettes_comments.jsonl.gz"
    records, reasons, _ = run("reddit", path)
    # 3420 comments: 110 AutoModerator + sneakpeekbot x2 + PoliticsModeratorBot + HollywoodBot; 25 "[deleted]"
    assert reasons == {"bot_author": 114, "deleted_or_removed": 25}
    assert len(records) == 3420 - 114 - 25
    c = by_locator(records)["comment=t1_dbhn11d"]
    assert c.text.startswith("1979 (Showa 54) 10 Yen (bronze) plain edge.")
    assert (c.metadata["subreddit"], c.metadata["score"], c.metadata["link_id"]) == ("coins", 1, "t3_5jffj1")
    assert c.created == datetime.fromtimestamp(1482373040, tz=UTC)
    records, reasons, _ = run("reddit", path, bot_authors=[], bot_author_pattern=None, min_score=2)
    assert "bot_author" not in reasons and reasons["below_min_score"] > 0


def test_reddit_zst_with_long_window_and_malformed_lines(shared_data, tmp_path):
    lines = (
        gzip.open(shared_data / "forums/reddit/praw_cassettes_comments.jsonl.gz", "rb")
        .read()
        .splitlines()[:50]
    )
    lines[10] = b'{"id": "broken", "body": '  # bad JSON line
    lines[20] = lines[20].replace(b'"body": "', b'"body": "\xff\xfe')  # not UTF-8
    data = b"\n".join(lines) + b"\n"
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=28)  # beyond zstd's default limit
    path = tmp_path / "RC_2016-12.zst"
    path.write_bytes(zstandard.ZstdCompressor(compression_params=params).compress(data))
    records, reasons, skips = run("reddit", path, bot_authors=[], bot_author_pattern=None)
    assert {s.locator for s in skips if s.reason in ("bad_json_line", "non_utf8")} == {"line=11", "line=21"}
    assert reasons["bad_json_line"] == 1 and reasons["non_utf8"] == 1
    assert len(records) + reasons["deleted_or_removed"] == 48


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_reddit_truncated_archive_keeps_what_was_read(shared_data, tmp_path, suffix):
    data = gzip.open(shared_data / "forums/reddit/praw_cassettes_comments.jsonl.gz", "rb").read()
    blob = gzip.compress(data) if suffix.endswith(".gz") else zstandard.ZstdCompressor().compress(data)
    path = tmp_path / f"comments{suffix}"
    path.write_bytes(blob[: len(blob) // 2])
    records, reasons, _ = run("reddit", path, mode="comments")
    assert reasons["truncated_input"] == 1
    assert 500 < len(records) < 3281


def test_reddit_api_wrappers_and_json_arrays(tmp_path):
    data = {
        "id": "abc",
        "name": "t3_abc",
        "title": "Hello",
        "selftext": "Body &amp; soul",
        "subreddit": "test",
    }
    sub = {"kind": "t3", "data": {**data, "score": 5, "created_utc": 1500000000, "author": "x"}}
    com = {"id": "c1", "link_id": "t3_abc", "parent_id": "t3_abc", "body": "a reply", "score": 2,
           "created_utc": 1500000100, "author": "y", "subreddit": "test"}  # fmt: skip
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([sub, com]))
    records, reasons, _ = run("reddit", path)
    assert len(records) == 1 and not reasons
    assert records[0].text == "Hello\n\nBody & soul\n\n- a reply"


# ------------------------------------------------------------------------------------------ mbox


@pytest.fixture(scope="module")
def notmuch(shared_data: Path):
    return run("mbox", shared_data / "forums/mailing_lists/notmuch_corpus_default.mbox")


def test_mbox_threads(notmuch):
    records, reasons, _ = notmuch
    # 53 messages, one delivered twice (same Message-ID) -> 52 messages in 24 threads
    assert reasons == {"duplicate_message": 1}
    assert sum(r.metadata["message_count"] for r in records) == 52 and len(records) == 24
    t = by_locator(records)["thread=<20091117190054.GU3165@dottiness.seas.harvard.edu>"]
    m = t.metadata
    assert (
        m["subject"] == "[notmuch] Working with Maildir storage?" and m["list"] == "notmuch.notmuchmail.org"
    )
    assert m["message_ids"][:3] == [
        "<20091117190054.GU3165@dottiness.seas.harvard.edu>",
        "<87iqd9rn3l.fsf@vertex.dottedmag>",
        "<20091117203301.GV3165@dottiness.seas.harvard.edu>",
    ]
    assert len(m["message_ids"]) == 7 and m["dates"] == sorted(m["dates"])
    assert t.created == datetime(2009, 11, 17, 19, 0, 54, tzinfo=UTC)


def test_mbox_quotes_removed(notmuch):
    t = by_locator(notmuch[0])["thread=<20091117190054.GU3165@dottiness.seas.harvard.edu>"]
    assert t.text.count("Resulted in 4604 lines of errors") == 1  # the original, not the "LK> " quotes
    assert "LK>" not in t.text and "did gyre and gimble" not in t.text  # supercite quotes + attribution
    assert "See the patch just posted here." in t.text


def test_mbox_addresses_redacted(shared_data):
    records, _, _ = run("mbox", shared_data / "forums/mailing_lists/notmuch_corpus_lkml.mbox")
    text = "\n".join(r.text for r in records)
    assert "Signed-off-by: Stefan Schmidt <[EMAIL]>" in text
    assert "stefan@datenfreihafen.org" not in text
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)
    kept, _, _ = run(
        "mbox", shared_data / "forums/mailing_lists/notmuch_corpus_lkml.mbox", redact_emails=False
    )
    assert "stefan@datenfreihafen.org" in "\n".join(r.text for r in kept)


def test_mbox_pipermail_footer_and_attribution(shared_data):
    records, _, _ = run("mbox", shared_data / "forums/mailing_lists/perceval_pipermail_2015_november.mbox")
    text = "\n".join(r.text for r in records)
    assert "next part" not in text and "An HTML attachment was scrubbed" not in text
    assert "GMT+01:00" not in text  # the "2015-11-15 23:43 GMT+01:00 Jesus … <…>:" attribution line
    assert "Which rights do you need?" in text


def test_mbox_encodings(shared_data):
    records, _, _ = run("mbox", shared_data / "forums/mailing_lists/perceval_mbox_unknown_encoding.mbox")
    assert records[0].metadata["subject"] == "[platform-swt-dev] How to refresh a control in another thread?"
    assert "how can I refresh the control" in records[0].text


def _msg(mid: str, body: str, reply_to: str | None = None, charset: str = "utf-8", date: str = "01") -> bytes:
    head = f"From x@example.org Mon Jan  1 00:00:00 2024\nFrom: A <a@example.org>\nMessage-ID: <{mid}>\n"
    head += f"Date: Mon, {date} Jan 2024 10:00:00 +0000\nSubject: Topic\n"
    head += f"Content-Type: text/plain; charset={charset}\n"
    if reply_to:
        head += f"In-Reply-To: <{reply_to}>\n"
    return head.encode() + b"\n" + body.encode("latin-1") + b"\n\n"


def test_mbox_cleaning_redaction_and_charset_fallback(tmp_path):
    data = _msg(
        "1@x.org", "Call me on +1 555 123 4567 or (555) 123-4567, v2.6.32 on 2009-11-17.\n-- \nAnn\nSig line"
    )
    reply = "Caf\xe9 ol\xe9\n\nOn Mon, Jan 1, 2024, A <a@example.org> wrote:\n> quoted\nreply"
    data += _msg("2@x.org", reply, reply_to="1@x.org", charset="x-unknown-charset", date="02")
    path = tmp_path / "list.mbox"
    path.write_bytes(data)
    (t,), reasons, _ = run("mbox", path, list_name="demo")
    assert not reasons
    first = "Call me on [PHONE] or [PHONE], v2.6.32 on 2009-11-17."  # signature after "-- " gone
    assert t.text == f"Subject: Topic\n\n{first}\n\n---\n\nCafé olé\n\nreply"
    assert t.metadata["charset_fallbacks"] == 1 and t.metadata["list"] == "demo"
    assert t.metadata["message_ids"] == ["<1@x.org>", "<2@x.org>"]


def test_mbox_oversize_message_skipped_rest_kept(tmp_path):
    path = tmp_path / "big.mbox"
    path.write_bytes(_msg("1@x.org", "small") + _msg("2@x.org", "x" * 5000) + _msg("3@x.org", "also small"))
    records, reasons, skips = run("mbox", path, max_message_bytes=2000)
    assert reasons == {"message_too_large": 1} and skips[0].locator == "line=10"
    assert sorted(r.metadata["message_ids"][0] for r in records) == ["<1@x.org>", "<3@x.org>"]


def test_mbox_gzip_and_truncated_gzip(shared_data, tmp_path):
    raw = (shared_data / "forums/mailing_lists/notmuch_corpus_default.mbox").read_bytes()
    full = tmp_path / "list.mbox.gz"
    full.write_bytes(gzip.compress(raw))
    records, reasons, _ = run("mbox", full)
    assert len(records) == 24 and reasons == {"duplicate_message": 1}
    cut = tmp_path / "cut.mbox.gz"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    records, reasons, _ = run("mbox", cut)
    assert reasons["truncated_input"] == 1 and 5 < len(records) < 24


# ------------------------------------------------------------------------------------- safe XML, configs


def test_row_parser_recovery_is_independent_of_chunking(tmp_path):
    from corpuskit.connectors.safexml import iter_rows

    rows = [Q.format(i=i) for i in range(1, 40)]
    rows[7] = '  <row Id="8" Body="unclosed'
    rows[20] = "  junk between rows"
    data = _posts(rows).replace(b"q30&", b"q\xff30&")
    results = []
    for chunk in (3, 64, 1 << 20):
        items = list(iter_rows(io.BytesIO(data), chunk_bytes=chunk))
        results.append(
            (
                [r["Id"] for r in items if isinstance(r, dict)],
                [s.locator for s in items if isinstance(s, Skip)],
            )
        )
    assert results[0] == results[1] == results[2]
    ids, skips = results[0]
    assert len(ids) == 36 and "8" not in ids and "21" not in ids and "30" not in ids
    assert skips == ["line=10", "line=23", "line=32"]


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name, kind", [("forums", "stackexchange"), ("reddit", "reddit"), ("mailing_lists", "mbox")]
)
def test_example_configs_are_valid(name, kind):
    from corpuskit.config import load_source_config

    cfg = load_source_config(REPO / "sources" / f"{name}.yaml")
    assert cfg.kind == kind
    cfg.connector_options()


def test_ingest_end_to_end_with_runner(shared_data, tmp_path):
    """The lead's runner drives these connectors: a dump folder is one shard, skips land in the marker."""
    from corpuskit.config import load_source_config
    from corpuskit.documents import scan_documents
    from corpuskit.ingest import ingest

    cfg_path = tmp_path / "se.yaml"
    folder = shared_data / "forums/stackexchange/conlang_full_dump"
    cfg_path.write_text(
        f"name: conlang\nkind: stackexchange\ninputs: ['{folder}']\noutput: {tmp_path / 'corpus'}\n"
        "options: {site: conlang.meta.stackexchange.com, include_comments: true}\n"
    )
    summary = ingest(load_source_config(cfg_path), workers=1)
    assert summary.documents == 54 and summary.errors == {"other_post_type": 8}
    df = scan_documents(tmp_path / "corpus", "conlang").collect()
    assert df.height == 54 and df["locator"].str.ends_with("#question=3").sum() == 1
    assert (
        json.loads(df.filter(df["locator"].str.ends_with("#question=3"))["metadata"][0])["question_id"] == 3
    )


@pytest.mark.parametrize(
    "kind, rel",
    [
        ("stackexchange", "forums/stackexchange/conlang_full_dump"),
        ("reddit", "forums/reddit/praw_cassettes_submissions.jsonl.gz"),
        ("mbox", "forums/mailing_lists/notmuch_corpus_lkml.mbox"),
    ],
)
def test_output_is_deterministic(shared_data, kind, rel):
    first, second = (run(kind, shared_data / rel) for _ in range(2))
    assert [(r.locator, r.text, r.metadata, r.created) for r in first[0]] == [
        (r.locator, r.text, r.metadata, r.created) for r in second[0]
    ]
    assert [(s.reason, s.locator) for s in first[2]] == [(s.reason, s.locator) for s in second[2]]
