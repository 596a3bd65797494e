"""WARC / WET / HTML connectors on real samples (../shared/data/web) and on WARCs written here."""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from corpuskit.config import load_source_config
from corpuskit.connectors import pagetext
from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.connectors.html import HtmlConnector
from corpuskit.connectors.pagetext import WebOptions, decode_html, run_with_time_limit
from corpuskit.connectors.warc import WarcConnector, WarcOptions

ARTICLE = (
    "<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a> | <a href='/x'>News</a></nav>"
    "<article><h1>{title}</h1>"
    + "<p>{body} This paragraph is long enough for an extractor to treat it as main content, with "
    "several sentences about the subject of the page. It keeps going to be sure.</p>"
    * 3
    + "</article><footer>Copyright 2024 Example</footer></body></html>"
)


def page(title: str, body: str = "Plain words.", charset: str = "utf-8") -> bytes:
    return ARTICLE.format(title=title, body=body).encode(charset)


def read(path: Path, **opts: object) -> list[Record | Skip]:
    return list(WarcConnector(WarcOptions(**opts)).read(path, str(path)))


def records(out: list[Record | Skip]) -> list[Record]:
    return [r for r in out if isinstance(r, Record)]


def skips(out: list[Record | Skip], ignore: tuple[str, ...] = ("record_type",)) -> list[tuple[str, str]]:
    return [(s.locator, s.reason) for s in out if isinstance(s, Skip) and s.reason not in ignore]


def make_warc(path: Path, items: list[dict], gz: bool = True) -> Path:
    """Write a WARC of response records; each item: url, body (bytes), and optional status/ctype/type."""
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        for it in items:
            rtype = it.get("type", "response")
            if rtype == "response":
                headers = StatusAndHeaders(
                    f"{it.get('status', 200)} X",
                    [("Content-Type", it.get("ctype", "text/html"))] + it.get("headers", []),
                    protocol="HTTP/1.1",
                )
                rec = w.create_warc_record(
                    it["url"], "response", payload=io.BytesIO(it["body"]), http_headers=headers
                )
            else:
                rec = w.create_warc_record(
                    it["url"],
                    rtype,
                    payload=io.BytesIO(it["body"]),
                    warc_content_type=it.get("ctype", "text/plain"),
                )
            w.write_record(rec)
    return path


# ------------------------------------------------------------------------------------------ real samples


def test_whirlwind_warc_gives_the_escopete_page(shared_data: Path) -> None:
    out = read(shared_data / "web/commoncrawl_whirlwind/whirlwind.warc.gz")
    (rec,) = records(out)
    assert rec.url == "https://an.wikipedia.org/wiki/Escopete"
    assert rec.created == datetime(2024, 5, 18, 1, 58, 10, tzinfo=UTC)
    assert rec.locator == "record=2"
    m = rec.metadata
    assert m["warc_record_id"] == "<urn:uuid:2aabeff2-67f5-4608-8466-e87c6296e2b6>"
    assert (m["http_status"], m["content_type"], m["charset"]) == (200, "text/html; charset=UTF-8", "utf-8")
    assert "Hilario Lopez Ferrer" in rec.text and "19119" in rec.text  # the mayor and the postal code
    assert "Menú principal" not in rec.text  # navigation is not main text
    # warcinfo, request and metadata records are counted, not silently dropped
    assert [(s.locator, s.reason) for s in out if isinstance(s, Skip)] == [
        ("record=0", "record_type"),
        ("record=1", "record_type"),
        ("record=3", "record_type"),
    ]


def test_whirlwind_resiliparse_extracts_the_same_page(shared_data: Path) -> None:
    (rec,) = records(
        read(shared_data / "web/commoncrawl_whirlwind/whirlwind.warc.gz", extractor="resiliparse")
    )
    assert rec.metadata["extractor"] == "resiliparse"
    assert "Hilario Lopez Ferrer" in rec.text and "Menú principal" not in rec.text


