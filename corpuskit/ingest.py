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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpuskit.config import SourceConfig
from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.documents import document_id, dumps_metadata, package_versions, shard_key, valid_text
from corpuskit.environment import usable_cpus
from corpuskit.progress import SILENT, Reporter, log
from corpuskit.store import SourceStore, atomic_write_json, remove_temp_files, source_lock
from corpuskit.store.commits import (
    FORMAT,
    FileRecord,
    clear_part,
    commit_part,
    committed_keys,
    failures,
    input_identity,
    input_unchanged,
    now,
    read_part,
    record_failure,
    settings_hash,
)
from corpuskit.store.parts import PartWriter
from corpuskit.store.units import Unit, UnitFailure, run_units

MAX_ERROR_EXAMPLES = 20  # per shard: enough to debug, bounded so records stay small
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
    files: list[FileRecord] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)
    failed: UnitFailure | None = None  # the input as a whole failed: nothing of it is committed


def output_root(cfg: SourceConfig) -> Path:
    """The corpus folder, relative paths resolved against the config file's folder."""
    out = cfg.output
    return out if out.is_absolute() else (cfg.base_dir() / out)


def source_store(cfg: SourceConfig) -> SourceStore:
    return SourceStore(output_root(cfg), cfg.name)


def ingest_settings(cfg: SourceConfig) -> str:
    """Hash of only what changes ingest's output: the name (it is in every id), kind and connector options
    with their defaults filled in. Not ``curate:``/``dedup:``/``fetch:``, so editing a threshold redoes
    nothing here."""
    options = cfg.connector_options().model_dump(mode="json")
    return settings_hash({"format": FORMAT, "name": cfg.name, "kind": cfg.kind, "options": options})


