"""The compiled line statistics against their Python definitions (datatrove's expressions, written plainly
here), on hand-picked edge cases and seeded random documents built from the characters that matter
(line breaks str.splitlines knows, Unicode spaces, citations, the Kelvin sign and dotted I, C4's phrases)."""

from __future__ import annotations

import random
import re

import pytest

from corpuskit.curate import signals as S
from corpuskit.curate.signals import SignalParams, quality_signals


def dup_stats(items: list[str]) -> tuple[int, int]:
    uniq = set(items)
    return len(items) - len(uniq), sum(map(len, items)) - sum(map(len, uniq))


def reference(text: str, n_words: int, p: SignalParams) -> dict:
    """The line-level signals of one non-empty text, computed line by line in Python."""
    lines = text.splitlines()
    paragraphs = re.split(r"\n{2,}", text.strip())
    rlines = re.split("\n+", text)
    kept = sentences = 0
    lorem = curly = None
    for i, raw in enumerate(lines):
        k, n, is_lorem, is_curly = S.c4_line(raw, p)
        kept, sentences = kept + k, sentences + n
        lorem = i if lorem is None and is_lorem else lorem
        curly = i if curly is None and is_curly else curly
    fw = [line for line in text.split("\n") if line.strip()]
    denom = len(text) - text.count("\n")
    out = {
        "gopher_bullet_lines_ratio": sum(s.lstrip().startswith(("•", "-")) for s in lines) / len(lines),
        "gopher_end_ellipsis_lines_ratio": sum(s.rstrip().endswith(("...", "…")) for s in lines) / len(lines),
        "gopher_dup_para_frac": dup_stats(paragraphs)[0] / len(paragraphs),
        "gopher_dup_para_char_frac": dup_stats(paragraphs)[1] / len(text),
        "gopher_dup_line_frac": dup_stats(rlines)[0] / len(rlines),
        "gopher_dup_line_char_frac": dup_stats(rlines)[1] / len(text),
        "c4_lines": len(lines),
        "c4_kept_lines": kept,
        "c4_sentences": sentences,
        "c4_lorem_line": lorem,
        "c4_curly_line": curly,
        "fineweb_line_punct_ratio": None,
        "fineweb_short_line_ratio": None,
        "fineweb_char_dup_ratio": None,
        "fineweb_list_ratio": None,
    }
    if n_words:
        out["gopher_hash_ratio"] = text.count("#") / n_words
        out["gopher_ellipsis_ratio"] = (text.count("...") + text.count("…")) / n_words
    if fw:
        out["fineweb_line_punct_ratio"] = sum(s[-1] in p.fineweb_stop_chars for s in fw) / len(fw)
        out["fineweb_short_line_ratio"] = sum(len(s) <= p.fineweb_short_line_length for s in fw) / len(fw)
        out["fineweb_char_dup_ratio"] = dup_stats(fw)[1] / denom if denom else None
        out["fineweb_list_ratio"] = text.count("\n") / n_words if n_words else None
    return out


EDGE = [
    "\n",
    "\n\n",
    " \u3000\x1f",
    "a\n",
    "\na\n",
    "\na\n\n\nb\n\na\n",
    "one line\r\ntwo line\rthree\x1cfour\u2028five\x85six\x0bseven\x0c",
    "This is a claim with words.[1] Another one [edit] goes here.\nCited line here [12] [citation needed].",
    "A line with words ends in a citation [1]\nThree words here [x].",
    "The \u212aelvin sign and JAVASCRİPT are here.\nLorem ipsum dolor sit amet.\nWe use cookies here.",
    "We use COO\u212aIES to serve you.\nSee our coo\u212aie policy for more.\nUSES COO\u212aIES here.",
    "Please enable JavaScript to view this page.\nLOREM IPSUM is text.\nA {curly} line is here.",
    "• bullet one\n  - bullet two\n- three...\nfour …  \n#tag ## ... .... ......",
    "Hello world. This is it! Is it? Yes.\nDr. Smith went home. He slept well.\ne.g. this is fine, i.e. ok.",
    "Same line here.\nSame line here.\n\nSame line here.\nSame line here.\n\n\nOther paragraph.",
    ("x" * 1200) + " two words.\n" + "short words " * 90 + "end.",
    "Chinese sentence one。Second one！\nThird? And . . . more words .",
]


def random_doc(rng: random.Random) -> str:
    parts = [
        "The", "cat", "sat", "cookie policy", "Lorem", "ipsum", "javascript", "terms of use", " ", " ", "  ",
        "\n", "\n", "\n\n", "\r\n", "\r", "\x1c", "\u2028", "\t", "\u3000", ".", ".", "!", "?", "...", "…",
        '"', "'", "[1]", "[edit]", "[citation needed]", "[", "]", "{", "•", "-", "\u212a", "İ", "e.g.",
        "#", "。", "(a)", "word.", "end!", "Mr.", "coo\u212aies",
    ]  # fmt: skip
    return "".join(rng.choice(parts) for _ in range(rng.randint(1, 80)))


PARAMS = [
    SignalParams(),
    SignalParams(
        c4_remove_citations=False,
        c4_filter_no_terminal_punct=False,
        c4_min_words_per_line=1,
        c4_max_word_length=-1,
        c4_filter_javascript=False,
        c4_filter_policy=False,
        fineweb_short_line_length=5,
        fineweb_stop_chars=".!",
    ),
]


@pytest.mark.parametrize("p", PARAMS, ids=["defaults", "switched"])
def test_line_signals_equal_python_definitions(p: SignalParams) -> None:
    rng = random.Random(17)
    texts = ["", *EDGE, *(random_doc(rng) for _ in range(400))]
    frame = quality_signals(texts, p)
    assert frame.row(0, named=True)["c4_lines"] == 0 and frame.row(0, named=True)["c4_lorem_line"] is None
    for text, row in zip(texts[1:], frame.rows(named=True)[1:], strict=True):
        want = reference(text, row["gopher_words"], p)
        got = {k: row[k] for k in want}
        assert got == want, text


def test_batches_split_like_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(3)
    texts = [random_doc(rng) for _ in range(60)]
    whole = quality_signals(texts)
    monkeypatch.setattr(S, "_BATCH_CHARS", 50)
    assert quality_signals(texts).equals(whole)


def test_collision_recount_matches_the_kernel() -> None:
    # a hash collision makes the batch recount that document's duplicates with _py_dups: same numbers
    rng = random.Random(5)
    texts = [*EDGE, *(random_doc(rng) for _ in range(100))]
    rows = S._line_rows(texts, SignalParams())
    cols = [S._COL[c] for c in ("para_dup", "para_dup_chars", "rline_dup", "rline_dup_chars", "fw_dup_chars")]
    assert [S._py_dups(t) for t in texts] == [tuple(r) for r in rows[:, cols].tolist()]
    assert not rows[:, S._COL["collision"]].any()
