"""Regenerate docs/report.png (the README's picture of the report) from a report page.

    corpuskit demo --out /tmp/demo --tokens 30000
    python docs/report_screenshot.py /tmp/demo/report/index.html docs/report.png

Two parts of the page at 1280 px (one source's curation, the ablation) stacked, scaled to 900 px wide and
reduced to a 128-colour palette to stay small (< 200 KB).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.browser import Browser  # noqa: E402

PARTS = [("#curation h3:nth-of-type(3)", 850), ("#ablation h3", 700)]  # (element to start at, height px)
WIDTH = 900


def main(page: Path, out: Path) -> None:
    tops = (
        "["
        + ",".join(f"document.querySelector({sel!r}).getBoundingClientRect().top" for sel, _ in PARTS)
        + "]"
    )
    with Browser() as b:
        session, res = b.open_page(page.resolve().as_uri(), tops, width=1280, height=900)
        full = out.with_suffix(".full.png")
        b.screenshot(session, full, full_page=True)
    image = Image.open(full).convert("RGB")
    full.unlink()
    crops = [
        image.crop((0, int(top) - 8, 1280, int(top) - 8 + h))
        for top, (_, h) in zip(res.probe, PARTS, strict=True)
    ]
    sheet = Image.new("RGB", (1280, sum(c.height for c in crops)), "white")
    y = 0
    for c in crops:
        sheet.paste(c, (0, y))
        y += c.height
    sheet = sheet.resize((WIDTH, round(sheet.height * WIDTH / 1280)), Image.LANCZOS)
    sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"{out}: {sheet.width}×{sheet.height}, {out.stat().st_size / 1000:.0f} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
