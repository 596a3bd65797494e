"""Stage 2 of dedup: the per-document facts, read columnar and only where they are needed.

The driver holds two columns per document (``text_hash`` u64, ``n_shingles``: 12 bytes), whatever
``num_perm`` is; the signatures stay in their files and the band and verification units read them where
they are. The facts the keep policy needs (id, source, file, length, created, quality_score?,
curated_out?, frozen_rank) are read by :func:`policy_rows` for the documents of duplicate clusters only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.configs import ConfigError
from corpuskit.store import CURATE, DEDUP, MINHASH, SourceStore, current_attribute_files, doc_records


@dataclass(frozen=True)
class SignatureFile:
    """One ``minhash`` file and where its rows sit among all rows of the run (``offset`` ..), with the
    current attribute files the keep policy reads for its documents."""

    source: str
    name: str  # the document file's name
    signatures: str  # path of the minhash attribute file
    documents: str  # path of the document file (for exact verification)
    offset: int
    rows: int
    quality: str | None = None  # attribute file with quality_score
    curate: str | None = None  # the curate attribute file
    previous: str | None = None  # a frozen source's dedup attribute file
    frozen: bool = False  # an ``against`` source: its earlier decisions win


def _quality_set(corpus: Path | str, source: str) -> str | None:
    store = SourceStore(Path(corpus), source)
    for name in store.attribute_sets():
        if name in (MINHASH, DEDUP):
            continue
        files = list(current_attribute_files(corpus, source, name).values())
        if files and "quality_score" in pl.read_parquet_schema(files[0]):
            return name
    return None


def load_source(
    corpus: Path | str, source: str, *, frozen: bool, offset: int = 0
) -> tuple[pl.DataFrame, list[SignatureFile]]:
    """Rows (text_hash, n_shingles) and the signature files, whose rows start at ``offset``. Only
    attribute files computed from the current document files are used."""
    store = SourceStore(Path(corpus), source)
    docs = doc_records(corpus, source)
    sigs_of = current_attribute_files(corpus, source, MINHASH, docs)
    missing = [d.name for d in docs if d.name not in sigs_of]
    if missing:
        raise ConfigError(
            f"source {source!r} has no current signatures for {len(missing)} file(s); dedup it first"
        )
    qset = _quality_set(corpus, source)
    quality_of = current_attribute_files(corpus, source, qset, docs) if qset else {}
    curate_of = current_attribute_files(corpus, source, CURATE, docs)
    dedup_of = current_attribute_files(corpus, source, DEDUP, docs) if frozen else {}
    frames, files = [], []
    for d in docs:
        s = pl.read_parquet(sigs_of[d.name], columns=["text_hash", "n_shingles"])
        files.append(
            SignatureFile(
                source, d.name, str(sigs_of[d.name]), str(store.documents_dir / d.name), offset, s.height,
                *(str(m[d.name]) if d.name in m else None for m in (quality_of, curate_of, dedup_of)),
                frozen,
            )
        )  # fmt: skip
        offset += s.height
        frames.append(s)
    return (pl.concat(frames) if frames else pl.DataFrame()), files


def rows_by_file(
    rows: np.ndarray, files: Sequence[SignatureFile]
) -> list[tuple[SignatureFile, np.ndarray, int]]:
    """(file, positions in it, index of its first row in ``rows``) for sorted global ``rows``."""
    starts = np.array([f.offset for f in files], dtype=np.int64)
    which = np.searchsorted(starts, rows, side="right") - 1
    out = []
    bounds = np.flatnonzero(np.diff(which)) + 1
    for lo, hi in zip([0, *bounds.tolist()], [*bounds.tolist(), len(rows)], strict=True):
        if hi > lo:
            f = files[int(which[lo])]
            out.append((f, rows[lo:hi] - f.offset, lo))
    return out


def _file_policy(f: SignatureFile) -> pl.DataFrame:
    """The keep policy's facts for every row of one file, in row order."""
    fr = pl.read_parquet(f.signatures, columns=["id", "text_hash", "n_shingles", "length"])
    meta = pl.read_parquet(f.documents, columns=["id", "created"])
    fr = fr.join(meta, on="id", how="left", maintain_order="left")
    if f.quality:
        qf = pl.read_parquet(f.quality, columns=["id", "quality_score"])
        fr = fr.join(qf, on="id", how="left", maintain_order="left")
    if f.curate:  # curation ran: a document it dropped must never be the one a cluster keeps
        cf = pl.read_parquet(f.curate, columns=["id", "curate_drop_reason"])
        fr = fr.join(cf, on="id", how="left", maintain_order="left").with_columns(
            pl.col("curate_drop_reason").is_not_null().alias("curated_out")
        )
    rank = pl.lit(2, dtype=pl.Int8)
    if f.frozen:
        if f.previous:
            pk = pl.read_parquet(f.previous, columns=["id", "dup_kept"])
            fr = fr.join(pk, on="id", how="left", maintain_order="left")
            rank = pl.when(pl.col("dup_kept").fill_null(True)).then(0).otherwise(1).cast(pl.Int8)
        else:
            rank = pl.lit(0, dtype=pl.Int8)
    return fr.with_columns(
        pl.lit(f.source).alias("source"), pl.lit(f.name).alias("file"), rank.alias("frozen_rank")
    )


def policy_rows(rows: np.ndarray, files: Sequence[SignatureFile]) -> pl.DataFrame:
    """Rows (id, source, file, text_hash, n_shingles, length, created, frozen_rank, quality_score?,
    curated_out?) of sorted global ``rows``, reading one file at a time."""
    frames = [_file_policy(f)[pos] for f, pos, _ in rows_by_file(rows, files)]
    if not frames:
        return pl.DataFrame()
    frame = pl.concat(frames, how="diagonal_relaxed")
    keep = ["id", "source", "file", "text_hash", "n_shingles", "length", "created", "frozen_rank"]
    keep += ["quality_score"] if "quality_score" in frame.columns else []
    if "curated_out" in frame.columns:
        frame = frame.with_columns(pl.col("curated_out").fill_null(False))
        keep.append("curated_out")
    return frame.select(keep)