@pytest.mark.parametrize("charset", ["utf-8", "utf-8-sig", "cp1252"])
def test_resiliparse_on_the_page_bytes_equals_on_the_decoded_page(charset: str) -> None:
    """UTF-8 pages go to resiliparse as their bytes (no re-encoding); the text is the same as from the str."""
    cjk = " 大きさ" if charset != "cp1252" else ""
    body = page("Größe –" + cjk, "Ünïcödé wörds –" + cjk, "utf-8").decode("utf-8").encode(charset)
    ex = pagetext.Extractor(WebOptions(extractor="resiliparse"))
    html, used = decode_html(body)
    assert used == charset
    text, _ = pagetext.html_to_text(ex, body, None, "x")
    assert text == ex(html).strip() and "Größe" in text


def test_whirlwind_wet_is_taken_as_text(shared_data: Path) -> None:
    (wet,) = records(read(shared_data / "web/commoncrawl_whirlwind/whirlwind.warc.wet.gz"))
    assert wet.url == "https://an.wikipedia.org/wiki/Escopete"
    assert wet.text.startswith("Escopete - Biquipedia, a enciclopedia libre\nIr al contenido\n")
    assert "Hilario Lopez Ferrer" in wet.text
    assert wet.metadata["warc_type"] == "conversion" and wet.metadata["warc_content_language"] == "spa"
    # the WET record points at the WARC response it was made from
    assert wet.metadata["warc_refers_to"] == "<urn:uuid:2aabeff2-67f5-4608-8466-e87c6296e2b6>"
    assert wet.created == datetime(2024, 5, 18, 1, 58, 10, tzinfo=UTC)


def test_wat_has_no_documents(shared_data: Path) -> None:
    out = read(shared_data / "web/commoncrawl_whirlwind/whirlwind.warc.wat.gz")
    assert records(out) == [] and {s.reason for s in out} == {"record_type"}


def test_commoncrawl_excerpt_every_response_accounted_for(shared_data: Path) -> None:
    out = read(shared_data / "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz")
    types = Counter(s.detail for s in out if isinstance(s, Skip) and s.reason == "record_type")
    assert types == {"WARC-Type warcinfo": 1, "WARC-Type request": 17, "WARC-Type metadata": 16}
    assert len(records(out)) + len(skips(out)) == 16  # 16 responses: a document or a counted reason
    assert len(records(out)) >= 14
    locs = [r.locator for r in out]
    assert len(locs) == len(set(locs)) == 50
    by_url = {r.url: r for r in records(out)}
    ru = by_url["http://01spb.ru/company/"]
    assert ru.metadata["charset"] == "cp1251" and "О компании" in ru.text  # HTTP header windows-1251
    cn = by_url["http://041696.com/15477/list_6_4.html"]
    assert cn.metadata["charset"] == "gb18030" and "发布时间" in cn.text  # <meta charset=gbk> only
    offsets = [r.metadata["warc_offset"] for r in records(out)]
    assert offsets == sorted(offsets) and by_url["http://01spb.ru/company/"].metadata["warc_offset"] == 12685


def test_wget_warc_unwraps_angle_bracket_uris(shared_data: Path) -> None:
    out = read(shared_data / "web/warc_other/dolma_wget_sample-0000.warc.gz")
    recs = records(out)
    assert len(recs) == 22 and recs[0].url == "https://www.semanticscholar.org/research/research-team"
    assert all(not r.url.startswith("<") for r in recs)


