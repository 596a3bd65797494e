"""The one paragraph chunker: blank-line boundaries, byte targets, paragraphs kept whole."""

from __future__ import annotations

import pytest

from corpuskit.text import split_documents


def test_documents_are_cut_at_blank_lines_by_bytes() -> None:
    paras = [f"paragraph {i} " * 10 for i in range(30)]  # 130 bytes each (ASCII)
    docs = split_documents("\r\n\r\n".join(paras), target_bytes=500)
    assert all(len(d.encode()) >= 500 for d in docs[:-1]) and "\r" not in "".join(docs)
    assert "\n\n".join(docs) == "\n\n".join(p.strip("\n") for p in paras)  # nothing lost, nothing split
    assert split_documents("é" * 300, target_bytes=500) == ["é" * 300]  # 600 bytes, one paragraph


def test_empty_paragraphs_are_dropped() -> None:
    assert split_documents("a\n\n\n\n  \n\nb", target_bytes=1) == ["a", "b"]
    assert split_documents("", 10) == []
    with pytest.raises(ValueError):
        split_documents("x", 0)
