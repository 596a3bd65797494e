"""Book connectors: Project Gutenberg texts from ../shared/data, and EPUB 2/3 files built here with zipfile.

Expected titles, authors, markers and passages were checked by hand in the raw files.
"""

from __future__ import annotations

import gzip
import io
import time
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from corpuskit.connectors.base import Record, Skip, get_connector_class


def run(kind: str, path: Path, **options) -> tuple[list[Record], Counter, list[Skip]]:
    cls = get_connector_class(kind)
    items = list(cls(cls.Options(**options)).read(path, str(path)))
    records = [i for i in items if isinstance(i, Record)]
    skips = [i for i in items if isinstance(i, Skip)]
    return records, Counter(s.reason for s in skips), skips


def book(shared_data: Path, name: str, **options) -> Record:
    records, reasons, _ = run("gutenberg", shared_data / "books" / name, **options)
    assert len(records) == 1 and not reasons
    return records[0]


# ------------------------------------------------------------------------------------------ Gutenberg

BOOKS = {  # file: (title, author, language code, ebook id, first words of the body)
    "en_austen_pride_and_prejudice_pg1342.txt": (
        "Pride and Prejudice", "Jane Austen", "en", 1342, "PRIDE AND PREJUDICE"),
    "en_melville_moby_dick_pg2701.txt": (
        "Moby Dick; or The Whale", "Herman Melville", "en", 2701, "MOBY-DICK;"),
    "en_carroll_alice_pg11.txt": (
        "Alice's Adventures in Wonderland", "Lewis Carroll", "en", 11, "[Illustration]"),
    "de_goethe_faust1_pg2229.txt": (
        "Faust: Der Tragödie erster Teil", "Johann Wolfgang von Goethe", "de", 2229, "Faust:"),
    "nl_gabriel_ontboezemingen_pg24675.txt": (
        "Ontboezemingen", "Gabriël (AKA  Carel van Nievelt)", "nl", 24675, "ELK DEEL"),
    "fi_lonnrot_kalevala_pg7000.txt": (
        "The Kalevala", "Elias Lönnrot", "fi", 7000, "Kalevala\n[1849 edition]"),
    "fr_dumas_monte_cristo_t1_pg17989.txt": (
        "Le comte de Monte-Cristo, Tome I", "Alexandre Dumas, Auguste Maquet", "fr", 17989, "LE COMTE DE"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_gutenberg_metadata_and_stripped_boilerplate(shared_data, name):
    title, author, lang, ebook, first = BOOKS[name]
    r = book(shared_data, name)
    m = r.metadata
    assert (m["title"], m["author"], m["language_code"], m["ebook_id"]) == (title, author, lang, ebook)
    assert r.url == f"https://www.gutenberg.org/ebooks/{ebook}"
    assert m["header_found"] and m["footer_found"]
    assert r.text.startswith(first)
    for marker in ("START OF TH", "END OF TH", "End of the Project Gutenberg", "End of Project Gutenberg",
                   "FULL LICENSE", "Produced by", "Title: "):  # fmt: skip
        assert marker not in r.text, marker
    assert "\r" not in r.text and "\ufeff" not in r.text


def test_gutenberg_release_dates_and_encodings(shared_data):
    pride = book(shared_data, "en_austen_pride_and_prejudice_pg1342.txt").metadata
    assert pride["release_date"] == "June, 1998" and pride["encoding"] == "utf-8-sig"  # BOM + CRLF file
    nl = book(shared_data, "nl_gabriel_ontboezemingen_pg24675.txt")
    assert nl.metadata["encoding"] == "iso-8859-1" and "GABRIËL." in nl.text  # declared ISO-8859-1, not UTF-8


def test_gutenberg_hard_wraps_joined_verse_kept(shared_data):
    pride = book(shared_data, "en_austen_pride_and_prejudice_pg1342.txt").text
    assert ("\nIt is a truth universally acknowledged, that a single man in possession of a good fortune, "
            "must be in want of a wife.\n") in pride  # fmt: skip
    assert "Chapter 1\n\nIt is a truth" in pride  # paragraphs kept
    faust = book(shared_data, "de_goethe_faust1_pg2229.txt").text
    assert "Ich bin dein Geselle,\nUnd mach ich dir’s recht," in faust  # verse keeps its line breaks
    raw = book(shared_data, "en_austen_pride_and_prejudice_pg1342.txt", join_hard_wraps=False).text
    assert "in possession\nof a good fortune" in raw


def test_gutenberg_zh_book_without_header(shared_data):
    zh = book(shared_data, "zh_wu_chengen_journey_to_the_west_pg23962.txt")
    assert not zh.metadata["header_found"] and zh.metadata["footer_found"]  # counted via metadata
    assert zh.metadata["title"] is None and zh.url is None
    assert zh.text.startswith("第一回")  # nothing over-stripped at the top
    assert zh.text.endswith("《西遊記》至此終。") and "Project Gutenberg" not in zh.text
    assert "乃子、丑、寅、卯、辰" in zh.text  # CJK hard wrap joined without a space ("寅\n、卯" in the file)
    records, reasons, _ = run("gutenberg", zh_path(shared_data), require_header=True)
    assert records == [] and reasons == {"no_gutenberg_header": 1}


def zh_path(shared_data: Path) -> Path:
    return shared_data / "books/zh_wu_chengen_journey_to_the_west_pg23962.txt"


OLD_STYLE = """The Project Gutenberg Etext of The Old Book, by Some One

Title: The Old Book
Author: Some One

**The Project Gutenberg Etext** small print follows
*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*

This etext was prepared by a volunteer.

Chapter I

The body of the book.

End of this Project Gutenberg Etext of The Old Book
"""


def test_gutenberg_old_markers_and_compressed_inputs(tmp_path):
    path = tmp_path / "old.txt.gz"
    path.write_bytes(gzip.compress(OLD_STYLE.encode("cp1252")))
    (r,), reasons, _ = run("gutenberg", path)
    assert r.text == "Chapter I\n\nThe body of the book." and r.metadata["title"] == "The Old Book"
    z = tmp_path / "old.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("old/old.txt", OLD_STYLE)
    assert run("gutenberg", z)[0][0].text == r.text


def test_gutenberg_malformed_inputs_are_counted(tmp_path):
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    cut = tmp_path / "cut.txt.gz"
    cut.write_bytes(gzip.compress(OLD_STYLE.encode() * 50)[:200])
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../evil.txt", OLD_STYLE)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(OLD_STYLE.replace("body", "b\xf6dy").encode("latin-1"))  # undeclared, not UTF-8
    assert run("gutenberg", binary)[1] == {"not_text": 1}
    assert run("gutenberg", cut)[1] == {"unreadable_book": 1}
    assert run("gutenberg", evil)[1] == {"zip_unsafe_path": 1}
    (r,), _, _ = run("gutenberg", latin)
    assert "The bödy of the book." in r.text and r.metadata["encoding"] == "cp1252"


# ------------------------------------------------------------------------------------------ EPUB

CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""


def opf(version: str, spine: str, extra_items: str = "", meta_extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="{version}" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
    <dc:title>Alice's Adventures in Wonderland</dc:title>
    <dc:creator opf:role="aut">Lewis Carroll</dc:creator>
    <dc:creator>John Tenniel</dc:creator>
    <dc:language>en</dc:language>
    <dc:identifier id="id">http://www.gutenberg.org/11</dc:identifier>
    <dc:date>2008-06-27</dc:date>{meta_extra}
  </metadata>
  <manifest>
    <item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="text/ch%201.xhtml" media-type="application/xhtml+xml"/>
    <item id="notes" href="text/notes.xhtml" media-type="application/xhtml+xml"/>
    <item id="cover" href="images/cover.jpg" media-type="image/jpeg"/>{extra_items}
  </manifest>
  <spine toc="ncx">{spine}</spine>
</package>"""


def xhtml(title: str, body: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN"
  "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body><h2>{title}</h2>{body}</body></html>"""


SPINE = '<itemref idref="c1"/><itemref idref="c2"/><itemref idref="notes" linear="no"/>'


def make_epub(
    path: Path,
    version: str = "2.0",
    spine: str = SPINE,
    members: dict[str, bytes | str] | None = None,
    opf_text: str | None = None,
) -> Path:
    ch1 = xhtml("CHAPTER I. Down the Rabbit-Hole",
                "<p>Alice was beginning to get very tired of sitting by her sister on the bank,</p>"
                "<p>and of having nothing&#160;to do.</p>")  # fmt: skip
    ch2 = xhtml("CHAPTER II. The Pool of Tears", "<p>“Curiouser and curiouser!” cried Alice.</p>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("OEBPS/content.opf", opf_text or opf(version, spine))
        z.writestr("OEBPS/text/ch 1.xhtml", ch1, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/text/ch2.xhtml", ch2, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/text/notes.xhtml", xhtml("Notes", "<p>A footnote.</p>"))
        z.writestr("OEBPS/images/cover.jpg", b"\xff\xd8\xff")
        for name, data in (members or {}).items():
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_epub_spine_order_text_and_metadata(tmp_path, version):
    path = make_epub(tmp_path / "alice.epub", version)
    (r,), reasons, _ = run("epub", path)
    assert not reasons
    assert r.text == (
        "## CHAPTER I. Down the Rabbit-Hole\n\n"
        "Alice was beginning to get very tired of sitting by her sister on the bank,\n\n"
        "and of having nothing\u00a0to do.\n\n"
        "## CHAPTER II. The Pool of Tears\n\n“Curiouser and curiouser!” cried Alice."
    )  # spine order (ch1 before ch2, though the manifest lists ch2 first); the non-linear notes left out
    m = r.metadata
    assert (m["title"], m["author"], m["language"], m["epub_version"]) == (
        "Alice's Adventures in Wonderland", "Lewis Carroll, John Tenniel", "en", version)  # fmt: skip
    assert m["authors"] == ["Lewis Carroll", "John Tenniel"] and m["chapters"] == 2
    assert r.created is not None and r.created.year == 2008 and r.created.tzinfo is not None
    (r2,), _, _ = run("epub", path, include_nonlinear=True)
    assert r2.text.endswith("## Notes\n\nA footnote.")


def test_epub_path_traversal_refused(tmp_path):
    spine = SPINE + '<itemref idref="evil"/>'
    text = opf(
        "3.0",
        spine,
        extra_items='<item id="evil" href="../../../etc/passwd" media-type="application/xhtml+xml"/>',
    )
    path = make_epub(tmp_path / "evil.epub", opf_text=text, members={"../../evil.xhtml": "<p>pwned</p>"})
    (r,), reasons, skips = run("epub", path)
    assert reasons == {"zip_unsafe_path": 2}  # the ../ member (never read) and the spine item pointing out
    assert {s.locator for s in skips} == {"member=../../evil.xhtml", "spine=3"}
    assert "pwned" not in r.text and r.text.startswith("## CHAPTER I.")


def test_epub_zip_bomb_and_size_limits(tmp_path):
    zeros = b"\0" * (4 << 20)  # compresses ~1000x
    spine = SPINE + '<itemref idref="big"/>'
    text = opf(
        "2.0", spine, extra_items='<item id="big" href="text/big.xhtml" media-type="application/xhtml+xml"/>'
    )
    path = make_epub(tmp_path / "bomb.epub", opf_text=text, members={"OEBPS/text/big.xhtml": zeros})
    (r,), reasons, _ = run("epub", path)
    assert reasons == {"zip_bomb": 1} and r.metadata["chapters"] == 2  # the rest of the book is kept
    (r,), reasons, _ = run("epub", path, max_member_bytes=1 << 20)
    assert reasons == {"zip_too_large": 1}
    records, reasons, _ = run("epub", path, max_total_bytes=1 << 20)
    assert records == [] and reasons == {"zip_too_large": 1}  # the whole archive declares too much


def test_epub_entity_bombs(tmp_path):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb_opf = f'<?xml version="1.0"?><!DOCTYPE package [<!ENTITY l0 "lol">{lol}]><package>&l9;</package>'
    t0 = time.perf_counter()
    records, reasons, _ = run("epub", make_epub(tmp_path / "a.epub", opf_text=bomb_opf))
    assert time.perf_counter() - t0 < 2
    assert records == [] and reasons == {"xml_entity_declaration": 1}
    ext = '<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd">]><html><body><p>&x;</p></body></html>'
    spine = SPINE + '<itemref idref="x"/>'
    text = opf(
        "2.0", spine, extra_items='<item id="x" href="text/x.xhtml" media-type="application/xhtml+xml"/>'
    )
    (r,), reasons, _ = run(
        "epub", make_epub(tmp_path / "b.epub", opf_text=text, members={"OEBPS/text/x.xhtml": ext})
    )
    assert reasons == {"xml_entity_declaration": 1} and "root:" not in r.text and r.metadata["chapters"] == 2


def test_epub_malformed_archives(tmp_path):
    good = make_epub(tmp_path / "good.epub")
    cut = tmp_path / "cut.epub"
    cut.write_bytes(good.read_bytes()[:300])
    assert run("epub", cut)[1] == {"bad_archive": 1}
    notzip = tmp_path / "x.epub"
    notzip.write_text("not a zip at all")
    assert run("epub", notzip)[1] == {"bad_archive": 1}
    bad_opf = make_epub(tmp_path / "bad.epub", opf_text="<package><metadata></package>")
    assert run("epub", bad_opf)[1] == {"invalid_xml": 1}
    # no container.xml: the first .opf is used
    buf = io.BytesIO(good.read_bytes())
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp_path / "nocontainer.epub", "w") as dst:
        for info in src.infolist():
            if info.filename != "META-INF/container.xml":
                dst.writestr(info, src.read(info))
    (r,), reasons, _ = run("epub", tmp_path / "nocontainer.epub")
    assert not reasons and r.metadata["title"] == "Alice's Adventures in Wonderland"


@pytest.mark.parametrize("name, kind", [("books", "gutenberg"), ("epub", "epub")])
def test_example_configs_are_valid(name, kind):
    from corpuskit.config import load_source_config

    cfg = load_source_config(Path(__file__).resolve().parents[2] / "sources" / f"{name}.yaml")
    assert cfg.kind == kind
    cfg.connector_options()
