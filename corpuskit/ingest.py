"""Ingest: run a source's connector over every input shard and write documents to the corpus.

Each input (file, folder or URL) is one shard, processed by :func:`ingest_shard`, a pure function of
(config, input) that writes ``part-<key>-*.parquet`` and then the ``part-<key>.done`` marker. A run skips
shards whose marker exists for the same config, so killing it at any moment and running it again yields
exactly the documents of an uninterrupted run: a shard is either complete (marker) or redone from scratch.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpuskit.config import SourceConfig
from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.documents import (
    PartWriter,
    atomic_write_json,
    clear_part,
    document_id,
    documents_dir,
    list_parts,
    manifest_path,
    marker_path,
    package_versions,
    shard_key,
)
from corpuskit.executors import get_executor
from corpuskit.executors.local import report as executor_report

MAX_ERROR_EXAMPLES = 20  # per shard: enough to debug, bounded so markers stay small
PROGRESS_EVERY = 200  # records between progress messages from a worker


@dataclass
class ShardResult:
    uri: str
    key: str
    documents: int = 0
    bytes_in: int = 0
    bytes_text: int = 0
    seconds: float = 0.0
    skipped: bool = False  # already done by an earlier run
    errors: Counter = field(default_factory=Counter)
    error_examples: list[dict[str, str]] = field(default_factory=list)


def output_root(cfg: SourceConfig) -> Path:
    """The corpus folder, relative paths resolved against the config file's folder."""
    out = cfg.output
    return out if out.is_absolute() else (cfg.base_dir() / out)


def plan_inputs(cfg: SourceConfig) -> list[str]:
    """The concrete, sorted list of inputs (globs and folders expanded); URLs are kept as URLs."""
    from corpuskit.connectors.fetch import expand_inputs

    cls = get_connector_class(cfg.kind)
    found = expand_inputs(
        cfg.inputs,
        cfg.base_dir(),
        accepts_directories=cls.accepts_directories,
        patterns=cls.default_patterns,
    )
    return [portable_uri(u, cfg.base_dir()) for u in found]


def portable_uri(uri: str, base: Path) -> str:
    """Local inputs under the config's folder are named relative to it, so document ids (which hash the
    locator) survive moving the project; URLs and paths elsewhere stay as they are."""
    if "://" in uri:
        return uri
    try:
        return Path(uri).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return uri


def resolve_uri(uri: str, base: Path) -> str:
    if "://" in uri or Path(uri).is_absolute():
        return uri
    return str(base / uri)


def ingest_shard(cfg: SourceConfig, uri: str, report: Callable[[int], None] | None = None) -> ShardResult:
    """Read one input with the source's connector and write its part + completion marker."""
    from corpuskit.connectors.fetch import fetch

    report = report or executor_report
    t0 = time.perf_counter()
    key = shard_key(uri)
    res = ShardResult(uri=uri, key=key)
    ddir = documents_dir(output_root(cfg), cfg.name)
    writer = PartWriter(ddir, key)

    def skip(reason: str, locator: str, detail: str) -> None:
        res.errors[reason] += 1
        if len(res.error_examples) < MAX_ERROR_EXAMPLES:
            res.error_examples.append({"file": uri, "record": locator, "reason": reason, "detail": detail})

    try:
        fetch_cfg = cfg.fetch
        if not fetch_cfg.cache_dir.is_absolute():  # the cache lives beside the config, like the output
            fetch_cfg = fetch_cfg.model_copy(update={"cache_dir": cfg.base_dir() / fetch_cfg.cache_dir})
        path = fetch(resolve_uri(uri, cfg.base_dir()), fetch_cfg)
        res.bytes_in = _input_size(path)
        connector = get_connector_class(cfg.kind)(cfg.connector_options())
        seen: set[str] = set()
        pending = 0
        for item in connector.read(path, uri):
            if isinstance(item, Skip):
                skip(item.reason, item.locator, item.detail)
                continue
            assert isinstance(item, Record)
            locator = f"{uri}#{item.locator}"
            doc_id = document_id(cfg.name, locator)
            if doc_id in seen:  # a connector bug or a repeated record: never write an id twice
                skip("duplicate_locator", item.locator, "the same record locator appeared twice")
                continue
            seen.add(doc_id)
            writer.add(
                {
                    "id": doc_id,
                    "source": cfg.name,
                    "text": item.text,
                    "url": item.url,
                    "locator": locator,
                    "created": item.created,
                    "metadata": item.metadata,
                }
            )
            pending += 1
            if pending >= PROGRESS_EVERY:
                report(pending)
                pending = 0
        report(pending)
    except Exception as e:  # the input as a whole failed (download, unreadable file): count, keep going
        skip("input_failed", "", f"{type(e).__name__}: {e}")
    res.seconds = time.perf_counter() - t0
    writer.finish(
        {
            "uri": uri,
            "config_hash": cfg.config_hash(),
            "bytes_in": res.bytes_in,
            "seconds": round(res.seconds, 3),
            "errors": dict(sorted(res.errors.items())),
            "error_examples": res.error_examples,
        }
    )
    res.documents = writer.rows_written
    res.bytes_text = writer.bytes_written
    return res


