"""Mix configs: one study = several mixtures sharing a corpus, a tokenizer and the held-out sets.

Example ``mixes.yaml``::

    corpus: corpus
    out: mixes                 # each mixture goes to mixes/<name>/, held-out sets to mixes/heldout/
    tokenizer: bytes           # or a tokenizer.json (e.g. from `corpuskit tokenizer train`)
    heldout: {bytes_per_source: 1000000}
    mixtures:
      - {name: web-heavy, weights: {web: 0.7, books: 0.3}, tokens: 50M}
      - {name: balanced, weights: {web: 0.5, books: 0.5}, tokens: 50M}

Relative paths are resolved against the YAML file's folder.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from corpuskit.configs import ConfigError, CorpusRoot, load_yaml, require_unique, validate
from corpuskit.mix.decontam import DEFAULT_NGRAM
from corpuskit.mix.heldout import HeldoutSettings
from corpuskit.mix.sampler import DEFAULT_MAX_EPOCHS, MixError, normalise_weights, parse_tokens, parse_weights


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecontamSettings(_Strict):
    enabled: bool = True
    ngram: int = Field(DEFAULT_NGRAM, ge=1, description="word n-gram length (13: GPT-3 / NeMo / datatrove)")


class MixtureConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="folder name of the mixture under `out`")
    weights: dict[str, float] = Field(min_length=1, description="token share per source")
    tokens: int = Field(description="token budget, e.g. 50M or 1B")
    seed: int | None = Field(None, description="overrides the study seed")
    allow_repeat: bool | None = None
    max_epochs: float | None = Field(None, gt=0)

    @field_validator("tokens", mode="before")
    @classmethod
    def _budget(cls, v: Any) -> int:
        try:
            return parse_tokens(v)
        except MixError as e:
            raise ValueError(str(e)) from None

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: w for k, w in v.items() if not (w >= 0)}
        if bad:
            raise ValueError(f"weights must be >= 0 (got {bad})")
        return v


class StudyConfig(_Strict):
    corpus: CorpusRoot = Field(
        Path("corpus"), description="corpus folder (one sub-folder per source) or URL (s3://bucket/corpus)"
    )
    out: Path = Field(Path("mixes"), description="study folder; mixtures go to <out>/<name>/")
    tokenizer: str = Field("bytes", description="'bytes' or a tokenizer.json path")
    seed: int = 0
    max_epochs: float = Field(DEFAULT_MAX_EPOCHS, gt=0, description="repetition cap (RegMix/Olmix use 4)")
    allow_repeat: bool = False
    heldout: HeldoutSettings = Field(default_factory=HeldoutSettings)
    decontam: DecontamSettings = Field(default_factory=DecontamSettings)
    mixtures: list[MixtureConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> StudyConfig:
        names = [m.name for m in self.mixtures]
        require_unique(names, "mixture names")
        if "heldout" in names:
            raise ValueError("'heldout' is reserved for the shared held-out sets; rename that mixture")
        return self

    def resolve(self, base: Path) -> StudyConfig:
        """Paths relative to ``base`` (the YAML file's folder) made absolute."""
        tok = self.tokenizer
        if tok != "bytes" and not Path(tok).is_absolute():
            tok = str((base / tok).resolve())
        return self.model_copy(
            update={
                "corpus": self.corpus if isinstance(self.corpus, str) else (base / self.corpus).resolve(),
                "out": (base / self.out).resolve(),
                "tokenizer": tok,
            }
        )


def load_study_config(path: Path | str) -> StudyConfig:
    """Load and validate a mixes YAML; problems become a :class:`ConfigError` naming file and key."""
    p = Path(path)
    data = load_yaml(p)
    if isinstance(data, list):  # a bare list of mixtures
        data = {"mixtures": data}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a mix config must be a mapping with a 'mixtures' list (or a bare list)")
    return validate(StudyConfig, data, p).resolve(p.resolve().parent)


def flags_study(
    weights: str | None,
    tokens: str | None,
    corpus: Path,
    out: Path | None,
    tokenizer: str,
    seed: int,
    allow_repeat: bool,
    max_epochs: float,
    heldout_bytes: int,
    dry_run: bool,
) -> StudyConfig:
    """The one-mixture study that ``mix --weights ... --out DIR`` describes, checked before any work."""
    from corpuskit.mix.folders import check_out
    from corpuskit.store import list_sources

    if not weights or not tokens:
        raise MixError("give --weights and --tokens (or --config mixes.yaml)")
    if out is None and not dry_run:
        raise MixError("give --out DIR for the mixture folder")
    if not math.isfinite(max_epochs) or max_epochs <= 0:
        raise MixError(f"--max-epochs must be a finite number > 0 (got {max_epochs})")
    if heldout_bytes < 0:
        raise MixError(f"--heldout-bytes must be >= 0 (got {heldout_bytes})")
    if out is not None:
        out = check_out(out, corpus)
    budget = parse_tokens(tokens)
    wts = parse_weights(weights)
    normalise_weights(wts, list_sources(corpus))  # unknown / negative -> clear error before work
    tok = tokenizer if tokenizer == "bytes" else str(Path(tokenizer).resolve())
    name = (re.sub(r"[^A-Za-z0-9_.-]", "_", out.name) or "mixture") if out is not None else "mixture"
    return StudyConfig(
        corpus=corpus.resolve(),
        out=(out or Path(name)).resolve().parent,
        tokenizer=tok,
        seed=seed,
        max_epochs=max_epochs,
        allow_repeat=allow_repeat,
        heldout=HeldoutSettings(bytes_per_source=heldout_bytes),
        decontam=DecontamSettings(),
        mixtures=[MixtureConfig(name=name, weights=wts, tokens=budget)],
    )
