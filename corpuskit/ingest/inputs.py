"""A source's inputs: where its corpus is, which inputs it has (globs, folders, URLs, objects), where each
is on this machine, and whether one changed since it was committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpuskit.config import SourceConfig
from corpuskit.connectors.base import get_connector_class
from corpuskit.store import SourceStore
from corpuskit.store.commits import (
    FORMAT,
    input_unchanged,
    settings_hash,
)


def output_root(cfg: SourceConfig) -> Path | str:
    """The corpus folder, relative paths resolved against the config file's folder (a URL as it is)."""
    out = cfg.output
    if isinstance(out, str):
        return out
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
