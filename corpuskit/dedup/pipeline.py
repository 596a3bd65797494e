"""``dedup_sources``: exact then near-duplicate removal over sources of a corpus, with stored signatures.

Stages:
1. **Signatures** (attribute set ``minhash``, one file per document file): ``text_hash`` (64-bit hash of
   the normalised text), ``n_shingles``, ``length`` and the MinHash ``minhash`` array. A file already
   hashed with the same signature parameters (``params.json``) is reused, so an interrupted run resumes
   and a new source is compared with old ones without rehashing them.
2. **Exact**: documents with the same ``text_hash`` are one group; only one representative per group
   goes on to LSH.
3. **Near**: LSH candidate pairs among representatives, optional verification, then connected
   components over exact + near edges.
4. **Decision** (attribute set ``dedup``): per cluster one document is kept by the keep policy;
   ``dup_cluster`` is the kept document's id, so clusters are comparable across sources and runs.
   Dropped documents get ``dedup_drop_reason`` ``exact_duplicate`` (same normalised text as the kept one)
   or ``near_duplicate``.

``against`` sources take part with their stored signatures but are never rewritten: their earlier
decisions win (a document kept before stays the cluster's kept one), which is how a new source is
deduplicated against an already deduplicated corpus.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.configs import ConfigError
from corpuskit.dedup.clusters import (
    candidate_pairs,
    components,
    estimated_jaccard,
    exact_jaccard,
    sorted_unique,
)
from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.minhash import batch_bounds
from corpuskit.dedup.overlap import overlap_file, overlap_matrix, save_overlap
from corpuskit.dedup.policy import choose_kept
from corpuskit.dedup.shingles import ShingleSpec, normalize, shingle_hashes
from corpuskit.store import (
    CURATE,
    DEDUP,
    MINHASH,
    SourceStore,
    attribute_current,
    current_attribute_files,
    doc_records,
    list_sources,
    remove_temp_files,
    require_complete,
    source_locks,
    write_attributes,
)
from corpuskit.store.atomic import atomic_write_parquet
from corpuskit.store.commits import commit_attribute, settings_hash
from corpuskit.store.units import Unit, UnitFailure, UnitsFailed, run_units

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _noop(stage: str, done: int, total: int) -> None:
    return None


# ---------------------------------------------------------------------------------------------- signatures


def signature_frame(ids: pl.Series, texts: pl.Series, cfg: DedupConfig) -> pl.DataFrame:
    """The ``minhash`` attribute rows for a batch of documents."""
    sig, hashes, counts = cfg.hasher().signatures(texts, cfg.batch_docs)
    return pl.DataFrame(
        [
            ids.alias("id"),
            pl.Series("text_hash", hashes, dtype=pl.UInt64),
            pl.Series("n_shingles", counts, dtype=pl.UInt32),
            pl.Series("length", texts.fill_null("").str.len_chars(), dtype=pl.UInt32),
            pl.Series("minhash", sig, dtype=pl.Array(pl.UInt32, cfg.num_perm)),
        ]
    )


def _signature_file(corpus: str, source: str, doc_file: str, cfg_json: str) -> int:
    """Unit of work: hash one document file into its ``minhash`` attribute file (the parent commits it)."""
    store = SourceStore(Path(corpus), source)
    cfg = DedupConfig.model_validate_json(cfg_json)
    docs = pl.read_parquet(store.documents_dir / doc_file, columns=["id", "text"])
    atomic_write_parquet(
        store.attribute_file(MINHASH, doc_file), signature_frame(docs["id"], docs["text"], cfg)
    )
    return docs.height


def ensure_signatures(
    corpus: Path | str, source: str, cfg: DedupConfig, progress: Progress = _noop
) -> tuple[int, int]:
    """Compute the ``minhash`` files of a source that are missing or stale (another version of the
    document file, or other signature parameters); returns (documents hashed, files reused). Raises
    :class:`UnitsFailed` naming the files that could not be hashed (the others are committed)."""
    store = SourceStore(Path(corpus), source)
    remove_temp_files(store.attributes_dir(MINHASH))
    params = settings_hash(cfg.signature_params())
    docs = {d.name: d for d in doc_records(corpus, source)}
    todo = [d for d in docs.values() if not attribute_current(store, MINHASH, d, params)]
    reused = len(docs) - len(todo)
    progress(f"signatures {source}", 0, len(todo))
    cfg_json = cfg.model_dump_json()
    units = [Unit(d.name, (str(corpus), source, d.name, cfg_json)) for d in todo]
    done_docs, failed = 0, []
    for i, (name, out) in enumerate(run_units(_signature_file, units, workers=cfg.workers), 1):
        if isinstance(out, UnitFailure):
            failed.append(f"{source}/{name}: {out}")
        else:
            commit_attribute(store, MINHASH, docs[name], store.attribute_file(MINHASH, name), params, out)
            done_docs += out
        progress(f"signatures {source}", i, len(todo))
    if failed:
        raise UnitsFailed("signatures", failed)
    return done_docs, reused


# ---------------------------------------------------------------------------------------------- loading


def _quality_set(corpus: Path | str, source: str) -> str | None:
    store = SourceStore(Path(corpus), source)
    for name in store.attribute_sets():
        if name in (MINHASH, DEDUP):
            continue
        files = list(current_attribute_files(corpus, source, name).values())
        if files and "quality_score" in pl.read_parquet_schema(files[0]):
            return name
    return None


def load_source(corpus: Path | str, source: str, *, frozen: bool) -> tuple[pl.DataFrame, np.ndarray]:
    """Rows (id, source, file, text_hash, n_shingles, length, created, quality_score?, curated_out?,
    frozen_rank) and signatures. Only attribute files computed from the current document files are used."""
    store = SourceStore(Path(corpus), source)
    docs = doc_records(corpus, source)
    sigs_of = current_attribute_files(corpus, source, MINHASH, docs)
    missing = [d.name for d in docs if d.name not in sigs_of]
    if missing:
        raise ConfigError(
            f"source {source!r} has no current signatures for {len(missing)} file(s); dedup it first"
        )
    frames, sigs = [], []
    qset = _quality_set(corpus, source)
    quality_of = current_attribute_files(corpus, source, qset, docs) if qset else {}
    curate_of = current_attribute_files(corpus, source, CURATE, docs)
    dedup_of = current_attribute_files(corpus, source, DEDUP, docs) if frozen else {}
    for d in docs:
        s = pl.read_parquet(sigs_of[d.name])
        sigs.append(s["minhash"].to_numpy())
        meta = pl.read_parquet(store.documents_dir / d.name, columns=["id", "created"])
        fr = s.drop("minhash").join(meta, on="id", how="left", maintain_order="left")
        if d.name in quality_of:
            qf = pl.read_parquet(quality_of[d.name], columns=["id", "quality_score"])
            fr = fr.join(qf, on="id", how="left", maintain_order="left")
        if d.name in curate_of:  # curation ran: a document it dropped must never be the one a cluster keeps
            cf = pl.read_parquet(curate_of[d.name], columns=["id", "curate_drop_reason"])
            fr = fr.join(cf, on="id", how="left", maintain_order="left").with_columns(
                pl.col("curate_drop_reason").is_not_null().alias("curated_out")
            )
        rank = pl.lit(2, dtype=pl.Int8)
        if frozen:
            if d.name in dedup_of:
                pk = pl.read_parquet(dedup_of[d.name], columns=["id", "dup_kept"])
                fr = fr.join(pk, on="id", how="left", maintain_order="left")
                rank = pl.when(pl.col("dup_kept").fill_null(True)).then(0).otherwise(1).cast(pl.Int8)
            else:
                rank = pl.lit(0, dtype=pl.Int8)
        frames.append(
            fr.with_columns(
                pl.lit(source).alias("source"), pl.lit(d.name).alias("file"), rank.alias("frozen_rank")
            )
        )
    if not frames:
        return pl.DataFrame(), np.zeros((0, 0), dtype=np.uint32)
    frame = pl.concat(frames, how="diagonal_relaxed")
    keep = ["id", "source", "file", "text_hash", "n_shingles", "length", "created", "frozen_rank"]
    keep += ["quality_score"] if "quality_score" in frame.columns else []
    if "curated_out" in frame.columns:
        frame = frame.with_columns(pl.col("curated_out").fill_null(False))
        keep.append("curated_out")
    return frame.select(keep), np.concatenate(sigs)


# ---------------------------------------------------------------------------------------------- clustering


@dataclass
class ClusterStats:
    candidate_pairs: int = 0
    verified_pairs: int = 0
    representatives: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Clustering:
    """Cluster labels plus the evidence: each row's exact-duplicate root and the accepted near edges."""

    labels: np.ndarray
    exact_root: np.ndarray
    near_u: np.ndarray
    near_v: np.ndarray
    stats: ClusterStats


