"""Keep/drop rules over signal columns: each filter is an ordered list of (reason, condition) expressions.

The order and the reason names follow datatrove's filters, so "the first failing check" gives the same reason
datatrove would log. Every default threshold cites its origin. Thresholds are plain pydantic fields (see
:mod:`corpuskit.curate.config`), so a source config can override any of them; a ``None`` threshold
switches that check off, as in datatrove.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

Rule = tuple[str, pl.Expr]


class _Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LangIdRule(_Thresholds):
    """datatrove ``LanguageFilter``; FineWeb keeps English scored > 0.65 (Penedo et al. 2024)."""

    languages: list[str] | None = Field(None, description="languages to keep (lid.176 codes); null keeps all")
    min_score: float = Field(0.65, ge=0, le=1, description="FineWeb / datatrove language_threshold")


class GopherQualityRule(_Thresholds):
    """Rae et al. 2021 (Gopher), appendix A.1.1; defaults as datatrove ``GopherQualityFilter``."""

    min_doc_words: int | None = 50  # "fewer than 50 ... words"
    max_doc_words: int | None = 100_000  # "more than 100,000 words"
    min_avg_word_length: float | None = 3  # "mean word length outside 3 to 10 characters"
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1  # "symbol-to-word ratio greater than 0.1" (# and ellipsis)
    max_bullet_lines_ratio: float | None = 0.9  # "more than 90% of lines starting with a bullet point"
    max_ellipsis_lines_ratio: float | None = 0.3  # "more than 30% ending with an ellipsis"
    max_non_alpha_words_ratio: float | None = 0.8  # "80% of words ... contain at least one alphabetic char"
    min_stop_words: int | None = 2  # "at least two of the following English words"


class GopherRepetitionRule(_Thresholds):
    """Rae et al. 2021, Table A1; defaults as datatrove ``GopherRepetitionFilter``."""

    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: dict[int, float] = {2: 0.2, 3: 0.18, 4: 0.16}
    dup_n_grams: dict[int, float] = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


class C4Rule(_Thresholds):
    """Raffel et al. 2020 (C4) sec. 2.2 and TFDS ``c4_utils``; defaults as datatrove ``C4QualityFilter``.
    The line-level switches (terminal punctuation, javascript, policy, ...) shape the signals and live in
    the ``signals`` section of the config."""

    min_num_sentences: int = 5  # "discarded any page with fewer than 5 sentences"; -1 disables
    filter_lorem_ipsum: bool = True  # "removed any page where the phrase 'lorem ipsum' appeared"
    filter_curly_bracket: bool = True  # "removed any pages that contained a curly bracket"


class FineWebRule(_Thresholds):
    """Penedo et al. 2024 (FineWeb) custom filters; defaults of datatrove ``FineWebQualityFilter``."""

    line_punct_thr: float = 0.12  # drop if < 12% of lines end in terminal punctuation
    line_punct_exclude_zero: bool = False
    short_line_thr: float = 0.67  # drop if > 67% of lines are <= 30 characters
    char_duplicates_ratio: float = 0.01  # drop if > 1% of characters are in duplicated lines
    new_line_ratio: float = 0.3  # drop if newlines / words > 0.3 ("list-like")


class QualityScoreRule(_Thresholds):
    """Model-based quality (GPT-3 / DCLM style fastText classifier): keep scores >= min_score."""

    model: str = Field(description="path to a classifier trained with `corpuskit quality train`")
    min_score: float = Field(0.5, ge=0, le=1)


def _gt(col: str, thr: float | None) -> pl.Expr | None:
    return None if thr is None else pl.col(col) > thr


def _lt(col: str, thr: float | None) -> pl.Expr | None:
    return None if thr is None else pl.col(col) < thr


def _rules(pairs: list[tuple[str, pl.Expr | None]]) -> list[Rule]:
    # a comparison with a null signal is null, i.e. "not triggered": fill with False
    return [(reason, expr.fill_null(False)) for reason, expr in pairs if expr is not None]


def langid_rules(r: LangIdRule) -> list[Rule]:
    # a document the model could not label (null) is dropped, never silently kept
    low = (pl.col("lang_score") <= r.min_score).fill_null(True)
    if r.languages:
        wrong = (~pl.col("lang").is_in(r.languages)).fill_null(True)
        return _rules([("language", wrong), ("low_score", low)])
    return _rules([("low_score", low)])


def gopher_quality_rules(r: GopherQualityRule) -> list[Rule]:
    return _rules(
        [
            ("gopher_short_doc", _lt("gopher_nonsymbol_words", r.min_doc_words)),
            ("gopher_long_doc", _gt("gopher_nonsymbol_words", r.max_doc_words)),
            ("gopher_below_avg_threshold", _lt("gopher_mean_word_length", r.min_avg_word_length)),
            ("gopher_above_avg_threshold", _gt("gopher_mean_word_length", r.max_avg_word_length)),
            ("gopher_too_many_hashes", _gt("gopher_hash_ratio", r.max_symbol_word_ratio)),
            ("gopher_too_many_ellipsis", _gt("gopher_ellipsis_ratio", r.max_symbol_word_ratio)),
            ("gopher_too_many_bullets", _gt("gopher_bullet_lines_ratio", r.max_bullet_lines_ratio)),
            (
                "gopher_too_many_end_ellipsis",
                _gt("gopher_end_ellipsis_lines_ratio", r.max_ellipsis_lines_ratio),
            ),
            ("gopher_below_alpha_threshold", _lt("gopher_alpha_words_ratio", r.max_non_alpha_words_ratio)),
            ("gopher_enough_stop_words", _lt("gopher_stop_words", r.min_stop_words)),
        ]
    )


def gopher_repetition_rules(r: GopherRepetitionRule) -> list[Rule]:
    pairs: list[tuple[str, pl.Expr | None]] = [
        ("empty", pl.col("n_chars") == 0),
        ("dup_para_frac", _gt("gopher_dup_para_frac", r.dup_para_frac)),
        ("dup_para_char_frac", _gt("gopher_dup_para_char_frac", r.dup_para_char_frac)),
        ("dup_line_frac", _gt("gopher_dup_line_frac", r.dup_line_frac)),
        ("dup_line_char_frac", _gt("gopher_dup_line_char_frac", r.dup_line_char_frac)),
    ]
    pairs += [(f"top_{n}_gram", _gt(f"gopher_top_{n}gram_frac", t)) for n, t in sorted(r.top_n_grams.items())]
    pairs += [
        (f"duplicated_{n}_n_grams", _gt(f"gopher_dup_{n}gram_frac", t))
        for n, t in sorted(r.dup_n_grams.items())
    ]
    return _rules(pairs)


def c4_rules(r: C4Rule) -> list[Rule]:
    lorem, curly = pl.col("c4_lorem_line"), pl.col("c4_curly_line")
    pairs: list[tuple[str, pl.Expr | None]] = []
    # the line loop stops at the first line that triggers either document rule; lorem is checked first
    if r.filter_lorem_ipsum and r.filter_curly_bracket:
        pairs.append(("lorem_ipsum", lorem.is_not_null() & (curly.is_null() | (lorem <= curly))))
        pairs.append(("curly_bracket", curly.is_not_null()))
    elif r.filter_lorem_ipsum:
        pairs.append(("lorem_ipsum", lorem.is_not_null()))
    elif r.filter_curly_bracket:
        pairs.append(("curly_bracket", curly.is_not_null()))
    if r.min_num_sentences != -1:
        pairs.append(("too_few_sentences", pl.col("c4_sentences") < r.min_num_sentences))
    return _rules(pairs)


def fineweb_rules(r: FineWebRule) -> list[Rule]:
    punct = pl.col("fineweb_line_punct_ratio")
    low_punct = punct < r.line_punct_thr
    if r.line_punct_exclude_zero:
        low_punct = low_punct & (punct != 0)
    return _rules(
        [
            ("empty", pl.col("fineweb_line_punct_ratio").is_null()),
            ("line_punct_ratio", low_punct),
            ("short_line_ratio", _gt("fineweb_short_line_ratio", r.short_line_thr)),
            ("char_dup_ratio", _gt("fineweb_char_dup_ratio", r.char_duplicates_ratio)),
            ("list_ratio", _gt("fineweb_list_ratio", r.new_line_ratio)),
        ]
    )


def quality_score_rules(r: QualityScoreRule) -> list[Rule]:
    return _rules([("low_score", pl.col("quality_score") < r.min_score)])


RULE_BUILDERS: dict[str, tuple[type[_Thresholds], Callable[..., list[Rule]]]] = {
    "langid": (LangIdRule, langid_rules),
    "gopher_repetition": (GopherRepetitionRule, gopher_repetition_rules),
    "gopher_quality": (GopherQualityRule, gopher_quality_rules),
    "c4": (C4Rule, c4_rules),
    "fineweb": (FineWebRule, fineweb_rules),
    "quality": (QualityScoreRule, quality_score_rules),
}


def first_reason(rules: list[Rule], prefix: str = "") -> pl.Expr:
    """The first triggered rule's reason (``prefix`` + reason), or null when the document passes them all."""
    expr = pl.lit(None, dtype=pl.String)
    for reason, cond in reversed(rules):
        expr = pl.when(cond).then(pl.lit(prefix + reason)).otherwise(expr)
    return expr


def decide(signals: pl.DataFrame, filters: dict[str, list[Rule]]) -> pl.DataFrame:
    """Per-filter reason columns (``<filter>_reason``) and the combined ``curate_drop_reason``
    (``"<filter>:<reason>"`` of the first filter, in the given order, that drops the document)."""
    cols = [first_reason(rules).alias(f"{name}_reason") for name, rules in filters.items()]
    combined = pl.coalesce(
        [pl.format("{}:{}", pl.lit(name), pl.col(f"{name}_reason")) for name in filters] or [pl.lit(None)]
    ).cast(pl.String)
    return signals.with_columns(cols).with_columns(combined.alias("curate_drop_reason"))