def plan_inputs(cfg: SourceConfig) -> list[str]:
    """The concrete, sorted list of inputs (globs and folders expanded); URLs are kept as URLs."""
    from corpuskit.connectors.fetch import expand_inputs

    cls = get_connector_class(cfg.kind)
    found = expand_inputs(
        cfg.inputs,
        cfg.base_dir(),
        accepts_directories=cls.accepts_directories,
        patterns=cls.default_patterns,
        storage_options=cfg.fetch.storage_options,
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


def _fetch_config(cfg: SourceConfig) -> Any:
    fetch_cfg = cfg.fetch
    if not fetch_cfg.cache_dir.is_absolute():  # the cache lives beside the config, like the output
        fetch_cfg = fetch_cfg.model_copy(update={"cache_dir": cfg.base_dir() / fetch_cfg.cache_dir})
    return fetch_cfg


def local_path(cfg: SourceConfig, uri: str) -> Path:
    """Where an input is on this machine (a URL: its place in the download cache, present or not)."""
    from corpuskit.connectors.fetch import cache_path, is_url

    resolved = resolve_uri(uri, cfg.base_dir())
    return cache_path(resolved, _fetch_config(cfg).cache_dir) if is_url(resolved) else Path(resolved)


def _input_unchanged(cfg: SourceConfig, record: dict[str, Any], uri: str) -> bool:
    """An object's cached copy may be older than the object: ask the store (one HEAD). An object that is
    gone or unreachable counts as changed, so it is redone, and fails loudly if it is still not there."""
    from corpuskit.connectors.objectstore import is_object_url, remote_identity

    if is_object_url(uri):
        old = record.get("input", {}).get("identity")
        return old is not None and old == remote_identity(uri, cfg.fetch.storage_options)
    return input_unchanged(record, local_path(cfg, uri), uri)


def ingest_shard(cfg: SourceConfig, uri: str) -> ShardResult:
    """Read one input with the source's connector and write its part files (the parent commits them).

    Bad records become counted skips; anything raised here fails the whole input (the runner records it).
    """
    from corpuskit.connectors.fetch import fetch
    from corpuskit.executors.local import report

    t0 = time.perf_counter()
    key = shard_key(uri)
    res = ShardResult(uri=uri, key=key)
    writer = PartWriter(source_store(cfg), key)

    def skip(reason: str, locator: str, detail: str) -> None:
        res.errors[reason] += 1
        if len(res.error_examples) < MAX_ERROR_EXAMPLES:
            res.error_examples.append({"file": uri, "record": locator, "reason": reason, "detail": detail})

    path = fetch(resolve_uri(uri, cfg.base_dir()), _fetch_config(cfg))
    res.identity = input_identity(path, uri)
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
        text, fixed = valid_text(item.text)
        meta, fixed_meta = valid_text(dumps_metadata(item.metadata))
        url, fixed_url = valid_text(item.url) if item.url is not None else (None, False)
        if fixed or fixed_meta or fixed_url:  # kept, repaired: Parquet (and every reader) needs UTF-8
            skip("repaired_invalid_unicode", item.locator, "lone surrogates replaced by U+FFFD")
        writer.add(
            {
                "id": doc_id,
                "source": cfg.name,
                "text": text,
                "url": url,
                "locator": locator,
                "created": item.created,
                "metadata": meta,
            }
        )
        pending += 1
        if pending >= PROGRESS_EVERY:
            report(pending)
            pending = 0
    report(pending)
    res.files = writer.finish()
    res.documents = writer.rows_written
    res.bytes_text = writer.bytes_written
    res.seconds = time.perf_counter() - t0
    return res


def _input_size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _done_result(record: dict[str, Any], uri: str, key: str) -> ShardResult:
    return ShardResult(
        uri=uri,
        key=key,
        documents=int(record.get("documents", 0)),
        bytes_in=int(record.get("bytes_in", 0)),
        bytes_text=int(record.get("bytes_text", 0)),
        skipped=True,
        errors=Counter(record.get("errors", {})),
        error_examples=list(record.get("error_examples", [])),
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

    @property
    def failed(self) -> list[ShardResult]:
        return [r for r in self.results if r.failed is not None]


def ingest(
    cfg: SourceConfig,
    *,
    workers: int | None = None,
    force: bool = False,
    executor: str = "local",
    wait: bool = False,
    progress: Reporter = SILENT,
) -> IngestSummary:
    """Ingest every input of ``cfg``; resumable; counts inputs and documents on ``progress``. Holds the
    source's lock throughout (:class:`SourceBusy` if taken)."""
    # A broken install fails every input the same way: say so once, before anything is read or written.
    get_connector_class(cfg.kind)(cfg.connector_options()).check_environment()
    store = source_store(cfg)
    with source_lock(store, "corpuskit ingest", wait=wait):
        return _ingest_locked(cfg, store, workers=workers, force=force, executor=executor, progress=progress)


def _ingest_locked(
    cfg: SourceConfig,
    store: SourceStore,
    *,
    workers: int | None,
    force: bool,
    executor: str,
    progress: Reporter,
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
        ingest_shard, units, workers=workers, executor=executor, on_progress=docs.advance
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


def write_source_manifest(cfg: SourceConfig, summary: IngestSummary) -> Path:
    """Manifest per source: config + hash, versions, per-input counts, totals and errors by reason."""
    errors = summary.errors
    manifest = {
        "source": cfg.name,
        "kind": cfg.kind,
        "config_hash": cfg.config_hash(),
        "settings": ingest_settings(cfg),
        "config": cfg.model_dump(mode="json", exclude={"config_path"}),
        "config_path": str(cfg.config_path) if cfg.config_path else None,
        "versions": package_versions(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": summary.documents,
        "bytes_in": sum(r.bytes_in for r in summary.results),
        "bytes_text": sum(r.bytes_text for r in summary.results),
        "inputs": [
            {
                "uri": r.uri,
                "key": r.key,
                "documents": r.documents,
                "errors": dict(sorted(r.errors.items())),
                **({"failed": str(r.failed)} if r.failed else {}),
            }
            for r in summary.results
        ],
        "failed_inputs": len(summary.failed),
        "errors_by_reason": dict(sorted(errors.items())),
        "error_examples": [ex for r in summary.results for ex in r.error_examples][:100],
    }
    path = SourceStore(summary.corpus, cfg.name).manifest
    atomic_write_json(path, manifest)
    return path
