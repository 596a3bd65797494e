"""Reading a source: its committed documents joined (by ``id``) with its current attribute sets.

An attribute file is joined only if its commit record says it was computed from the document file as it
is now (same digest): attributes of a re-ingested part are never trusted, and a set that is not current
for every file is reported by :func:`stale_sets` so stages can refuse to build on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from corpuskit.configs import ConfigError
from corpuskit.documents import empty_frame
from corpuskit.store.atomic import read_json
from corpuskit.store.commits import FileRecord, Part, attribute_current, failures, list_parts
from corpuskit.store.layout import SourceStore
from corpuskit.store.units import bullets


class IncompleteSource(ConfigError):
    """A stage was asked to build on a source that has failed, missing or out-of-date units."""


def doc_records(corpus: Path | str, source: str) -> list[FileRecord]:
    """Every committed document file of a source (name, rows, size, digest), in part order."""
    return [fr for part in list_parts(corpus, source) for fr in part.file_records]


def current_attribute_files(
    corpus: Path | str, source: str, set_name: str, docs: Iterable[FileRecord] | None = None
) -> dict[str, Path]:
    """Document file name -> its attribute file in ``set_name``, for the files where that is current."""
    store = SourceStore(Path(corpus), source)
    docs = doc_records(corpus, source) if docs is None else docs
    return {
        d.name: store.attribute_file(set_name, d.name) for d in docs if attribute_current(store, set_name, d)
    }


def stale_sets(corpus: Path | str, source: str) -> dict[str, int]:
    """Attribute sets that exist but are not current for every document file: set -> files out of date."""
    store = SourceStore(Path(corpus), source)
    docs = doc_records(corpus, source)
    out = {}
    for name in store.attribute_sets():
        n = sum(not attribute_current(store, name, d) for d in docs)
        if n:
            out[name] = n
    return out


def incomplete_units(corpus: Path | str, source: str) -> list[str]:
    """Why the source's documents are not the whole of its inputs: one line per failed or missing unit."""
    store = SourceStore(Path(corpus), source)
    failed_units = failures(store)
    lines = [f"{f['uri']}: failed ({f['class']}: {f['message']})" for f in failed_units]
    failed = {f["key"] for f in failed_units}
    plan = read_json(store.plan)
    if isinstance(plan, dict):
        done = {p.key for p in list_parts(corpus, source)}
        for key, uri in sorted(plan.get("inputs", {}).items(), key=lambda kv: kv[1]):
            if key not in done and key not in failed:
                lines.append(f"{uri}: not ingested yet (interrupted run?)")
    return lines


def require_complete(
    corpus: Path | str, source: str, *, stage: str, allow_incomplete: bool = False, sets: Iterable[str] = ()
) -> None:
    """Refuse (:class:`IncompleteSource`, exit 2) to build on a source with failed or missing inputs, or
    with attribute sets in ``sets`` that are out of date, unless ``allow_incomplete``."""
    store = SourceStore(Path(corpus), source)
    if not store.documents_dir.is_dir():
        raise IncompleteSource(
            f"source {source!r} has not been ingested into {corpus}; run `corpuskit ingest` first"
        )
    if allow_incomplete:
        return
    lines = incomplete_units(corpus, source)
    stale = {k: v for k, v in stale_sets(corpus, source).items() if k in set(sets)}
    lines += [
        f"attribute set '{k}' is out of date for {n} document file(s) (re-ingested since)"
        for k, n in stale.items()
    ]
    if lines:
        raise IncompleteSource(
            f"source {source!r} is incomplete, so `{stage}` will not build on it:{bullets(lines)}\n"
            "fix the cause and rerun the earlier stage (only what is missing is redone), "
            "or pass --allow-incomplete to go on with what is there"
        )


def scan_documents(
    corpus: Path | str,
    source: str,
    *,
    attributes: Iterable[str] | None = None,
    kept_only: bool = False,
) -> pl.LazyFrame:
    """Lazy frame of a source's committed documents, joined (by ``id``) with its current attribute sets.

    ``attributes=None`` joins every set present. ``kept_only`` drops rows where any ``*_drop_reason``
    column is non-null; the combined first reason is exposed as ``drop_reason``.
    """
    parts = list_parts(corpus, source)
    docs = [fr for p in parts for fr in p.file_records]
    return _join(corpus, source, _files(parts), docs, attributes, kept_only)


def scan_file(
    corpus: Path | str,
    source: str,
    document_file: Path,
    *,
    attributes: Iterable[str] | None = None,
    kept_only: bool = False,
) -> pl.LazyFrame:
    """Like :func:`scan_documents` for one committed document file."""
    docs = [d for d in doc_records(corpus, source) if d.name == Path(document_file).name]
    return _join(corpus, source, [Path(document_file)], docs, attributes, kept_only)


def _files(parts: list[Part]) -> list[Path]:
    return [f for p in parts for f in p.files]


def _join(
    corpus: Path | str,
    source: str,
    files: list[Path],
    docs: list[FileRecord],
    attributes: Iterable[str] | None,
    kept_only: bool,
) -> pl.LazyFrame:
    if not files:
        return empty_frame().lazy()
    lf = pl.scan_parquet(files)
    store = SourceStore(Path(corpus), source)
    set_names = list(attributes) if attributes is not None else store.attribute_sets()
    reason_cols: list[str] = []
    for name in set_names:
        afiles = list(current_attribute_files(corpus, source, name, docs).values())
        if not afiles:
            continue
        alf = pl.scan_parquet(afiles)
        cols = alf.collect_schema().names()
        reason_cols += [c for c in cols if c.endswith("_drop_reason")]
        lf = lf.join(alf, on="id", how="left", maintain_order="left")
    if reason_cols:
        lf = lf.with_columns(pl.coalesce([pl.col(c) for c in reason_cols]).alias("drop_reason"))
        if kept_only:
            lf = lf.filter(pl.col("drop_reason").is_null())
    return lf
