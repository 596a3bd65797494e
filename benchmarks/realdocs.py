"""Build ~10k real documents from ../shared/data for the curation benchmarks and the datatrove parity check.

Mix (all real text, nothing generated): Gutenberg books split into ~10 KB chunks at paragraph breaks,
Stack Exchange posts, Reddit comments and submissions, mailing-list messages, web pages (the human
``articleBody`` of the ScrapingHub benchmark, trafilatura main text and the raw whole-page text of the
same HTML, which keeps boilerplate the filters should catch), cc_net documents, and the lingua langid
sentences concatenated 20 at a time. The result is cached as Parquet (id, kind, text), ordered
deterministically, so corpuskit and datatrove read exactly the same documents.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import mailbox
import re
import sys
from pathlib import Path

import polars as pl

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CACHE = Path("/tmp/corpuskit_bench/realdocs.parquet")
CHUNK_CHARS = 10_000


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\r\n", "\n")


def _chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    out, cur, n = [], [], 0
    for para in re.split(r"\n{2,}", text):
        cur.append(para)
        n += len(para) + 2
        if n >= size:
            out.append("\n\n".join(cur).strip())
            cur, n = [], 0
    if cur:
        out.append("\n\n".join(cur).strip())
    return [c for c in out if c]


def _html_text(markup: str, main: bool = True) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(markup, main_content=main)


def books() -> list[str]:
    return [c for p in sorted((DATA / "books").glob("*.txt")) for c in _chunks(_read_text(p))]


def stackexchange() -> list[str]:
    out = []
    for p in sorted((DATA / "forums" / "stackexchange").rglob("Posts.xml")) + sorted(
        (DATA / "forums" / "stackexchange").glob("*_Posts.xml")
    ):
        for m in re.finditer(r'Body="([^"]*)"', p.read_text(encoding="utf-8")):
            body = _html_text(html.unescape(m.group(1)), main=False)
            out.append(body)
    return out


def reddit() -> list[str]:
    out = []
    for p in sorted((DATA / "forums" / "reddit").glob("*.jsonl.gz")):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                text = d.get("body") or "\n\n".join(x for x in (d.get("title"), d.get("selftext")) if x)
                out.append(text)
    return out


def mail() -> list[str]:
    out = []
    for p in sorted((DATA / "forums" / "mailing_lists").glob("*.mbox")):
        box = mailbox.mbox(p)
        for key in box.iterkeys():
            try:
                msg = box[key]
            except UnicodeDecodeError:  # a non-ASCII "From " line; skip that message as mail tools do
                continue
            parts = msg.walk() if msg.is_multipart() else [msg]
            for part in parts:
                if part.get_content_type() == "text/plain":
                    payload = part.get_payload(decode=True) or b""
                    out.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
                    break
    return out


def web() -> list[str]:
    import trafilatura

    out = []
    gt = json.loads((DATA / "web" / "extraction_scrapinghub" / "ground-truth.json").read_text())
    for key in sorted(gt):
        out.append(gt[key].get("articleBody") or "")
    pages = sorted((DATA / "web" / "extraction_scrapinghub" / "html").glob("*.html.gz")) + sorted(
        (DATA / "web" / "extraction_trafilatura" / "eval").glob("*.html.gz")
    )
    for p in pages:
        markup = gzip.decompress(p.read_bytes()).decode("utf-8", "replace")
        out.append(trafilatura.extract(markup, favor_precision=True) or "")
        out.append(_html_text(markup, main=False))
    for p in sorted((DATA / "web" / "commoncrawl_ccnet_jsonl").glob("*.jsonl.gz")):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            out += [json.loads(line)["text"] for line in f]
    return out


def langid_concat(per_doc: int = 20) -> list[str]:
    out = []
    for p in sorted((DATA / "langid" / "lingua_sentences").glob("*.txt")):
        lines = [x for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
        out += [" ".join(lines[i : i + per_doc]) for i in range(0, len(lines), per_doc)]
    return out


def build() -> pl.DataFrame:
    rows = []
    for kind, fn in [
        ("book", books),
        ("stackexchange", stackexchange),
        ("reddit", reddit),
        ("mail", mail),
        ("web", web),
        ("langid", langid_concat),
    ]:
        for i, text in enumerate(fn()):
            if text and text.strip():
                rid = hashlib.blake2b(f"{kind}\0{i}".encode(), digest_size=8).hexdigest()
                rows.append({"id": f"{kind}-{rid}", "kind": kind, "text": text})
    return pl.DataFrame(rows, schema={"id": pl.String, "kind": pl.String, "text": pl.String})


def load(limit: int | None = None) -> pl.DataFrame:
    """The cached documents (built on first use)."""
    if not CACHE.exists():
        if not DATA.is_dir():
            sys.exit(f"shared data not found at {DATA}")
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        build().write_parquet(CACHE)
    df = pl.read_parquet(CACHE)
    return df.head(limit) if limit else df


if __name__ == "__main__":
    df = load()
    print(df.group_by("kind").agg(pl.len(), pl.col("text").str.len_bytes().mean().alias("mean_bytes")))
    print(f"{df.height} documents, {df['text'].str.len_bytes().sum() / 1e6:.1f} MB")