def _input_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _done_result(part_marker: dict[str, Any], uri: str, key: str) -> ShardResult:
    return ShardResult(
        uri=uri,
        key=key,
        documents=int(part_marker.get("documents", 0)),
        bytes_in=int(part_marker.get("bytes_in", 0)),
        bytes_text=int(part_marker.get("bytes_text", 0)),
        skipped=True,
        errors=Counter(part_marker.get("errors", {})),
        error_examples=list(part_marker.get("error_examples", [])),
    )


@dataclass
class IngestSummary:
    source: str
    corpus: Path
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


def ingest(
    cfg: SourceConfig,
    *,
    workers: int | None = None,
    force: bool = False,
    executor: str = "local",
    on_progress: Callable[[str, int], None] | None = None,
) -> IngestSummary:
    """Ingest every input of ``cfg``; resumable. ``on_progress(kind, n)``: kind is "inputs" (the total, once),
    "shards" or "docs" (increments)."""
    t0 = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    # A broken install fails every input the same way: say so once, before anything is read or written.
    get_connector_class(cfg.kind)(cfg.connector_options()).check_environment()
    inputs = plan_inputs(cfg)
    corpus = output_root(cfg)
    ddir = documents_dir(corpus, cfg.name)
    ddir.mkdir(parents=True, exist_ok=True)
    chash = cfg.config_hash()
    keys = {shard_key(u): u for u in inputs}
    if len(keys) != len(inputs):
        raise ValueError(f"{cfg.config_path}: an input is listed twice; list each file once")

    # Parts from inputs no longer in the config would silently stay in the corpus: remove them.
    removed = []
    for part in list_parts(corpus, cfg.name):
        if part.key not in keys:
            marker_path(corpus, cfg.name, part.key).unlink()
            clear_part(ddir, part.key)
            removed.append(part.marker.get("uri", part.key))

    done = {p.key: p.marker for p in list_parts(corpus, cfg.name)}
    results: list[ShardResult] = []
    todo = []
    for uri in inputs:
        key = shard_key(uri)
        marker = done.get(key)
        if marker is not None and not force and marker.get("config_hash") == chash:
            results.append(_done_result(marker, uri, key))
        else:
            if marker is not None:
                marker_path(corpus, cfg.name, key).unlink()
            todo.append(uri)

    progress = on_progress or (lambda kind, n: None)
    progress("inputs", len(inputs))
    progress("shards", len(results))
    progress("docs", sum(r.documents for r in results))
    if workers <= 1 or len(todo) <= 1:  # in-process: simpler to debug, and progress is direct
        for uri in todo:
            results.append(ingest_shard(cfg, uri, report=lambda n: progress("docs", n)))
            progress("shards", 1)
    else:
        run = get_executor(executor)
        for r in run(ingest_shard, [(cfg, uri) for uri in todo], workers, lambda n: progress("docs", n)):
            results.append(r)
            progress("shards", 1)

    order = {u: i for i, u in enumerate(inputs)}
    results.sort(key=lambda r: order[r.uri])
    summary = IngestSummary(cfg.name, corpus, results, time.perf_counter() - t0, removed)
    write_source_manifest(cfg, summary)
    return summary


def write_source_manifest(cfg: SourceConfig, summary: IngestSummary) -> Path:
    """Manifest per source: config + hash, versions, per-input counts, totals and errors by reason."""
    errors = summary.errors
    manifest = {
        "source": cfg.name,
        "kind": cfg.kind,
        "config_hash": cfg.config_hash(),
        "config": cfg.model_dump(mode="json", exclude={"config_path"}),
        "config_path": str(cfg.config_path) if cfg.config_path else None,
        "versions": package_versions(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": summary.documents,
        "bytes_in": sum(r.bytes_in for r in summary.results),
        "bytes_text": sum(r.bytes_text for r in summary.results),
        "inputs": [
            {"uri": r.uri, "key": r.key, "documents": r.documents, "errors": dict(sorted(r.errors.items()))}
            for r in summary.results
        ],
        "errors_by_reason": dict(sorted(errors.items())),
        "error_examples": [ex for r in summary.results for ex in r.error_examples][:100],
    }
    path = manifest_path(summary.corpus, cfg.name)
    atomic_write_json(path, manifest)
    return path
