"""Exact and near-duplicate removal (MinHash-LSH) within and across sources, and cross-source overlap."""

from corpuskit.dedup.config import DedupConfig, load_dedup_config
from corpuskit.dedup.overlap import overlap_for_corpus, render_overlap
from corpuskit.dedup.pipeline import dedup_sources

__all__ = ["DedupConfig", "dedup_sources", "load_dedup_config", "overlap_for_corpus", "render_overlap"]