@pytest.mark.parametrize(
    ("name", "n_records", "reasons"),
    [
        ("resiliparse-clipped.warc.gz", 0, ["truncated_record"]),  # file cut inside the page body
        ("warcio-example-bad-non-chunked.warc.gz", 1, []),  # whole-file gzip
        ("warcio-example-bad.warc.gz", 1, ["redirect"]),  # whole-file gzip, with a 302
        ("warcio-example-digest.warc", 0, []),  # request records only (digests are not checked)
        ("warcio-example-iana.org-chunked.warc", 1, []),  # chunked transfer encoding
        ("warcio-example-resource.warc.gz", 1, []),  # a resource record holding HTML
        ("warcio-example-trunc.warc", 1, []),  # wrong Content-Length: warcio re-syncs
        ("warcio-example-wrong-chunks.warc.gz", 0, ["truncated_record"]),  # one broken record, counted once
        ("warcio-example.warc", 1, []),  # revisit record skipped as record_type
    ],
)
def test_malformed_samples(shared_data: Path, name: str, n_records: int, reasons: list[str]) -> None:
    out = read(shared_data / "web/warc_malformed" / name)
    assert len(records(out)) == n_records
    assert [r for _, r in skips(out)] == reasons
    for r in records(out):
        assert "illustrative examples" in r.text or "DNS Root Zone" in r.text
    assert len({r.locator for r in out}) == len(out)


def test_whole_file_gzip_offsets_are_marked(shared_data: Path) -> None:
    (rec,) = records(read(shared_data / "web/warc_malformed/warcio-example-bad-non-chunked.warc.gz"))
    assert rec.metadata["warc_offset_uncompressed"] is True and rec.locator == "record=2"


def test_html_file_is_not_a_warc(shared_data: Path, tmp_path: Path) -> None:
    html_gz = next((shared_data / "web/extraction_trafilatura/eval").glob("*.html.gz"))
    assert skips(read(html_gz)) == [("record=0", "not_a_warc")]
    (tmp_path / "empty.warc").write_bytes(b"")
    assert skips(read(tmp_path / "empty.warc")) == [("record=0", "not_a_warc")]
    (tmp_path / "junk.warc.gz").write_bytes(b"\x1f\x8b\x08" + bytes(range(256)) * 4)
    assert [r for _, r in skips(read(tmp_path / "junk.warc.gz"))] == ["not_a_warc"]


@pytest.mark.parametrize(("cut", "n_records"), [(70000, 7), (500, 0)])
def test_truncated_gzip_keeps_records_before_the_cut(
    shared_data: Path, tmp_path: Path, cut: int, n_records: int
) -> None:
    data = (shared_data / "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz").read_bytes()
    p = tmp_path / "cut.warc.gz"
    p.write_bytes(data[:cut])
    out = read(p)
    assert len(records(out)) == n_records
    assert skips(out)[-1][1] == "truncated_input"


# ------------------------------------------------------------------------------------- generated WARCs


def test_status_content_type_and_size_reasons(tmp_path: Path) -> None:
    p = make_warc(
        tmp_path / "mix.warc.gz",
        [
            {"url": "http://a.test/", "body": page("Alpha")},
            {
                "url": "http://a.test/r",
                "body": b"",
                "status": 301,
                "headers": [("Location", "http://a.test/")],
            },
            {"url": "http://a.test/404", "body": page("Gone"), "status": 404},
            {"url": "http://a.test/img", "body": b"\x89PNG....", "ctype": "image/png"},
            {"url": "http://a.test/big", "body": page("Big", "word " * 5000)},
            {"url": "http://a.test/empty", "body": b"<html><body><script>var x=1;</script></body></html>"},
            {"url": "http://a.test/octet", "body": page("Sniffed"), "ctype": "application/octet-stream"},
            {"url": "http://a.test/blank", "body": b" \r\n\t "},
        ],
    )
    out = read(p, max_html_bytes=20_000)
    assert [r.url for r in records(out)] == ["http://a.test/", "http://a.test/octet"]
    assert skips(out) == [
        ("record=1", "redirect"),
        ("record=2", "http_status"),
        ("record=3", "non_html"),
        ("record=4", "html_too_large"),
        ("record=5", "empty_extraction"),
        ("record=7", "empty_page"),  # nothing to extract from: the extractor is not called
    ]
    redirect = next(s for s in out if isinstance(s, Skip) and s.reason == "redirect")
    assert "301" in redirect.detail and "http://a.test/" in redirect.detail


