"""Quality rules on hand-made documents; expected decisions follow the published rules (Gopher, C4, FineWeb
as implemented in datatrove 0.10) worked out by hand in the comments."""

from __future__ import annotations

import random
from collections import Counter

import polars as pl
import pytest

from corpuskit.curate import rules as R
from corpuskit.curate.ngrams import ngram_signals
from corpuskit.curate.signals import quality_signals

GOOD = "\n".join(
    [
        "The history of the small town begins with a group of farmers who settled near the river.",
        "They built houses from the stone they found in the hills and planted wheat in the valley.",
        "Over the years the market grew, and traders came from distant cities to sell their goods.",
        "A school was opened in the old church, and the children learned to read and to write.",
        "Today the town is known for its festivals, its bakeries and the quiet beauty of its streets.",
        "Visitors who walk along the river in autumn can still see the mill that the settlers used.",
    ]
)


def reasons(text: str, **overrides) -> dict[str, str | None]:
    """First triggered reason of each filter for one text (None = kept)."""
    sig = quality_signals([text])
    out = {}
    for name in ["gopher_repetition", "gopher_quality", "c4", "fineweb"]:
        model, build = R.RULE_BUILDERS[name]
        rules = build(model(**overrides.get(name, {})))
        out[name] = sig.select(R.first_reason(rules)).item()
    return out


def test_good_paragraph_passes_every_filter() -> None:
    # 6 lines, each one sentence ending in "." (C4: 6 >= 5 sentences), ~100 words, stop words present
    assert reasons(GOOD) == dict.fromkeys(["gopher_repetition", "gopher_quality", "c4", "fineweb"])


def test_short_document() -> None:
    # words: Hello world . This is short . -> 5 non-symbol words < 50 (Gopher);
    # top 2-gram "Hello world" (11 chars) x 1 / 27 chars = 0.41 > 0.2 (Gopher repetition);
    # 2 sentences < 5 (C4); the only line is 27 <= 30 characters: short-line ratio 1 > 0.67 (FineWeb)
    assert reasons("Hello world. This is short.") == {
        "gopher_repetition": "top_2_gram",
        "gopher_quality": "gopher_short_doc",
        "c4": "too_few_sentences",
        "fineweb": "short_line_ratio",
    }


def test_empty_document() -> None:
    assert reasons("") == {
        "gopher_repetition": "empty",
        "gopher_quality": "gopher_short_doc",
        "c4": "too_few_sentences",
        "fineweb": "empty",
    }


def test_hashes_bullets_and_ellipsis() -> None:
    # 30 "#" in ~160 words: 0.19 > 0.1 symbol/word ratio
    tags = " ".join(f"#tag{i}" for i in range(30))
    assert reasons(GOOD + "\n" + tags + ".")["gopher_quality"] == "gopher_too_many_hashes"
    # every line starts with "-": bullet-line ratio 1 > 0.9
    bullets = "\n".join("- " + line for line in GOOD.splitlines())
    assert reasons(bullets)["gopher_quality"] == "gopher_too_many_bullets"
    # 4 of 6 lines end with "...": 0.67 > 0.3 (and 4 ellipses / ~105 words stays under 0.1)
    lines = GOOD.splitlines()
    ell = "\n".join(line[:-1] + "..." if i < 4 else line for i, line in enumerate(lines))
    assert reasons(ell)["gopher_quality"] == "gopher_too_many_end_ellipsis"


def test_stop_words_and_word_length() -> None:
    # no "the/be/to/of/and/that/have/with": fewer than 2 stop words
    text = " ".join(f"Zebras{i} gallop quickly across wide plains." for i in range(12))
    assert reasons(text)["gopher_quality"] == "gopher_enough_stop_words"
    # mean word length > 10: 60 words of 14 letters
    long = " ".join(["Extraordinaires"] * 30 + ["Unquestionably"] * 30) + " the and."
    assert reasons(long)["gopher_quality"] == "gopher_above_avg_threshold"


def test_repeated_lines() -> None:
    line = "This exact sentence is repeated many times on purpose for the test."
    text = "\n".join([line] * 10)
    got = reasons(text)
    # one paragraph (no blank line); 9 of 10 lines are duplicates: 0.9 > 0.3
    assert got["gopher_repetition"] == "dup_line_frac"
    # every line ends with "." and is long, but 9 duplicated lines hold ~90% of the characters > 1%
    assert got["fineweb"] == "char_dup_ratio"


