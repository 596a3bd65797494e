"""A decoded page -> the lxml tree trafilatura would build from it, with lxml's C-level element classes.

``trafilatura.extract`` parses a string with ``lxml.html``'s parser, whose element-class lookup is a Python
method (``HtmlElementClassLookup.lookup``) called each time lxml hands an element to Python: over a
million calls on the benchmark's 441 pages. The classes it returns differ from ``HtmlElement`` only by
form helpers (``FormElement.fields``, ``InputElement.value``, ...) that trafilatura never uses, and
trafilatura's parser drops comments and processing instructions, so a parser with the same options and
lxml's C default lookup (every element an ``HtmlElement``) gives the same extraction. trafilatura copies a
tree it is given, and its own later copies keep the tree's parser, so the whole extraction runs on the
fast classes. :func:`load_tree` repeats ``trafilatura.utils.load_html`` step for step on that parser (its
repair step skips a regex pass where the page has nothing to repair), and :func:`extraction_options`
builds trafilatura's options object once per file instead of once per page. :func:`owned` spares the
defensive copy trafilatura makes of a tree it is handed (a full-tree copy and its free, ~2.5% of
extraction; the string path parses a fresh tree and copies nothing either). The benchmark and
tests/ingest/test_pagetree.py check the output equals ``trafilatura.extract`` on the string with the same
keyword arguments, page by page.
"""

from __future__ import annotations

import sys
from typing import Any

import lxml.etree
import lxml.html
from trafilatura.settings import Extractor as TrafilaturaOptions
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, INVALID_XML_CHARS, is_dubious_html

# trafilatura.utils.HTML_PARSER's options, with the C default lookup instead of HtmlElementClassLookup
_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction
    )
)


def extraction_options(settings: dict[str, Any]) -> TrafilaturaOptions:
    """The options object ``trafilatura.extract(html, **settings)`` builds on every call, built once:
    ``extract(tree, options=...)`` then skips that work (its other arguments keep their defaults)."""
    return TrafilaturaOptions(
        precision=settings["favor_precision"],
        comments=settings["include_comments"],
        tables=settings["include_tables"],
        dedup=settings["deduplicate"],
    )


# the characters INVALID_XML_CHARS removes: a scan for each (memchr) is 4x cheaper than the regex over a
# page that has none of them, as real pages do
_INVALID = [chr(c) for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]]
assert all(INVALID_XML_CHARS.fullmatch(c) for c in _INVALID), "trafilatura changed INVALID_XML_CHARS"


def repair_faulty_html(html: str, beginning: str) -> str:
    """``trafilatura.utils.repair_faulty_html`` with the same patterns, skipping the control-character
    regex when the page has none."""
    if any(c in html for c in _INVALID):
        html = INVALID_XML_CHARS.sub("", html)
    if "doctype" in beginning:  # libxml2/lxml issue: https://bugs.launchpad.net/lxml/+bug/1955915
        firstline, _, rest = html.partition("\n")
        html = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:  # a self-closing <html/> in the first lines
        if "<html" in line and line.endswith("/>"):
            html = FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    return html


class _Owned(lxml.html.HtmlElement):
    """A root element nobody else holds: trafilatura's copy of its input (``bare_extraction``: ``if tree is
    filecontent: tree = copy(tree)``, guarding the caller's tree) returns the tree itself, once, as if
    trafilatura had parsed it; any other copy is a real one. Same layout as HtmlElement (no state)."""

    def __copy__(self) -> lxml.html.HtmlElement:
        self.__class__ = lxml.html.HtmlElement  # one-shot: every later copy is real
        caller = sys._getframe(2)  # copy.copy called from
        if caller.f_code.co_name == "bare_extraction" and caller.f_locals.get("filecontent") is self:
            return self
        return self.__copy__()


def owned(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """``tree``, marked as the caller's to give away: hand it to ``trafilatura.extract`` once, then drop it
    (trafilatura works on it as on a tree it parsed itself, not on a copy of it)."""
    tree.__class__ = _Owned
    return tree


def _from_bytes(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fromstring(html.encode("utf8", "surrogatepass"), parser=_PARSER)
    except Exception:  # noqa: BLE001 - as trafilatura: an unparsable page has no tree
        return None


def load_tree(html: str) -> lxml.html.HtmlElement | None:
    """The tree ``trafilatura.utils.load_html(html)`` returns (None where it rejects the page)."""
    beginning = html[:50].lower()
    dubious = is_dubious_html(beginning)
    html = repair_faulty_html(html, beginning)
    tree, fallback = None, False
    try:
        tree = lxml.html.fromstring(html, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported."
        tree, fallback = _from_bytes(html), True
    except Exception:  # noqa: BLE001, S110 - as trafilatura: a parser error leaves no tree
        pass
    if (tree is None or len(tree) < 1) and not fallback:
        tree = _from_bytes(html)
    if tree is not None and dubious and len(tree) < 2:
        return None
    return tree