@pytest.mark.parametrize("gz", [True, False])
def test_malformed_header_mid_file_resyncs(tmp_path: Path, gz: bool) -> None:
    items = [{"url": f"http://b.test/{i}", "body": page(f"Title {i}", f"Body {i}.")} for i in range(3)]
    p = make_warc(tmp_path / ("x.warc.gz" if gz else "x.warc"), items, gz=gz)
    # corrupt the second record's WARC header: its version line is replaced by garbage
    raw = gzip.decompress(p.read_bytes()) if gz else p.read_bytes()
    starts = [i for i in range(len(raw)) if raw.startswith(b"WARC/1.", i)]
    second = starts[1]
    bad = raw[:second] + b"GARBAGE!" + raw[second + 8 :]
    if gz:  # re-compress one gzip member per record, as Common Crawl does
        bounds = [*starts, len(raw)]
        bad = b"".join(gzip.compress(bad[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    p.write_bytes(bad)
    out = read(p)
    assert [r.url for r in records(out)] == ["http://b.test/0", "http://b.test/2"]
    assert [r for _, r in skips(out)] == ["malformed_record"]
    assert len({r.locator for r in out}) == len(out)


def test_charsets_header_meta_bom_and_invalid_utf8() -> None:
    latin = "<html><head><meta charset='iso-8859-1'></head><body><p>café crème</p></body></html>"
    assert decode_html(latin.encode("cp1252")) == (latin, "cp1252")
    gb = "<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'></head>中文</html>"
    assert decode_html(gb.encode("gb18030"))[1] == "gb18030"
    # the HTTP header wins over the meta tag, as in browsers
    assert decode_html(latin.encode("utf-8"), "utf-8") == (latin, "utf-8")
    assert decode_html(b"\xef\xbb\xbf<p>hi</p>") == ("<p>hi</p>", "utf-8-sig")
    # declared UTF-8 but actually Latin-1: invalid UTF-8 falls back to detection instead of failing
    text, enc = decode_html(
        "<p>Fête de la musique à Besançon, déjà très célèbre</p>".encode("latin-1"), "utf-8"
    )
    assert "Besançon" in text and enc != "utf-8"
    assert decode_html(b"<p>ok</p>", "no-such-charset") == ("<p>ok</p>", "utf-8")


def test_extraction_timeout_skips_one_page_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = make_warc(
        tmp_path / "slow.warc.gz",
        [
            {"url": f"http://c.test/{i}", "body": page(f"Page {i}", "SLOW" if i == 1 else "fast")}
            for i in range(3)
        ],
    )
    real_call = pagetext.Extractor.__call__

    def slow(self: pagetext.Extractor, html: str) -> str:
        if "SLOW" in html:
            end = time.monotonic() + 30
            while time.monotonic() < end:  # a pathological page: pure-Python busy loop
                pass
        return real_call(self, html)

    monkeypatch.setattr(pagetext.Extractor, "__call__", slow)
    t0 = time.monotonic()
    out = read(p, timeout_s=0.3)
    assert time.monotonic() - t0 < 10
    assert [r.url for r in records(out)] == ["http://c.test/0", "http://c.test/2"]
    assert skips(out) == [("record=1", "extraction_timeout")]


def test_time_limit_outside_the_main_thread() -> None:
    result: dict[str, object] = {}

    def worker() -> None:
        try:
            run_with_time_limit(lambda: time.sleep(5), 0.2)
        except pagetext.ExtractionTimeout as e:
            result["timeout"] = str(e)
        result["value"] = run_with_time_limit(lambda: 42, 1.0)

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert "longer than 0.2 s" in str(result["timeout"]) and result["value"] == 42


def test_time_limit_restores_an_outer_alarm() -> None:
    import signal

    fired: list[int] = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        assert run_with_time_limit(lambda: "ok", 2.0) == "ok"
        remaining = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 0 < remaining <= 0.5
        time.sleep(0.7)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_extractor_exception_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = make_warc(tmp_path / "e.warc", [{"url": "http://d.test/", "body": page("Boom")}], gz=False)

    def boom(self: pagetext.Extractor, html: str) -> str:
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(pagetext.Extractor, "__call__", boom)
    out = read(p)
    assert skips(out) == [("record=0", "extraction_error")] and "parser exploded" in out[0].detail


def test_output_depends_only_on_the_file(shared_data: Path) -> None:
    """trafilatura's dedup cache is per file: reading another file first changes nothing."""
    a = shared_data / "web/warc_other/dolma_wget_sample-0000.warc.gz"
    b = shared_data / "web/commoncrawl_warc/jwarc_cc_single_record.warc.gz"
    conn = WarcConnector()
    first = [(r.locator, r.text) for r in records(list(conn.read(a, "a")))]
    list(conn.read(b, "b"))
    again = [(r.locator, r.text) for r in records(list(conn.read(a, "a")))]
    assert first == again


def test_reading_is_lazy(shared_data: Path) -> None:
    it = WarcConnector().read(shared_data / "web/warc_other/dolma_wget_sample-0000.warc.gz", "x")
    assert isinstance(next(it), Skip)  # warcinfo, before any page has been extracted


# ------------------------------------------------------------------------------------------------- HTML


def test_html_folder_one_record_per_file(tmp_path: Path) -> None:
    (tmp_path / "site/sub").mkdir(parents=True)
    (tmp_path / "site/b.html").write_bytes(page("Bravo"))
    (tmp_path / "site/sub/a.html.gz").write_bytes(gzip.compress(page("Alfa", "Größe", "cp1252")))
    (tmp_path / "site/c.htm").write_bytes(b"<html><body></body></html>")
    (tmp_path / "site/notes.txt").write_bytes(b"not html")
    out = list(HtmlConnector().read(tmp_path / "site", "site"))
    assert [(type(r).__name__, r.locator) for r in out] == [
        ("Record", "file=b.html"),
        ("Skip", "file=c.htm"),
        ("Record", "file=sub/a.html.gz"),
    ]
    assert out[1].reason == "empty_extraction"
    assert "Größe" in out[2].text and out[2].metadata["charset"] == "cp1252"  # no declared charset: detected
    single = list(HtmlConnector(WebOptions(extractor="resiliparse")).read(tmp_path / "site/b.html", "b"))
    assert single[0].locator == "file=b.html" and "Plain words." in single[0].text


def test_html_real_article_matches_ground_truth(shared_data: Path) -> None:
    import json

    gt = json.loads((shared_data / "web/extraction_scrapinghub/ground-truth.json").read_text())
    key = sorted(gt)[0]
    (rec,) = HtmlConnector().read(shared_data / f"web/extraction_scrapinghub/html/{key}.html.gz", key)
    truth = set(gt[key]["articleBody"].split())
    got = set(rec.text.split())
    assert len(truth & got) / len(truth) > 0.8 and len(truth & got) / len(got) > 0.8


# ------------------------------------------------------------------------------------- registry, config


def test_registry_options_and_example_config() -> None:
    assert get_connector_class("warc") is WarcConnector and get_connector_class("html") is HtmlConnector
    with pytest.raises(ValidationError):
        WarcOptions.model_validate({"extractor": "readability"})
    with pytest.raises(ValidationError):
        WarcOptions.model_validate({"trafilatura": {"favour_precision": True}})  # typo caught
    cfg = load_source_config(Path(__file__).resolve().parents[2] / "sources/web.yaml")
    assert cfg.kind == "warc" and all(i.startswith("https://data.commoncrawl.org/") for i in cfg.inputs)
    assert cfg.connector_options().extractor == "trafilatura"
