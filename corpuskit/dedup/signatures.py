"""Stage 1 of dedup: the ``minhash`` attribute set, one signature file per document file.

Rows: ``text_hash`` (64-bit hash of the normalised text), ``n_shingles``, ``length`` and the MinHash
``minhash`` array. A file already hashed with the same signature parameters (``params.json``) is reused,
so an interrupted run resumes and a new source is compared with old ones without rehashing them. Each file
is one unit of work (local pool or Ray); the parent commits it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from corpuskit.dedup.config import DedupConfig
from corpuskit.progress import SILENT, Reporter
from corpuskit.store import MINHASH, SourceStore, attribute_current, doc_records, remove_temp_files
from corpuskit.store.atomic import atomic_write_parquet
from corpuskit.store.commits import commit_attribute, settings_hash
from corpuskit.store.units import Unit, UnitFailure, UnitsFailed, run_units


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
    from corpuskit.executors.local import report

    store = SourceStore(Path(corpus), source)
    cfg = DedupConfig.model_validate_json(cfg_json)
    docs = pl.read_parquet(store.documents_dir / doc_file, columns=["id", "text"])
    atomic_write_parquet(
        store.attribute_file(MINHASH, doc_file), signature_frame(docs["id"], docs["text"], cfg)
    )
    report(docs.height)
    return docs.height


def signature_unit_mb(cfg: DedupConfig, rows: int) -> int:
    """Memory one signature unit needs at most: its texts (~1 KB a row is generous for web pages), the
    shingle hashes of one batch and the signatures of the file."""
    return 256 + (rows * (1024 + cfg.num_perm * 4) + cfg.batch_docs * 8 * 2048) // 2**20


def ensure_signatures(
    corpus: Path | str,
    source: str,
    cfg: DedupConfig,
    progress: Reporter = SILENT,
    executor: str = "local",
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
    meter = progress.meter(f"dedup {source}: signatures", "docs", total=sum(d.rows for d in todo))
    cfg_json = cfg.model_dump_json()
    units = [Unit(d.name, (str(corpus), source, d.name, cfg_json)) for d in todo]
    memory = signature_unit_mb(cfg, max((d.rows for d in todo), default=0))
    done_docs, failed = 0, []
    for name, out in run_units(
        _signature_file,
        units,
        workers=cfg.workers,
        executor=executor,
        on_progress=meter.advance,
        memory_mb=memory,
    ):
        if isinstance(out, UnitFailure):
            failed.append(f"{source}/{name}: {out}")
        else:
            commit_attribute(store, MINHASH, docs[name], store.attribute_file(MINHASH, name), params, out)
            done_docs += out
    if failed:
        raise UnitsFailed("signatures", failed)
    return done_docs, reused
