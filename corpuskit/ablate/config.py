"""``ablation.yaml``: which mixtures to compare, on which model, budget, seeds and eval sets.

Example::

    output: runs/books-vs-forums        # relative paths are relative to this file
    model: {preset: smoke}
    training: {tokens: 1_000_000, batch_size: 16, seeds: [0, 1, 2]}   # lr, warmup: per-preset defaults
    mixtures:
      - {name: natural, path: mixes/natural}           # an existing mixture folder
      - {name: books-heavy, weights: {books: 0.8, forums: 0.2}}   # built with corpuskit.mix.build_mixtures
    baseline: natural
    build: {corpus: corpus, tokenizer: bytes, max_epochs: 4}       # for weights mixtures and the swarm
    swarm: {runs: 16, concentration: 1.0, min_weight: 0.02}        # optional: RegMix-style weight search
    sweep: {factors: [0.5, 1, 2]}        # optional (or --lr-sweep): choose training.lr on the baseline first
    eval: {files: {wikitext: ../shared/data/lm/wikitext-2-raw/wiki.test.raw}, max_documents: 200}
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from corpuskit.ablate.defaults import defaults_for
from corpuskit.ablate.model import PRESETS, GPTConfig, preset
from corpuskit.ablate.train import TrainConfig
from corpuskit.configs import ConfigError, Strict, load_yaml, require_unique, validate

NAME = r"^[A-Za-z0-9_.-]+$"


class ModelSection(Strict):
    preset: str = Field("smoke", description=f"one of {', '.join(PRESETS)}")
    context: int | None = Field(None, gt=8, description="override the preset's context length")
    n_layer: int | None = Field(None, gt=0)
    n_head: int | None = Field(None, gt=0)
    n_embd: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _known(self) -> ModelSection:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown model preset {self.preset!r}; use one of: {', '.join(PRESETS)}")
        return self

    def build(self, vocab_size: int) -> GPTConfig:
        over = {k: v for k, v in self.model_dump().items() if k != "preset" and v is not None}
        return preset(self.preset, vocab_size, **over)


class TrainingSection(Strict):
    tokens: int = Field(1_000_000, gt=0, description="training tokens per run (same for every mixture)")
    batch_size: int = Field(16, gt=0)
    grad_accum: int = Field(1, gt=0)
    lr: float | None = Field(None, gt=0, description="peak learning rate; default: the preset's")
    min_lr_ratio: float = Field(0.1, ge=0, le=1)
    warmup_fraction: float = Field(0.05, ge=0, lt=1)
    warmup_min_steps: int | None = Field(
        None, ge=0, description="warmup is at least this many steps; default: the preset's"
    )
    weight_decay: float = Field(0.1, ge=0)
    grad_clip: float = Field(1.0, gt=0)
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="each seed changes init and data order")
    init_seed: int = Field(
        0, description="seed s starts from the weights of init_seed + s, for every mixture"
    )
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")
    threads: int = Field(0, ge=0, description="CPU threads; 0 = the preset's (smoke: 1, else min(4, cores))")
    compile: Literal["auto", "on", "off"] = "auto"
    pack: Literal["auto", "on", "off"] = Field(
        "auto", description="train runs of one shape as one pack (stacked weights); auto: on a GPU only"
    )
    pack_size: int = Field(16, gt=0, description="at most this many runs per pack")
    log_every: int = Field(10, gt=0)

    def train_config(self, preset: str = "smoke") -> TrainConfig:
        """The trainer's settings, with the preset's lr and warmup minimum where none is given."""
        d = self.model_dump(exclude={"seeds", "init_seed", "pack", "pack_size"})
        dflt = defaults_for(preset)
        d["lr"] = d["lr"] or dflt.lr
        if d["warmup_min_steps"] is None:
            d["warmup_min_steps"] = dflt.warmup_min_steps
        d["threads"] = d["threads"] or dflt.cpu_threads
        return TrainConfig(**d)


class MixtureSpec(Strict):
    name: str = Field(pattern=NAME)
    path: Path | None = Field(None, description="an existing mixture folder (written by corpuskit mix)")
    weights: dict[str, float] | None = Field(None, description="source -> weight; built from build.corpus")

    @model_validator(mode="after")
    def _one_of(self) -> MixtureSpec:
        if (self.path is None) == (self.weights is None):
            raise ValueError(f"mixture {self.name!r}: give exactly one of 'path' or 'weights'")
        if self.weights is not None:
            if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
                raise ValueError(f"mixture {self.name!r}: weights must be ≥ 0 and not all zero")
        return self


class BuildOptions(Strict):
    """How every mixture of the ablation is drawn from the corpus (the mix stage's study settings)."""

    allow_repeat: bool = Field(False, description="allow more epochs than max_epochs")
    heldout_bytes: int = Field(1_000_000, ge=0, description="UTF-8 bytes held out per source for eval")
    heldout_seed: int = Field(0, description="held-out split seed (same for every mixture)")
    decontaminate: bool = Field(True, description="drop training documents sharing 13-grams with held-out")


class BuildSection(Strict):
    corpus: Path = Field(description="curated corpus folder the mixtures are sampled from")
    tokenizer: str = Field("bytes", description="'bytes' or a tokenizer.json path (one per ablation)")
    tokens: int | None = Field(None, gt=0, description="tokens per built mixture; default training.tokens")
    max_epochs: float = Field(4.0, gt=0, description="repetition cap per source (Muennighoff et al.: ≤4)")
    seed: int = 0
    options: BuildOptions = Field(default_factory=lambda: BuildOptions())


class SwarmSection(Strict):
    runs: int = Field(16, ge=3, description="mixtures sampled (RegMix used 512 at 1M params)")
    concentration: float = Field(1.0, gt=0, description="Dirichlet concentration around natural weights")
    min_weight: float = Field(0.0, ge=0, lt=1)
    seed: int = 0
    seeds: list[int] | None = Field(None, description="training seeds per swarm run; default [first seed]")


class EvalSection(Strict):
    heldout: bool = Field(True, description="score every source's held-out set from the mixtures")
    files: dict[str, Path] = Field(
        default_factory=dict, description="extra eval sets: name -> text/JSONL file"
    )
    max_documents: int | None = Field(200, gt=0, description="documents scored per set (first N)")
    max_document_bytes: int | None = Field(
        None, gt=0, description="score only each document's first N bytes (speed; Paloma scores all)"
    )
    max_bytes_per_set: int | Literal["all"] | None = Field(
        None, description="UTF-8 bytes scored per set (documents in order); default: the preset's budget"
    )
    text_document_bytes: int = Field(4096, gt=0, description="plain-text files are cut into documents")
    batch_size: int = Field(32, gt=0, description="windows per forward pass")

    def bytes_per_set(self, preset: str) -> int | None:
        if self.max_bytes_per_set == "all":
            return None
        return self.max_bytes_per_set or defaults_for(preset).eval_bytes_per_set


class SweepSection(Strict):
    """A short learning-rate sweep on the baseline mixture before the ablation; its best lr is used."""

    factors: list[float] = Field(
        [0.25, 0.5, 1.0, 2.0], min_length=2, description="multiples of the preset's (or given) lr to try"
    )
    tokens: int | None = Field(None, gt=0, description="tokens per sweep run; default training.tokens / 4")
    seeds: list[int] = Field([0], min_length=1, description="every seed must train without diverging")
    tolerance: float = Field(
        0.01, ge=0, description="take the largest lr whose loss is within this share of the best"
    )


class StatisticsSection(Strict):
    alpha: float = Field(0.05, gt=0, lt=1)
    bootstrap: int = Field(2000, ge=100)


class RegressionSection(Strict):
    model: Literal["loglinear", "linear"] = "loglinear"
    top_k: int = Field(100, gt=0)
    candidates: int = Field(100_000, ge=100)


class AblationConfig(Strict):
    output: Path = Path("ablation")
    model: ModelSection = Field(default_factory=ModelSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    mixtures: list[MixtureSpec] = Field(default_factory=list)
    baseline: str | None = Field(None, description="mixture the others are compared with; default first")
    build: BuildSection | None = None
    swarm: SwarmSection | None = None
    eval: EvalSection = Field(default_factory=EvalSection)
    statistics: StatisticsSection = Field(default_factory=StatisticsSection)
    regression: RegressionSection = Field(default_factory=RegressionSection)
    sweep: SweepSection | None = None

    config_path: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> AblationConfig:
        names = [m.name for m in self.mixtures]
        require_unique(names, "mixture names")
        if not self.mixtures and not self.swarm:
            raise ValueError("give at least one entry in 'mixtures' or a 'swarm' section")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not one of the mixtures: {', '.join(names)}")
        needs_build = self.swarm is not None or any(m.weights is not None for m in self.mixtures)
        if needs_build and self.build is None:
            raise ValueError(
                "mixtures given as weights and swarms need a 'build' section (corpus, tokenizer)"
            )
        if not self.eval.heldout and not self.eval.files:
            raise ValueError("no eval sets: enable eval.heldout or list eval.files")
        return self

    def base_dir(self) -> Path:
        return self.config_path.parent if self.config_path else Path.cwd()

    def resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else self.base_dir() / p

    def baseline_name(self) -> str:
        return self.baseline or (self.mixtures[0].name if self.mixtures else "swarm-000")

    def run_hash(self) -> str:
        """Hash of everything that shapes a single run's numbers (not which mixtures are listed)."""
        training = self.training.model_dump(mode="json", exclude={"seeds", "log_every"})
        tc = self.training.train_config(self.model.preset)
        training.update(lr=tc.lr, warmup_min_steps=tc.warmup_min_steps)  # the values used, not None
        evaluation = self.eval.model_dump(mode="json")
        evaluation["max_bytes_per_set"] = self.eval.bytes_per_set(self.model.preset)
        blob = json.dumps(
            {"model": self.model.model_dump(mode="json"), "training": training, "eval": evaluation},
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_ablation_config(path: Path | str) -> AblationConfig:
    p = Path(path)
    data = load_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{p}: an ablation config must be a mapping with keys mixtures, model, training, ..."
        )
    cfg = validate(AblationConfig, data, p)
    cfg.config_path = p.resolve()
    return cfg
