"""A pre-parsed tree gives trafilatura's own output: real pages, odd inputs load_html special-cases."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import lxml.html
import pytest
from trafilatura import extract
from trafilatura.deduplication import LRUCache

from corpuskit.connectors.pagetext import Extractor, WebOptions, decode_html
from corpuskit.connectors.pagetree import load_tree

ODD = [
    "",
    "   ",
    "plain text, no markup at all",
    "<p>one fragment</p>",
    "<div><p>two</p><p>blocks " + "of words " * 60 + "</p></div>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><article><p>'
    + "An XML declaration makes lxml refuse the str. " * 20
    + "</p></article></body></html>",
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">\n<html><body><p>'
    + "Doctype first line. " * 30
    + "</p></body></html>",
    '<html lang="en"/>\n<body><p>' + "Self-closing html tag. " * 30 + "</p></body>",
    "<html><body><form><input name=q value='search'><textarea>typed</textarea></form><main><p>"
    + "Form elements are HtmlElement here. " * 20
    + "</p></main><!-- a comment --><?pi x?></body></html>",
    "<html><body>\x00\x01 control\x0b chars <p>" + "text " * 80 + "</p></body></html>",
    "<html><body><article><p>"
    + "Intro words. " * 30
    + "</p><table><tr><td>"
    + "</td><td>".join(f"cell {i} has some words" for i in range(40))
    + "</td></tr></table></article></body></html>",
]


def _same_as_trafilatura(pages: list[str], **settings: object) -> int:
    """Pages the connector's extractor (tree + options object) extracts as trafilatura.extract does on the
    string with the same keyword arguments (one dedup cache each, in order, as in one file)."""
    ours = Extractor(WebOptions(trafilatura=settings))
    ours.new_file()
    kwargs = ours.settings()
    kwargs["deduplicate"] = LRUCache(maxsize=1024) if kwargs["deduplicate"] else False
    return sum(ours(html) == (extract(html, **kwargs) or "") for html in pages)


@pytest.mark.parametrize(
    "settings",
    [{}, {"favor_precision": False, "include_tables": False, "include_comments": True, "deduplicate": False}],
)
def test_odd_inputs_extract_as_trafilatura_does(settings: dict[str, bool]) -> None:
    assert _same_as_trafilatura(ODD, **settings) == len(ODD)
    assert load_tree("") is None and load_tree("plain text, no markup at all") is None


def test_elements_are_plain_html_elements() -> None:
    tree = load_tree(ODD[-2])
    assert tree is not None
    assert {type(e) for e in tree.iter()} == {lxml.html.HtmlElement}  # comments, PIs dropped as trafilatura


def test_an_owned_tree_skips_only_trafilaturas_defensive_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    import copy

    import trafilatura.core

    from corpuskit.connectors.pagetree import owned

    returned_self: list[bool] = []

    def spy(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:  # copy.copy, recording what it gives
        out = tree.__copy__()
        returned_self.append(out is tree)
        return out

    monkeypatch.setattr(trafilatura.core, "copy", spy)
    html = ODD[-1]
    plain = extract(load_tree(html))
    assert returned_self and not any(returned_self)
    returned_self.clear()
    tree = owned(load_tree(html))
    assert extract(tree) == plain
    assert returned_self[0] and not any(returned_self[1:])  # the input, once; every working copy is real
    assert type(tree) is lxml.html.HtmlElement and copy.copy(tree) is not tree
    other = owned(load_tree(html))
    assert copy.copy(other) is not other


def test_real_pages_extract_as_trafilatura_does(shared_data: Path) -> None:
    web = shared_data / "web"
    gt = json.loads((web / "extraction_scrapinghub/ground-truth.json").read_text())
    files = [web / f"extraction_scrapinghub/html/{k}.html.gz" for k in sorted(gt)[::6]]
    files += sorted((web / "extraction_trafilatura/eval").glob("*.gz"))[::9]
    pages = [d[0] for f in files if (d := decode_html(gzip.decompress(f.read_bytes()))) is not None]
    if len(pages) < 40:
        pytest.skip("evaluation pages not found")
    assert _same_as_trafilatura(pages) == len(pages)


def test_repair_is_trafilaturas() -> None:
    from trafilatura.utils import repair_faulty_html as theirs

    from corpuskit.connectors.pagetree import repair_faulty_html as ours

    cases = [*ODD, "<!doctype html/>\n<html/>\n<p>x\x1f\ufffe</p>", "\x00" * 3 + "<html />", "x\uffffy\n"]
    for html in cases:
        beginning = html[:50].lower()
        assert ours(html, beginning) == theirs(html, beginning)
