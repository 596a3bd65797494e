"""Ingest: run a source's connector over every input and commit its documents to the store.

Each input (file, folder or URL) is one unit of work: :func:`ingest_shard`, a pure function of (config,
input), writes its ``part-<key>-*.parquet`` files; the parent verifies them and writes the part's commit
record (:mod:`corpuskit.store.commits`). A run redoes every input whose commit is missing or no longer
matches its input, settings or files, so killing it at any moment and running it again yields exactly
the documents of an uninterrupted run. An input that fails (unreadable, vanished, download failed) gets a
failure record instead, the others go on, and the run ends with exit code 1; the next run retries it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpuskit.config import SourceConfig
from corpuskit.connectors.base import get_connector_class
from corpuskit.documents import shard_key
from corpuskit.environment import usable_cpus
from corpuskit.executors import StageRun
from corpuskit.ingest.inputs import (
    _input_unchanged,
    ingest_settings,
    local_path,
    output_root,
    plan_inputs,
    portable_uri,
    resolve_uri,
    source_store,
)
from corpuskit.ingest.manifest import write_source_manifest
from corpuskit.ingest.shard import MAX_ERROR_EXAMPLES, ShardResult, _done_result, ingest_shard
from corpuskit.progress import SILENT, Reporter, log
from corpuskit.store import SourceStore, atomic_write_json, remove_temp_files, source_lock
from corpuskit.store.commits import (
    clear_part,
    commit_part,
    committed_keys,
    failures,
    now,
    read_part,
    record_failure,
)
from corpuskit.store.corpus_root import local_corpus
from corpuskit.store.units import Unit, UnitFailure, run_units

__all__ = [
    "MAX_ERROR_EXAMPLES",
    "IngestSummary",
    "ShardResult",
    "ingest",
    "ingest_settings",
    "ingest_shard",
    "local_path",
    "output_root",
    "plan_inputs",
    "portable_uri",
    "resolve_uri",
    "source_store",
    "write_source_manifest",
]


@dataclass
class IngestSummary:
    source: str
    corpus: Path | str  # a local folder or the corpus URL
    results: list[ShardResult]
    seconds: float
    removed_stale: list[str]

    @property
    def documents(self) -> int:
        return sum(r.documents for r in self.results)

    @property
    def errors(self) -> Counter:
        c: Counter = Counter()
        for r in self.results:
            c.update(r.errors)
        return c

    @property
    def failed(self) -> list[ShardResult]:
        return [r for r in self.results if r.failed is not None]


def ingest(
    cfg: SourceConfig,
    *,
    force: bool = False,
    run: StageRun = StageRun(),
    progress: Reporter = SILENT,
    **run_options: Any,
) -> IngestSummary:
    """Ingest every input of ``cfg``; resumable; counts inputs and documents on ``progress``. Holds the
    source's lock throughout (:class:`SourceBusy` if taken, unless ``run.wait``). ``run_options``: fields of
    ``run`` to change (``workers=2``; default: the CPUs this process may use)."""
    run = run.replace(**run_options)
    # A broken install fails every input the same way: say so once, before anything is read or written.
    connector = get_connector_class(cfg.kind)(cfg.connector_options())
    connector.check_environment()
    root = output_root(cfg)
    with local_corpus(root, "corpuskit ingest", write=[cfg.name], wait=run.wait) as local:
        cfg = cfg.model_copy(update={"output": local}) if local != root else cfg
        store = source_store(cfg)
        with source_lock(store, "corpuskit ingest", wait=run.wait):
            options = {"workers": run.workers, "executor": run.executor, "progress": progress}
            summary = _ingest_locked(cfg, store, force=force, preload=connector.worker_modules(), **options)
    summary.corpus = root
    return summary


def _ingest_locked(
    cfg: SourceConfig,
    store: SourceStore,
    *,
    workers: int | None,
    force: bool,
    executor: str,
    progress: Reporter,
    preload: tuple[str, ...] = (),
) -> IngestSummary:
    t0 = time.perf_counter()
    workers = workers or usable_cpus()
    inputs = plan_inputs(cfg)
    keys = {shard_key(u): u for u in inputs}
    if len(keys) != len(inputs):
        raise ValueError(f"{cfg.config_path}: an input is listed twice; list each file once")
    store.documents_dir.mkdir(parents=True, exist_ok=True)
    remove_temp_files(store.documents_dir)  # left by a killed writer
    settings = ingest_settings(cfg)
    atomic_write_json(store.plan, {"inputs": keys, "settings": settings, "planned_at": now()})

    # every commit record read (and its files checked) once; None: the record or a file is not intact
    parts = {key: read_part(store, key, rows=True) for key in committed_keys(store)}
    # Parts and failures of inputs no longer in the config would silently stay: remove them.
    removed = []
    for key, part in parts.items():
        if key not in keys:
            removed.append(part.record["input"]["uri"] if part else key)
            clear_part(store, key)
    for f in failures(store):
        if f.get("key") not in keys:
            store.part_failure(str(f.get("key"))).unlink(missing_ok=True)
    _remove_orphan_files(store, {f.name for k, p in parts.items() if p and k in keys for f in p.files})

    results: list[ShardResult] = []
    todo = []
    for uri in inputs:
        key = shard_key(uri)
        part = None if force else parts.get(key)
        if (
            part is not None
            and part.record.get("settings") == settings
            and _input_unchanged(cfg, part.record, uri)
        ):
            results.append(_done_result(part.record, uri, key))
        else:
            clear_part(store, key)  # the old commit goes first: a half-redone part is never visible
            todo.append(uri)

    shards = progress.meter(f"{cfg.name}: inputs", "inputs", total=len(inputs))
    docs = progress.meter(f"{cfg.name}: documents", "docs")
    shards.advance(len(results))
    docs.advance(sum(r.documents for r in results))
    units = [Unit(shard_key(u), (cfg, u)) for u in todo]
    for key, out in run_units(
        ingest_shard, units, workers=workers, executor=executor, on_progress=docs.advance, preload=preload
    ):
        results.append(_commit(store, key, keys[key], settings, out))
        shards.advance(1)

    order = {u: i for i, u in enumerate(inputs)}
    results.sort(key=lambda r: order[r.uri])
    summary = IngestSummary(cfg.name, store.corpus, results, time.perf_counter() - t0, removed)
    write_source_manifest(cfg, summary)
    return summary


def _commit(
    store: SourceStore, key: str, uri: str, settings: str, out: ShardResult | UnitFailure
) -> ShardResult:
    """Verify a finished unit's files and write its commit record; a failed unit gets a failure record."""
    if isinstance(out, ShardResult):
        bad = [f.name for f in out.files if not f.matches(store.documents_dir / f.name, rows=True)]
        if not bad:
            commit_part(
                store,
                key,
                uri=uri,
                identity=out.identity,
                settings=settings,
                files=out.files,
                info={
                    "bytes_in": out.bytes_in,
                    "bytes_text": out.bytes_text,
                    "seconds": round(out.seconds, 3),
                    "errors": dict(sorted(out.errors.items())),
                    "error_examples": out.error_examples,
                },
            )
            log.info(f"committed {uri}: {out.documents:,} documents, {sum(out.errors.values()):,} skipped, "
                     f"{out.seconds:.2f} s")  # fmt: skip
            return out
        out = UnitFailure(key, "OutputChanged", f"part files changed before commit: {', '.join(bad)}")
    clear_part(store, key)
    record_failure(store, key, uri, out.error_class, out.message)
    log.info(f"not committed {uri}: {out.error_class}: {out.message}")
    return ShardResult(uri=uri, key=key, failed=out)


def _remove_orphan_files(store: SourceStore, named: set[str]) -> None:
    """Remove document files no intact commit names (a killed run's leftovers, or of a removed input)."""
    for p in store.documents_dir.glob("part-*.parquet"):
        if p.name not in named:
            p.unlink(missing_ok=True)
