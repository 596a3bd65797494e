"""Mixtures: tokenized training data drawn from kept documents by token shares.

Command line::

    corpuskit tokenizer train --corpus corpus --out tok/tokenizer.json --vocab-size 32000 --sample-bytes 100M
    corpuskit mix --weights web=0.5,books=0.3,forums=0.2 --tokens 50M --corpus corpus --out mixes/a \\
        [--tokenizer tok/tokenizer.json] [--seed 0] [--allow-repeat] [--dry-run]
    corpuskit mix --config mixes.yaml          # several mixtures sharing tokenizer + held-out sets
        [--workers N] [--executor local|ray] [--ray-address ADDR]   # sources drawn as units

Order of work: kept documents per source (curation/dedup ``*_drop_reason`` = null) -> held-out split
(:mod:`.heldout`, ~1 MB per source, by document, own seed) -> 13-gram decontamination of the training
pool against every held-out set (:mod:`.decontam`) -> token targets from the weights, epochs when a
source is too small (:mod:`.sampler`, :mod:`.plan`) -> each source drawn in seeded order (:mod:`.draw`)
(one unit per source and mixture, :mod:`.drawunits`) -> interleaved shards (:mod:`.gather`,
:mod:`.shards`) + manifest + id files (:mod:`.mixture`).

Modules: ``pools`` (kept documents minus held-out, per source), ``heldout``, ``decontam``, ``tokenizer``,
``context`` (a study's shared state, opened once), ``plan``, ``draw``, ``drawunits`` (each source of each
mixture drawn as a unit of work: in-process, a local pool or Ray), ``drawtask`` (a unit in its worker),
``drawfiles`` (a unit's files and its commit marker), ``gather``, ``shards``, ``folders`` (staging,
recognising our folders), ``mixture`` (one folder), ``study`` (the one entry point
:func:`build_mixtures`, and the keyword API :func:`build_mixture`), ``commands`` (the CLI; the only
module that prints).

A mixture folder holds ``tokens-NNNNN.bin`` (flat uint16/uint32, documents separated by end-of-text),
``manifest.json``, ``ids/<source>.txt`` (document ids in mixture order, repeats included),
``heldout/<source>.jsonl`` (or ``../heldout/`` in a study) and ``tokenizer.json`` for a BPE.
Read it with :func:`corpuskit.mix.shards.open_mixture`; build from Python with
:func:`corpuskit.mix.build_mixture` (one mixture) or :func:`corpuskit.mix.open_study` +
:func:`corpuskit.mix.plan_study` + :func:`corpuskit.mix.build_mixtures` (many, from one context).
"""

# The mix stage's public API (what ablate and the examples call); module layout inside may change.
from corpuskit.mix.config import DecontamSettings, MixtureConfig  # noqa: E402
from corpuskit.mix.context import StudyContext, estimate_available, open_study  # noqa: E402
from corpuskit.mix.heldout import HeldoutSettings  # noqa: E402
from corpuskit.mix.mixture import MixtureReport  # noqa: E402
from corpuskit.mix.plan import MixturePlan, MixtureSettings, plan_study  # noqa: E402
from corpuskit.mix.sampler import MixError  # noqa: E402
from corpuskit.mix.shards import Mixture, open_mixture  # noqa: E402
from corpuskit.mix.study import build_in_study, build_mixture, build_mixtures, source_tokens  # noqa: E402

__all__ = [
    "DecontamSettings",
    "HeldoutSettings",
    "MixError",
    "Mixture",
    "MixturePlan",
    "MixtureConfig",
    "MixtureReport",
    "MixtureSettings",
    "StudyContext",
    "build_in_study",
    "build_mixture",
    "build_mixtures",
    "estimate_available",
    "open_mixture",
    "open_study",
    "plan_study",
    "source_tokens",
]
