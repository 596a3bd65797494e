"""HTML building blocks: escaping, sortable tables, figures, and the page shell (CSS and the one small
script inline, so the page opens from disk with no network).

Every string from the data goes through :func:`esc`; only :class:`Raw` (markup this package built, or
matplotlib's SVG) is written as is. The page also carries a Content-Security-Policy that allows no
script but its own (by hash) and no load from anywhere, so even markup that slipped through escaping
could not run or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Raw:
    """Markup that is already safe (built here from escaped parts, or a chart's SVG)."""

    markup: str


def esc(value: Any) -> str:
    return value.markup if isinstance(value, Raw) else html.escape(str(value), quote=True)


def num(v: Any, digits: int = 4, unit: str = "") -> str:
    """A number for a table cell: integers with thousands separators, floats to ``digits`` places."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if isinstance(v, bool):
        return str(v)
    text = f"{v:,}" if isinstance(v, int) else f"{v:,.{digits}f}"
    return f"{text} {unit}".rstrip()


def pct(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{100 * v:.1f} %"


@dataclass(frozen=True)
class Cell:
    """A table cell shown as ``text`` and sorted by ``sort`` (a number) when given."""

    text: Any
    sort: float | None = None


def cell(v: Any, digits: int = 4, unit: str = "") -> Cell:
    """A numeric cell: formatted, sorted by value."""
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    return Cell(num(v, digits, unit), float(v) if ok else None)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    """A sortable table (click a header); cells are values (escaped) or :class:`Cell`/:class:`Raw`."""
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in columns)
    body = []
    for r in rows:
        tds = []
        for v in r:
            c = v if isinstance(v, Cell) else Cell(v)
            attr = "" if c.sort is None else f' data-v="{c.sort!r}" class="n"'
            tds.append(f"<td{attr}>{esc(c.text)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="scroll"><table class="sortable">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def figure(svg: str, caption: str) -> str:
    return f'<figure class="chart">{svg}<figcaption>{esc(caption)}</figcaption></figure>'


def charts(items: Iterable[str]) -> str:
    items = list(items)
    return f'<div class="charts">{"".join(items)}</div>' if items else ""


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{"".join(parts)}</section>'


def sub(title: str, *parts: str) -> str:
    return f"<h3>{esc(title)}</h3>{''.join(parts)}"


CSS = """
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d7d7d7;--bg:#fff;--alt:#f5f7fa;--accent:#0072B2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
header{padding:1rem 1.25rem .5rem}
header h1{margin:0;font-size:1.4rem}
header p{margin:.25rem 0;color:var(--muted)}
nav{position:sticky;top:0;z-index:2;background:#f0f3f7;border-bottom:1px solid var(--line);
display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding:.5rem 1.25rem}
nav a{color:var(--accent);text-decoration:none;font-weight:600}
nav a:hover,nav a:focus{text-decoration:underline}
main{max-width:1240px;margin:0 auto;padding:0 1.25rem 3rem}
section{padding-top:.5rem;border-bottom:1px solid var(--line)}
h2{font-size:1.25rem;margin:1.25rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
.note{color:var(--muted);font-style:italic}
.scroll{overflow-x:auto;max-width:100%;margin:.5rem 0}
table{border-collapse:collapse;font-size:.88rem;min-width:50%}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .6rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{background:var(--alt);cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}
tbody tr:nth-child(even){background:#fafbfc}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));
gap:1rem;margin:.5rem 0}
figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:.5rem;background:#fff}
figure.chart svg{display:block;width:100%;height:auto}
figcaption{color:var(--muted);font-size:.82rem;margin-top:.25rem}
pre.excerpt{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;
font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;
max-height:12rem;overflow-y:auto;background:var(--alt);padding:.4rem;border-radius:4px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,320px),1fr));
gap:.5rem;margin:.5rem 0 1rem}
.pair h4{margin:.2rem 0;font-size:.9rem}
code{overflow-wrap:anywhere}
@media (max-width:600px){body{font-size:14px}main,header,nav{padding-left:.6rem;padding-right:.6rem}}
"""

SCRIPT = """
document.querySelectorAll("table.sortable thead th").forEach(function (th, i) {
  th.tabIndex = 0;
  function sort() {
    var table = th.closest("table"), body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    function key(row) {
      var td = row.cells[th.cellIndex];
      if (!td) return "";
      if (td.hasAttribute("data-v")) return parseFloat(td.getAttribute("data-v"));
      return td.textContent.trim().toLowerCase();
    }
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  th.addEventListener("click", sort);
  th.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
  });
});
"""


def page(title: str, subtitle: str, nav: Sequence[tuple[str, str]], body: str) -> str:
    """The whole document. The CSP allows styles inline, images as data: URIs and only this script."""
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    csp = (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'; "
        "base-uri 'none'; form-action 'none'"
    )
    links = "".join(f'<a href="#{esc(a)}">{esc(label)}</a>' for a, label in nav)
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f'<nav aria-label="sections">{links}</nav><main>{body}</main>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
