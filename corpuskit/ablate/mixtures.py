"""The mixtures an ablation compares: existing folders, mixtures given as weights, and a swarm.

Mixtures given as weights (and every swarm member) are built from ``build.corpus`` through ONE study
context of the mix stage (:func:`corpuskit.mix.open_study`): the corpus is read, split into held-out and
training pools and its held-out n-grams hashed once, not once per mixture. A mixture folder that already
has a manifest is reused (a resumed ablation does not rebuild). The swarm's per-source token supply comes
from the same context (:func:`corpuskit.mix.estimate_available`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from corpuskit.ablate import regression as reg
from corpuskit.ablate.config import AblationConfig
from corpuskit.config import ConfigError
from corpuskit.mix import (
    DecontamSettings,
    HeldoutSettings,
    MixError,
    Mixture,
    MixtureConfig,
    StudyContext,
    build_in_study,
    estimate_available,
    open_mixture,
    open_study,
)

SWARM_PREFIX = "swarm-"


@dataclass
class Swarm:
    """The swarm's members and the weight space they were drawn from (the proposal draws from it too)."""

    names: list[str] = field(default_factory=list)
    space: reg.WeightSpace = field(default_factory=lambda: reg.WeightSpace({}))


class Builder:
    """Builds weights mixtures into ``<output>/mixtures/<name>/``, opening the study context lazily once."""

    def __init__(self, cfg: AblationConfig):
        self.cfg = cfg
        self._ctx: StudyContext | None = None

    def context(self) -> StudyContext:
        if self._ctx is None:
            b, o = self.cfg.build, self.cfg.build.options
            try:
                self._ctx = open_study(
                    self.cfg.resolve(b.corpus),
                    b.tokenizer if b.tokenizer == "bytes" else str(self.cfg.resolve(Path(b.tokenizer))),
                    HeldoutSettings(bytes_per_source=o.heldout_bytes, seed=o.heldout_seed),
                    DecontamSettings(enabled=o.decontaminate),
                )
            except MixError as e:
                raise ConfigError(f"build.corpus: {e}") from None
        return self._ctx

    def build(self, name: str, weights: dict[str, float]) -> Path:
        cfg, b = self.cfg, self.cfg.build
        out = cfg.resolve(cfg.output) / "mixtures" / name
        if (out / "manifest.json").exists():
            return out
        tokens = b.tokens or cfg.training.tokens
        try:
            mix = MixtureConfig(name=name, weights=weights, tokens=tokens)
            build_in_study(
                self.context(),
                mix,
                out,
                seed=b.seed,
                max_epochs=b.max_epochs,
                allow_repeat=b.options.allow_repeat,
            )
        except (MixError, ValueError) as e:  # unknown source, repetition cap, ...
            raise ConfigError(f"building mixture {name!r}: {e}") from None
        return out

    def available(self) -> dict[str, int]:
        """Training tokens each source can supply after its held-out split (sources with none dropped)."""
        ctx = self.context()
        got = estimate_available(ctx, sorted(ctx.pools), self.cfg.build.options.heldout_seed)
        return {s: int(n) for s, (n, _) in got.items() if n > 0}


def build_swarm(cfg: AblationConfig, builder: Builder) -> tuple[dict[str, Path], Swarm]:
    """Sample ``swarm.runs`` weight vectors around the natural distribution and build each."""
    avail = builder.available()
    total = sum(avail.values())
    swarm = Swarm(
        space=reg.WeightSpace(
            natural={s: n / total for s, n in avail.items()},
            concentration=cfg.swarm.concentration,
            min_weight=cfg.swarm.min_weight,
            available_tokens=avail,
            budget_tokens=(cfg.build.tokens or None) or cfg.training.tokens,
            max_epochs=cfg.build.max_epochs,
        )
    )
    try:
        draws = reg.sample_swarm(swarm.space, cfg.swarm.runs, seed=cfg.swarm.seed)
    except ValueError as e:
        raise ConfigError(f"swarm: {e}") from None
    paths = {}
    for i, w in enumerate(draws):
        name = f"{SWARM_PREFIX}{i:03d}"
        paths[name] = builder.build(name, w)
        swarm.names.append(name)
    return paths, swarm


def resolve_mixtures(cfg: AblationConfig) -> tuple[dict[str, Mixture], Swarm]:
    """name -> opened mixture (built where given as weights, plus the swarm), and the swarm."""
    builder = Builder(cfg)
    paths: dict[str, Path] = {}
    for m in cfg.mixtures:
        paths[m.name] = cfg.resolve(m.path) if m.path is not None else builder.build(m.name, m.weights)
    swarm = Swarm()
    if cfg.swarm:
        swarm_paths, swarm = build_swarm(cfg, builder)
        paths.update(swarm_paths)
    mixtures = {}
    for name, p in paths.items():
        try:
            mixtures[name] = open_mixture(p)
        except FileNotFoundError as e:
            raise ConfigError(f"mixture {name!r}: {e}") from None
    if len({m.manifest["tokenizer"].get("hash") for m in mixtures.values()}) > 1:
        raise ConfigError(
            "the mixtures use different tokenizers; BPB is comparable, but one ablation must "
            "train one architecture: rebuild them with one tokenizer"
        )
    return mixtures, swarm


def mixture_weights(m: Mixture) -> dict[str, float]:
    """Realised token share per source (manifest ``sources``), else the requested weights."""
    src = m.manifest.get("sources") or {}
    toks = {s: float(v.get("tokens", 0)) for s, v in src.items() if isinstance(v, dict)}
    if sum(toks.values()) > 0:
        t = sum(toks.values())
        return {s: v / t for s, v in toks.items()}
    req = m.manifest.get("weights_requested") or {}
    t = sum(req.values()) or 1.0
    return {s: float(v) / t for s, v in req.items()}


def mixture_hash(m: Mixture) -> str:
    """What a finished run's numbers depend on in the mixture (its format, sources and tokenizer)."""
    blob = json.dumps({k: m.manifest.get(k) for k in ("format", "sources", "tokenizer")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