def test_c4_document_rules_in_line_order() -> None:
    lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing."
    curly = "The function returns { value } to the caller."
    assert reasons(GOOD + "\n" + lorem)["c4"] == "lorem_ipsum"
    assert reasons(GOOD + "\n" + curly)["c4"] == "curly_bracket"
    assert reasons(GOOD + "\n" + curly + "\n" + lorem)["c4"] == "curly_bracket"  # the first such line wins
    assert reasons(GOOD + "\n" + lorem + "\n" + curly)["c4"] == "lorem_ipsum"
    # a curly bracket on a line C4 already discards (no terminal punctuation) does not count
    assert reasons(GOOD + "\nconst x = { a: 1 }")["c4"] is None
    # switched off in config: the bracket line is kept and counted instead
    assert reasons(GOOD + "\n" + curly, c4={"filter_curly_bracket": False})["c4"] is None


def test_c4_sentence_count_threshold() -> None:
    four = "\n".join(GOOD.splitlines()[:4])
    five = "\n".join(GOOD.splitlines()[:5])
    assert reasons(four)["c4"] == "too_few_sentences"
    assert reasons(five)["c4"] is None
    # a javascript line is removed before counting
    js = four + "\nPlease enable JavaScript to see the comments."
    assert reasons(js)["c4"] == "too_few_sentences"
    assert reasons(four, c4={"min_num_sentences": 4})["c4"] is None


def test_fineweb_list_ratio() -> None:
    # 20 distinct long lines of 2 words + "." = 3 words each: 19 newlines / 60 words = 0.32 > 0.3
    text = "\n".join(
        f"Alphabetical{i:02d}extraordinarilylong internationalization{i:02d}." for i in range(20)
    )
    assert reasons(text)["fineweb"] == "list_ratio"
    assert reasons(text, fineweb={"new_line_ratio": 0.4})["fineweb"] is None


def test_threshold_none_disables_a_rule() -> None:
    # without the word-count rule the next failing check decides: 5 of 7 words have a letter, 0.71 < 0.8
    got = reasons("Hello world. This is short.", gopher_quality={"min_doc_words": None})
    assert got["gopher_quality"] == "gopher_below_alpha_threshold"


def test_langid_rules() -> None:
    df = pl.DataFrame({"lang": ["en", "de", "en", None], "lang_score": [0.9, 0.99, 0.5, None]})
    keep_en = R.first_reason(R.langid_rules(R.LangIdRule(languages=["en"])))
    assert df.select(keep_en).to_series().to_list() == [None, "language", "low_score", "language"]
    any_lang = R.first_reason(R.langid_rules(R.LangIdRule()))
    assert df.select(any_lang).to_series().to_list() == [None, None, "low_score", "low_score"]


# ------------------------------------------------------------------------------- n-gram statistics


def _dt_top(words: list[str], n: int) -> int:
    """datatrove find_top_duplicate (published algorithm)."""
    grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0
    g, c = Counter(grams).most_common(1)[0]
    return len(g) * c


def _dt_all_dup(words: list[str], n: int) -> int:
    """datatrove find_all_duplicate (published algorithm; tuples instead of "".join, see signals.py)."""
    seen, rep, i = set(), 0, 0
    while i < len(words) - n + 1:
        g = tuple(words[i : i + n])
        if g in seen:
            rep += sum(map(len, g))
            i += n
        else:
            seen.add(g)
            i += 1
    return rep


@pytest.mark.parametrize("seed", range(8))
def test_ngram_signals_match_reference_algorithm(seed: int) -> None:
    rng = random.Random(seed)
    vocab = ["a", "bb", "ccc", "dd", "e", "the", "of"][: rng.randint(2, 7)]
    words = [rng.choice(vocab) for _ in range(rng.randint(1, 300))]
    if seed % 2:  # plant long exact repeats
        words = words[:40] * 3 + words
    n_chars = 1000
    got = ngram_signals(words, n_chars)
    want = [_dt_top(words, n) / n_chars for n in (2, 3, 4)] + [
        _dt_all_dup(words, n) / n_chars for n in range(5, 11)
    ]
    assert got == pytest.approx(want)
