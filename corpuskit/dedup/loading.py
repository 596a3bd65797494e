"""Stage 2 of dedup: the per-document facts the decision needs, read without the signatures.

The driver holds one row per document (id, source, file, text_hash, n_shingles, length, created,
quality_score?, curated_out?, frozen_rank): about 60 bytes plus the id, whatever ``num_perm`` is. The
signatures stay in their files; the band and verification units read them where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from corpuskit.configs import ConfigError
from corpuskit.store import CURATE, DEDUP, MINHASH, SourceStore, current_attribute_files, doc_records


@dataclass(frozen=True)
class SignatureFile:
    """One ``minhash`` file and where its rows sit among all rows of the run (``offset`` ..)."""

    source: str
    name: str  # the document file's name
    signatures: str  # path of the minhash attribute file
    documents: str  # path of the document file (for exact verification)
    offset: int
    rows: int


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
    """Rows (id, source, file, text_hash, n_shingles, length, created, quality_score?, curated_out?,
    frozen_rank) and the signature files, whose rows start at ``offset``. Only attribute files computed
    from the current document files are used."""
    store = SourceStore(Path(corpus), source)
    docs = doc_records(corpus, source)
    sigs_of = current_attribute_files(corpus, source, MINHASH, docs)
    missing = [d.name for d in docs if d.name not in sigs_of]
    if missing:
        raise ConfigError(
            f"source {source!r} has no current signatures for {len(missing)} file(s); dedup it first"
        )
    frames, files = [], []
    qset = _quality_set(corpus, source)
    quality_of = current_attribute_files(corpus, source, qset, docs) if qset else {}
    curate_of = current_attribute_files(corpus, source, CURATE, docs)
    dedup_of = current_attribute_files(corpus, source, DEDUP, docs) if frozen else {}
    for d in docs:
        s = pl.read_parquet(sigs_of[d.name], columns=["id", "text_hash", "n_shingles", "length"])
        doc_path = store.documents_dir / d.name
        files.append(SignatureFile(source, d.name, str(sigs_of[d.name]), str(doc_path), offset, s.height))
        offset += s.height
        meta = pl.read_parquet(doc_path, columns=["id", "created"])
        fr = s.join(meta, on="id", how="left", maintain_order="left")
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
        return pl.DataFrame(), files
    frame = pl.concat(frames, how="diagonal_relaxed")
    keep = ["id", "source", "file", "text_hash", "n_shingles", "length", "created", "frozen_rank"]
    keep += ["quality_score"] if "quality_score" in frame.columns else []
    if "curated_out" in frame.columns:
        frame = frame.with_columns(pl.col("curated_out").fill_null(False))
        keep.append("curated_out")
    return frame.select(keep), files
