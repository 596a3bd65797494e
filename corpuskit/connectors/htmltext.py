"""HTML fragments (forum posts, e-book chapters) to plain text, keeping structure and code.

Not main-content extraction (that is :mod:`corpuskit.connectors.pagetext`): these fragments are *all*
content, so every text node is kept. What matters for pretraining text is that structure survives:
paragraphs become blank-line separated blocks, list items get ``- `` / ``1. `` markers, block quotes
get ``> ``, and ``<pre>`` blocks are kept verbatim inside Markdown code fences (with the language
when the class names one, e.g. Stack Exchange's ``lang-py``); inline ``<code>`` gets backticks.

lxml's HTML parser (libxml2) is used because it is fast and lenient, never fetches anything and does
not expand entities declared in a document's DTD.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

_WS = re.compile(r"[ \t\r\n\f\v]+")
# huge_tree: libxml2 otherwise truncates a text node over ~10 MB *silently* (a whole chapter in one <p>);
# the connectors bound the input size themselves.
_PARSER = lxml.html.HTMLParser(huge_tree=True)
_SKIP = {"script", "style", "noscript", "template", "head", "title", "svg", "math", "object", "iframe"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "figure",
    "figcaption", "address", "dl", "dt", "dd", "center", "body", "html", "caption", "details",
    "summary", "form", "fieldset",
}  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LANG = re.compile(r"\b(?:lang|language)-([A-Za-z0-9_+#.-]+)")


class _Out:
    """Text with pending block breaks: ``brk(n)`` asks for at least n newlines before the next text."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0
        self.at_line_start = True

    def text(self, s: str) -> None:
        s = _WS.sub(" ", s)
        if self.at_line_start or self.pending:
            s = s.lstrip(" ")
        if not s:
            return
        self._flush()
        self.parts.append(s)
        self.at_line_start = False

    def raw(self, s: str) -> None:
        if not s:
            return
        self._flush()
        self.parts.append(s)
        self.at_line_start = s.endswith("\n")

    def brk(self, n: int) -> None:
        if self.parts:
            self.pending = max(self.pending, n)

    def _flush(self) -> None:
        if self.pending and self.parts:
            if self.parts[-1].endswith(" "):
                self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append("\n" * self.pending)
            self.at_line_start = True
        self.pending = 0

    def result(self) -> str:
        return "".join(self.parts).strip("\n").rstrip()


def _code_block(el: lxml.html.HtmlElement) -> str:
    lang = ""
    for node in (el, *el.iterdescendants("code")):
        m = _LANG.search(node.get("class") or "")
        if m:
            lang = m.group(1)
            break
    code = el.text_content().strip("\n")
    fence = "````" if "```" in code else "```"
    return f"{fence}{lang}\n{code}\n{fence}"


def _prefix_lines(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join([first + lines[0]] + [(rest + ln) if ln else rest.rstrip() for ln in lines[1:]])


def _walk(el: lxml.html.HtmlElement, out: _Out, in_pre: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else None
    if tag is None:  # comment or processing instruction: only its tail is text
        if el.tail:
            out.text(el.tail)
        return
    tag = tag.lower().rsplit("}", 1)[-1]  # XHTML parsed as HTML may keep a namespace
    if tag in _SKIP:
        pass
    elif tag == "pre":
        out.brk(2)
        out.raw(_code_block(el))
        out.brk(2)
    elif tag == "br":
        out.raw("\n")
    elif tag == "hr":
        out.brk(2)
    elif tag in ("ul", "ol"):
        out.brk(2 if not _in_list(el) else 1)
        n = _int(el.get("start"), 1)
        for child in el:
            if isinstance(child.tag, str) and child.tag.lower() == "li":
                marker = f"{n}. " if tag == "ol" else "- "
                n += 1
                body = _render(child)
                if body:
                    out.brk(1)
                    out.raw(_prefix_lines(body, marker, " " * len(marker)))
                    out.brk(1)
            else:
                _walk(child, out)
        out.brk(2 if not _in_list(el) else 1)
    elif tag == "blockquote":
        body = _render(el)
        if body:
            out.brk(2)
            out.raw(_prefix_lines(body, "> ", "> "))
            out.brk(2)
    elif tag in _HEADINGS:
        body = _render(el).replace("\n", " ")
        if body:
            out.brk(2)
            out.raw("#" * _HEADINGS[tag] + " " + body)
            out.brk(2)
    elif tag == "table":
        out.brk(2)
        for row in el.iter("tr"):
            cells = [_render(c).replace("\n", " ") for c in row if isinstance(c.tag, str)]
            if any(cells):
                out.raw(" | ".join(cells))
                out.brk(1)
        out.brk(2)
    elif tag == "code":
        code = el.text_content()
        if code.strip():
            out.text("`" + code.strip() + "`")
    elif tag == "img":
        pass
    else:
        block = tag in _BLOCK or tag == "li"
        if block:
            out.brk(2)
        if el.text:
            out.text(el.text)
        for child in el:
            _walk(child, out)
        if block:
            out.brk(2)
    if el.tail:
        out.text(el.tail)


def _in_list(el: lxml.html.HtmlElement) -> bool:
    parent = el.getparent()
    return parent is not None and isinstance(parent.tag, str) and parent.tag.lower() == "li"


def _int(s: str | None, default: int) -> int:
    try:
        return int(s) if s is not None else default
    except ValueError:
        return default


def _render(el: lxml.html.HtmlElement) -> str:
    """Text of an element's content (not its tail)."""
    out = _Out()
    if el.text:
        out.text(el.text)
    for child in el:
        _walk(child, out)
    return out.result()


def html_to_text(html: str | bytes) -> str:
    """Plain text of an HTML fragment or document (``<body>`` only for a full document)."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.fromstring(html, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        # e.g. a str with an XML encoding declaration: parse the bytes instead
        try:
            root = lxml.html.fromstring(
                html.encode("utf-8") if isinstance(html, str) else html, parser=_PARSER
            )
        except (lxml.etree.ParserError, ValueError):
            return ""
    body = root.find(".//body") if root.tag == "html" else None
    el = body if body is not None else root
    # fromstring wraps multiple top-level fragments in a <div> or <span>: render its content only
    return _render(el) if el.tag in ("div", "span", "body", "html") else _render_whole(el)


def _render_whole(el: lxml.html.HtmlElement) -> str:
    out = _Out()
    tail, el.tail = el.tail, None
    _walk(el, out)
    el.tail = tail
    return out.result()
