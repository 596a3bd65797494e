"""The ``dedup:`` section of a source config (and the matching CLI options) as a pydantic model.

Defaults: word 5-gram shingles (FineWeb, datatrove ``MinhashConfig.n_grams``), Jaccard threshold 0.8
(the usual near-duplicate cut, e.g. text-dedup / datasketch examples), 128 permutations (datasketch's
default) and bands x rows from datasketch's ``_optimal_param`` for the threshold, unless a preset or
explicit ``bands``/``rows`` say otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from corpuskit.configs import ConfigError, validate
from corpuskit.dedup.clusters import Verify
from corpuskit.dedup.lsh import PRESETS, Banding, optimal_param, recall_param
from corpuskit.dedup.minhash import SIGNATURE_VERSION, HashMode, MinHasher
from corpuskit.dedup.shingles import ShingleSpec, Unit

KeepRule = Literal["source", "quality", "longest", "shortest", "oldest", "newest"]

#: Fields that shape the stored signatures: a change forces recomputing them (as does a new
#: ``minhash.SIGNATURE_VERSION``, stored beside them by :meth:`DedupConfig.signature_params`).
SIGNATURE_FIELDS = ("ngram", "unit", "num_perm", "seed", "hash")
#: Fields that only say how the work is spread: the output is the same whatever they are.
EXECUTION_FIELDS = ("workers", "batch_docs", "partition_mb", "partitions")


class DedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: Literal["fineweb", "datasketch"] | None = Field(
        None, description="named parameter set; explicit keys override it"
    )
    threshold: float = Field(
        0.8, gt=0, lt=1, description="Jaccard similarity above which docs are duplicates"
    )
    ngram: int = Field(5, ge=1, le=64, description="shingle size (words, or characters with unit: char)")
    unit: Unit = Field("word", description="word n-grams, or char n-grams for languages without spaces")
    num_perm: int = Field(128, ge=2, le=1024, description="MinHash permutations (signature length)")
    bands: int | None = Field(None, ge=1, description="LSH bands; default derived from threshold")
    rows: int | None = Field(None, ge=1, description="rows per band; give together with bands")
    candidate_recall: float = Field(
        0.99, gt=0, lt=1, description="with verification: chance that a pair at the threshold is a candidate"
    )
    fp_weight: float = Field(0.5, ge=0, le=1, description="false-positive weight for choosing bands x rows")
    fn_weight: float = Field(0.5, ge=0, le=1, description="false-negative weight for choosing bands x rows")
    seed: int = Field(1, ge=0, lt=2**32, description="permutation seed (datasketch's default is 1)")
    hash: HashMode = Field(
        "fast",
        description="fast (vectorised), datasketch (exact datasketch values), oph (one-permutation hashing)",
    )
    exact: bool = Field(True, description="drop exact duplicates of the normalised text first")
    near: bool = Field(True, description="run MinHash-LSH near-duplicate detection")
    verify: Verify = Field(
        "exact", description="check candidate pairs: exact (shingle sets), estimate (signatures), none"
    )
    keep: list[KeepRule] = Field(
        default_factory=lambda: ["source", "quality", "longest"],
        description="order of rules choosing the document kept per cluster (ties: smallest id)",
    )
    source_priority: list[str] = Field(
        default_factory=list, description="preferred sources first; default: the order sources are given"
    )
    workers: int = Field(1, ge=1, le=256, description="processes (or Ray tasks in flight) for every unit")
    partition_mb: int = Field(
        256, ge=1, description="band rows one LSH partition may hold (MiB): bounds each worker's memory"
    )
    partitions: int | None = Field(
        None, ge=1, le=65536, description="LSH partitions; default: as many as partition_mb requires"
    )
    batch_docs: int = Field(10_000, ge=1, description="documents hashed per vectorised batch")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset") in PRESETS:
            return {**PRESETS[data["preset"]], **data}
        return data

    @model_validator(mode="after")
    def _check_banding(self) -> DedupConfig:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they follow from threshold)")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}; "
                "raise num_perm or lower bands/rows"
            )
        return self

    def banding(self) -> Banding:
        """Explicit bands x rows; else, with verification, a high-recall S-curve (verification restores
        precision); without it, datasketch's optimal_param trade-off at the threshold."""
        if self.bands is not None and self.rows is not None:
            return Banding(self.bands, self.rows)
        if self.verify != "none":
            return Banding(*recall_param(self.threshold, self.num_perm, self.candidate_recall))
        return Banding(*optimal_param(self.threshold, self.num_perm, self.fp_weight, self.fn_weight))

    def hasher(self) -> MinHasher:
        return MinHasher(self.num_perm, self.seed, ShingleSpec(self.ngram, self.unit), self.hash)

    def decision_params(self) -> dict[str, Any]:
        """What the decisions depend on: every field but how the work is spread (workers, partitions)."""
        return self.model_dump(mode="json", exclude=set(EXECUTION_FIELDS))

    def signature_params(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in SIGNATURE_FIELDS}, "version": SIGNATURE_VERSION}


def load_dedup_config(
    data: dict[str, Any] | None, where: Path | str = "dedup options", overrides: dict[str, Any] | None = None
) -> DedupConfig:
    """Validate a ``dedup:`` section merged with CLI overrides (None values ignored); ConfigError if bad."""
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{where}: key 'dedup' must be a mapping of dedup options")
    merged = {**(data or {}), **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return validate(DedupConfig, merged, where, prefix=("dedup",))
