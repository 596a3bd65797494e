"""A small real-text corpus for the mix tests, in the layout the ingest runner writes.

Sources: ``books`` (two English Project Gutenberg novels cut at paragraphs), ``wiki`` (WikiText-2 valid
articles) and ``verse`` (Tiny Shakespeare cut at blank lines); all from ../shared/data.
"""

from __future__ import annotations

import re
from pathlib import Path

from corpuskit.documents import document_id, shard_key
from corpuskit.text import split_documents
from tests.support.store import commit_rows

chunk = split_documents  # documents of about ``doc_bytes`` at blank lines: the toolkit's one chunker


def wiki_articles(text: str) -> list[str]:
    """WikiText articles start with a ' = Title = ' line (one '=' on each side)."""
    parts = re.split(r"\n(?= = [^=].* = \n)", text)
    return [p.strip() for p in parts if len(p.strip()) > 200]


def write_source(corpus: Path, source: str, docs: list[str], parts: int = 2) -> None:
    """Write ``docs`` as ``parts`` finished parts (documents + completion markers)."""
    per = -(-len(docs) // parts)
    for p in range(parts):
        uri = f"test://{source}/{p}"
        rows = []
        for i, text in enumerate(docs[p * per : (p + 1) * per]):
            loc = f"{uri}#{i}"
            rows.append({"id": document_id(source, loc), "source": source, "text": text, "locator": loc})
        commit_rows(corpus, source, shard_key(uri), rows, rows_per_file=50, uri=uri)


def real_sources(data: Path) -> dict[str, list[str]]:
    books = []
    for name in ["en_austen_pride_and_prejudice_pg1342.txt", "en_carroll_alice_pg11.txt"]:
        books += chunk((data / "books" / name).read_text(encoding="utf-8-sig"), 4000)
    wiki = wiki_articles((data / "lm" / "wikitext-2_tokenized" / "valid.txt").read_text(encoding="utf-8"))
    verse = chunk((data / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8"), 2000)
    return {"books": books, "wiki": wiki, "verse": verse}


def make_corpus(corpus: Path, data: Path, extra: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    sources = {**real_sources(data), **(extra or {})}
    for name, docs in sources.items():
        write_source(corpus, name, docs)
    return sources


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path: what "the same bytes" compares."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def build_study(
    corpus: Path, mixes: list, out: Path, *, heldout_bytes: int = 40_000, seed: int = 0, **run
) -> list:
    """Open the study once (byte tokenizer), plan ``mixes`` and build them into ``out`` (``run``: workers,
    executor, ...); returns what :func:`corpuskit.mix.build_mixtures` returns."""
    from corpuskit.mix import DecontamSettings, HeldoutSettings, build_mixtures, open_study, plan_study

    ctx = open_study(corpus, "bytes", HeldoutSettings(bytes_per_source=heldout_bytes), DecontamSettings())
    return build_mixtures(ctx, plan_study(ctx, mixes, seed=seed), out, **run)
