"""The compiled chunk index cuts texts exactly where ``str.split()`` does and gives equal chunks equal ids."""

from __future__ import annotations

import random
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from corpuskit.curate.chunk_index import _SPACE_LIMIT, IS_SPACE, ChunkIndex


def test_space_table_is_str_isspace() -> None:
    assert [i for i in range(sys.maxunicode + 1) if chr(i).isspace()] == [
        i for i in range(_SPACE_LIMIT) if IS_SPACE[i]
    ]


def _check(index: ChunkIndex, seen: dict[str, int], texts: list[str]) -> None:
    """ids and offsets equal to splitting with ``str.split()`` and numbering chunks by first appearance."""
    ids, offsets, new = index.lookup(texts)
    assert not seen.keys() & set(new)
    seen.update(zip(new, range(len(seen), len(seen) + len(new)), strict=True))
    want, want_off = [], [0]
    for t in texts:
        want += [seen[c] for c in t.split()]
        want_off.append(len(want))
    assert ids.tolist() == want
    assert offsets.tolist() == want_off
    assert len(index) == len(seen)


ALPHABET = "ab a\n\t\x1c\x85\xa0\u2003\u3000\u200b日\U0001f600\ud800-."


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.text(ALPHABET, max_size=30), max_size=6), min_size=1, max_size=4))
def test_ids_match_str_split(batches: list[list[str]]) -> None:
    index, seen = ChunkIndex(), {}
    for texts in batches:
        _check(index, seen, texts)


def test_tables_grow_mid_batch() -> None:
    """Far more distinct chunks than the initial tables hold, and one text longer than the output buffer."""
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 7))) for _ in range(300_000)]
    texts = [" ".join(words[i : i + 500]) for i in range(0, len(words), 500)]
    index, seen = ChunkIndex(), {}
    _check(index, seen, texts)
    _check(index, seen, list(reversed(texts)) + ["", "new ones here"])
    _check(index, seen, ["x y " * 100_000 + " ".join(words[:1000])])  # more chunks than a quarter of the text