def cluster_rows(
    text_hash: np.ndarray,
    n_shingles: np.ndarray,
    sig: np.ndarray,
    cfg: DedupConfig,
    shingles_of: Callable[[np.ndarray], pl.DataFrame] | None = None,
    progress: Progress = _noop,
) -> Clustering:
    """Cluster label per row (smallest row of its cluster) from exact hashes and signatures.

    ``shingles_of(rows)`` must return a frame (d = position in ``rows``, h = shingle hash) when
    ``cfg.verify == "exact"``. Rows without shingles (empty text) stay alone.
    """
    n = len(text_hash)
    stats = ClusterStats()
    rows = np.arange(n, dtype=np.int64)
    nonempty = n_shingles > 0
    if cfg.exact:
        f = pl.DataFrame({"h": text_hash, "r": rows}).with_columns(pl.col("r").min().over("h").alias("root"))
        root = f["root"].to_numpy()
        root = np.where(nonempty, root, rows)
    else:
        root = rows
    ex_u, ex_v = rows[root != rows], root[root != rows]
    reps = rows[(root == rows) & nonempty]
    stats.representatives = len(reps)
    near_u = near_v = np.zeros(0, dtype=np.int64)
    if cfg.near and len(reps) > 1:
        t0 = time.perf_counter()
        banding = cfg.banding()
        pairs = candidate_pairs(
            sig[reps],
            banding,
            all_pairs=cfg.verify != "none",
            on_band=lambda b: progress("LSH bands", b + 1, banding.bands),
        )
        pu, pv = pairs["u"].to_numpy().astype(np.int64), pairs["v"].to_numpy().astype(np.int64)
        stats.candidate_pairs = len(pu)
        stats.seconds["lsh"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if cfg.verify == "estimate":
            ok = estimated_jaccard(sig[reps], pu, pv) >= cfg.threshold
            pu, pv = pu[ok], pv[ok]
        elif cfg.verify == "exact" and len(pu):
            if shingles_of is None:
                raise ValueError("verify='exact' needs the documents' texts")
            involved = sorted_unique(np.concatenate([pu, pv]))
            sh = shingles_of(reps[involved])
            local = np.searchsorted(involved, np.concatenate([pu, pv]))
            ok = exact_jaccard(sh, local[: len(pu)], local[len(pu) :]) >= cfg.threshold
            pu, pv = pu[ok], pv[ok]
        stats.verified_pairs = len(pu)
        stats.seconds["verify"] = time.perf_counter() - t0
        near_u, near_v = reps[pu], reps[pv]
    labels = components(n, np.concatenate([ex_u, near_u]), np.concatenate([ex_v, near_v]))
    return Clustering(labels, root, near_u, near_v, stats)


def shingle_table(texts: pl.Series, spec: ShingleSpec) -> pl.DataFrame:
    """(d, h) rows: the 64-bit shingle hashes of each text, for exact Jaccard verification."""
    norm = normalize(texts)
    lengths = norm.str.len_chars().fill_null(0).to_numpy()
    parts = []
    for lo, hi in batch_bounds(lengths, 1 << 30):
        h, offsets, _ = shingle_hashes(norm.slice(lo, hi - lo), spec)
        d = np.repeat(np.arange(lo, hi, dtype=np.uint32), np.diff(offsets))
        parts.append(pl.DataFrame({"d": d, "h": h}))
    return pl.concat(parts) if parts else pl.DataFrame(schema={"d": pl.UInt32, "h": pl.UInt64})


def decide(
    frame: pl.DataFrame, labels: np.ndarray, cfg: DedupConfig, priority: Sequence[str]
) -> pl.DataFrame:
    """Add dup_cluster (kept id), dup_cluster_size, dup_kept and dedup_drop_reason to ``frame``."""
    f = frame.with_columns(pl.Series("cluster", labels))
    f = choose_kept(f, cfg.keep, priority)
    kept_id = f["id"].gather(f["kept_row"])
    kept_hash = f["text_hash"].gather(f["kept_row"])
    return f.with_columns(
        kept_id.alias("dup_cluster"),
        pl.len().over("cluster").cast(pl.UInt32).alias("dup_cluster_size"),
        pl.when(pl.col("dup_kept"))
        .then(None)
        .when(pl.lit(cfg.exact) & (pl.col("text_hash") == kept_hash))
        .then(pl.lit("exact_duplicate"))
        .otherwise(pl.lit("near_duplicate"))
        .alias("dedup_drop_reason"),
    )


# ---------------------------------------------------------------------------------------------- run


@dataclass
class DedupResult:
    per_source: dict[str, dict[str, int]]
    clusters: int
    stats: ClusterStats
    overlap: dict[str, Any]
    seconds: dict[str, float]
    banding: tuple[int, int]


def dedup_sources(
    corpus: Path | str,
    sources: Sequence[str],
    cfg: DedupConfig,
    *,
    against: Sequence[str] = (),
    progress: Progress = _noop,
    overlap_path: Path | None = None,
    allow_incomplete: bool = False,
    wait: bool = False,
) -> DedupResult:
    """Deduplicate ``sources`` (within and across them, and against ``against``); write ``dedup`` sets.

    Holds the lock of every source it writes (``against`` sources: a shared lock, they are only read);
    refuses sources with failed or missing inputs unless ``allow_incomplete``."""
    corpus = Path(corpus)
    known = set(list_sources(corpus))
    for s in [*sources, *against]:
        if s not in known:
            raise ConfigError(
                f"source {s!r} not found in corpus {corpus} (have: {', '.join(sorted(known)) or 'none'})"
            )
    against = [s for s in against if s not in sources]
    for s in [*sources, *against]:
        require_complete(corpus, s, stage="dedup", allow_incomplete=allow_incomplete)
    stores = [SourceStore(corpus, s) for s in sources]
    with source_locks(stores, "corpuskit dedup", wait=wait, shared=[SourceStore(corpus, s) for s in against]):
        return _dedup_locked(corpus, sources, cfg, against, progress, overlap_path)


def _dedup_locked(
    corpus: Path,
    sources: Sequence[str],
    cfg: DedupConfig,
    against: Sequence[str],
    progress: Progress,
    overlap_path: Path | None,
) -> DedupResult:
    seconds: dict[str, float] = {}
    per_source: dict[str, dict[str, int]] = {}

    t0 = time.perf_counter()
    for s in [*sources, *against]:
        hashed, reused = ensure_signatures(corpus, s, cfg, progress)
        per_source[s] = {"hashed": hashed, "reused_files": reused}
    seconds["signatures"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    loaded = [load_source(corpus, s, frozen=s in against) for s in [*sources, *against]]
    loaded = [(f, g) for f, g in loaded if f.height]
    frame = pl.concat([f for f, _ in loaded], how="diagonal_relaxed") if loaded else pl.DataFrame()
    sig = np.concatenate([g for _, g in loaded]) if loaded else np.zeros((0, cfg.num_perm), np.uint32)
    seconds["load"] = time.perf_counter() - t0
    if frame.height == 0:
        return DedupResult(per_source, 0, ClusterStats(), {}, seconds, (0, 0))

    def shingles_of(rows: np.ndarray) -> pl.DataFrame:
        want = frame[rows].select("id", "source", "file").with_row_index("d")
        texts = []
        for (src, fname), grp in want.group_by(["source", "file"], maintain_order=True):
            doc = SourceStore(corpus, src).documents_dir / fname
            t = pl.read_parquet(doc, columns=["id", "text"]).join(grp.select("id", "d"), on="id")
            texts.append(t)
        allt = pl.concat(texts).sort("d")
        tab = shingle_table(allt["text"], cfg.hasher().spec)
        return tab.with_columns(pl.Series("d", allt["d"].to_numpy()[tab["d"].to_numpy()], dtype=pl.UInt32))

    t0 = time.perf_counter()
    clustering = cluster_rows(
        frame["text_hash"].to_numpy(), frame["n_shingles"].to_numpy(), sig, cfg, shingles_of, progress
    )
    labels, stats = clustering.labels, clustering.stats
    del sig
    seconds["cluster"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    priority = cfg.source_priority or [*sources, *against]
    decided = decide(frame, labels, cfg, priority)
    out_cols = ["id", "dup_cluster", "dup_cluster_size", "dup_kept", "dedup_drop_reason"]
    targets = decided.filter(pl.col("source").is_in(list(sources)))
    groups = targets.group_by(["source", "file"], maintain_order=True)
    n_files = targets.select(pl.struct("source", "file").n_unique()).item()
    records = {s: {d.name: d for d in doc_records(corpus, s)} for s in sources}
    params = settings_hash({"dedup": cfg.model_dump(mode="json"), "sources": sorted([*sources, *against])})
    for i, ((src, fname), grp) in enumerate(groups, 1):
        write_attributes(SourceStore(corpus, src), DEDUP, records[src][fname], grp.select(out_cols), params)
        progress("write", i, n_files)
    counts = (
        decided.group_by("source")
        .agg(
            pl.len().alias("documents"),
            (pl.col("n_shingles") == 0).sum().alias("empty"),
            (pl.col("dedup_drop_reason") == "exact_duplicate").sum().alias("exact_duplicate"),
            (pl.col("dedup_drop_reason") == "near_duplicate").sum().alias("near_duplicate"),
            pl.col("dup_kept").sum().alias("kept"),
        )
        .sort("source")
    )
    for r in counts.iter_rows(named=True):
        per_source[r.pop("source")].update({k: int(v) for k, v in r.items()})
    seconds["decide"] = time.perf_counter() - t0

    overlap = overlap_matrix(
        decided.select(
            "source",
            pl.col("dup_cluster").alias("cluster"),
            pl.when(pl.col("n_shingles") > 0).then(pl.col("text_hash")).alias("text_hash"),
        )
    )
    if overlap_path is None:
        overlap_path = overlap_file(corpus)
    save_overlap(overlap_path, overlap)
    clusters = decided.filter(pl.col("dup_cluster_size") > 1)["dup_cluster"].n_unique()
    b = cfg.banding()
    return DedupResult(per_source, int(clusters), stats, overlap, seconds, (b.bands, b.rows))
