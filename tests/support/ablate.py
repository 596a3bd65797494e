"""Small byte-tokenized mixtures for the ablate tests, built with the public shard/manifest API."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from corpuskit.mix.shards import ShardWriter, write_manifest
from corpuskit.mix.tokenizer import ByteTokenizer
from corpuskit.text import split_documents

split_docs = split_documents  # documents of about ``doc_bytes`` at blank lines: the toolkit's one chunker


def write_heldout(folder: Path, docs_by_source: dict[str, list[str]]) -> dict:
    """Held-out JSONL files (one per source) and their manifest block."""
    folder.mkdir(parents=True, exist_ok=True)
    block = {}
    for src, docs in sorted(docs_by_source.items()):
        path = folder / f"{src}.jsonl"
        body = "".join(json.dumps({"id": f"{src}-{i}", "text": t}) + "\n" for i, t in enumerate(docs))
        path.write_text(body, encoding="utf-8")
        block[src] = {
            "path": str(path),
            "hash": hashlib.sha256(body.encode()).hexdigest()[:16],
            "documents": len(docs),
            "bytes": sum(len(t.encode()) for t in docs),
        }
    return block


def build_mixture(
    folder: Path,
    train_by_source: dict[str, list[str]],
    weights: dict[str, float],
    tokens: int,
    heldout_block: dict,
    seed: int = 0,
) -> Path:
    """Token-weighted mixture: for each source, repeat its documents (shuffled) until its share is filled."""
    tok = ByteTokenizer()
    rng = np.random.default_rng(seed)
    w = ShardWriter(folder, tok.vocab_size)
    total_w = sum(weights.values())
    sources = {}
    for src in sorted(weights):
        want = int(tokens * weights[src] / total_w)
        docs = train_by_source[src]
        got, n_docs, order = 0, 0, []
        while got < want and want > 0:
            if not order:
                order = list(rng.permutation(len(docs)))
            arr = np.append(tok.encode_array(docs[order.pop()]), tok.eot_id)
            w.write(arr)
            got += arr.size
            n_docs += 1
        avail = sum(len(d.encode()) + 1 for d in docs)
        sources[src] = {"tokens": got, "documents": n_docs, "epochs": got / avail}
    fmt = w.finish()
    write_manifest(
        folder,
        {
            "tokenizer": {
                "path": "bytes",
                "hash": tok.hash,
                "vocab_size": tok.vocab_size,
                "eot_id": tok.eot_id,
            },
            "format": fmt,
            "heldout": heldout_block,
            "weights_requested": weights,
            "sources": sources,
        },
    )
    return folder


def two_source_corpus(shared: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(train, heldout) docs for 'shakespeare' (verse) and 'austen' (prose), from the shared samples."""
    shake = (shared / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    austen = (shared / "books" / "en_austen_pride_and_prejudice_pg1342.txt").read_text(encoding="utf-8-sig")
    out_train, out_held = {}, {}
    for name, text in (("shakespeare", shake), ("austen", austen[20_000:])):
        docs = split_docs(text)
        out_held[name] = docs[:6]
        out_train[name] = docs[6:]
    return out_train, out_held


def forum_posts(shared: Path, site: str = "coffee") -> list[str]:
    """Post bodies (tags stripped) of a Stack Exchange Posts.xml from the shared samples."""
    import html
    import re
    import xml.etree.ElementTree as ET

    path = shared / "forums" / "stackexchange" / f"{site}.stackexchange.com_Posts.xml"
    out = []
    for row in ET.parse(path).getroot():
        body = html.unescape(re.sub(r"<[^>]+>", "", row.get("Body", ""))).strip()
        title = row.get("Title")
        text = f"{title}\n\n{body}" if title else body
        if len(text) > 200:
            out.append(text)
    return out
