"""Plain text cut into documents: the one paragraph chunker of the toolkit.

A long plain-text file (a book, a WikiText dump) is not one document: scored or trained as one, a single
file dominates a set and a model sees one giant sequence. It is cut at blank lines (paragraph boundaries,
never inside a paragraph) into documents of about ``target_bytes`` UTF-8 bytes.
"""

from __future__ import annotations


def split_documents(text: str, target_bytes: int = 4096) -> list[str]:
    """Paragraphs (split at blank lines, CRLF normalised, empty ones dropped) joined into documents of at
    least ``target_bytes`` bytes each (the last one may be shorter); paragraphs are kept whole."""
    if target_bytes <= 0:
        raise ValueError(f"target_bytes must be > 0, got {target_bytes}")
    docs: list[str] = []
    cur: list[str] = []
    size = 0
    for para in text.replace("\r\n", "\n").split("\n\n"):
        para = para.strip("\n")
        if not para.strip():
            continue
        cur.append(para)
        size += len(para.encode("utf-8"))
        if size >= target_bytes:
            docs.append("\n\n".join(cur))
            cur, size = [], 0
    if cur:
        docs.append("\n\n".join(cur))
    return docs
