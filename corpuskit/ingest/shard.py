"""One input, one unit of work: read it with the source's connector and write its part files, counting
skipped records by reason (the parent verifies and commits; see :mod:`corpuskit.ingest`)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpuskit.config import SourceConfig
from corpuskit.connectors.base import Record, Skip, get_connector_class
from corpuskit.documents import document_id, dumps_metadata, shard_key, valid_text
from corpuskit.ingest.inputs import _fetch_config, resolve_uri, source_store
from corpuskit.store.commits import (
    FileRecord,
    input_identity,
)
from corpuskit.store.parts import PartWriter
from corpuskit.store.units import UnitFailure

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
