"""Documents: the schema every source's documents have, stable ids, and the source manifest.

Where documents live and how they are committed is the store's business (:mod:`corpuskit.store`);
``scan_documents`` and friends are re-exported here because that is where users first look.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

#: Columns every document frame has, in this order. Later stages add attribute sets, not columns here.
SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),  # blake2b-128 hex of "<source>\0<locator>": stable across re-runs
    "source": pl.String(),  # the source config's name
    "text": pl.String(),  # UTF-8 text
    "url": pl.String(),  # nullable
    "locator": pl.String(),  # "<input uri>#<record locator>", e.g. "a.warc.gz#offset=1234"
    "created": pl.Datetime("us", "UTC"),  # when the content was made/crawled, nullable
    "metadata": pl.String(),  # JSON object (sorted keys) with connector-specific fields
}


def document_id(source: str, locator: str) -> str:
    """Stable id: the same record of the same source always gets the same id, whatever the run."""
    return hashlib.blake2b(f"{source}\0{locator}".encode(), digest_size=16).hexdigest()


def shard_key(uri: str) -> str:
    """Name of the part made from one input (file path or URL); stable when other inputs change."""
    return hashlib.blake2b(uri.encode(), digest_size=8).hexdigest()


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Build a document frame with the exact schema (metadata dicts are serialised to sorted JSON)."""
    fixed = []
    for r in rows:
        meta = r.get("metadata")
        fixed.append(
            {
                "id": r["id"],
                "source": r["source"],
                "text": r["text"],
                "url": r.get("url"),
                "locator": r["locator"],
                "created": r.get("created"),
                "metadata": meta if isinstance(meta, str) or meta is None else dumps_metadata(meta),
            }
        )
    return pl.DataFrame(fixed, schema=SCHEMA)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(s: str) -> tuple[str, bool]:
    """``s`` as valid UTF-8 text: lone surrogates (from JSON ``"\\ud800"`` escapes, say) become U+FFFD.
    Returns the text and whether anything was replaced."""
    try:
        s.encode("utf-8")
        return s, False
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", s), True


def dumps_metadata(meta: dict[str, Any]) -> str:
    return json.dumps(meta, sort_keys=True, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------------------- manifests


def read_manifest(corpus: Path | str, source: str) -> dict[str, Any]:
    from corpuskit.store import SourceStore, read_json

    data = read_json(SourceStore(Path(corpus), source).manifest)
    return data if isinstance(data, dict) else {}


def package_versions(names: Iterable[str] = ()) -> dict[str, str]:
    """Versions of corpuskit and the libraries that shape its output, for manifests."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in ["corpuskit", "polars", "trafilatura", "warcio", "fasttext", "datasketch", "tokenizers", *names]:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            continue
    return out


_REEXPORTED = {"scan_documents", "scan_file", "list_parts", "list_sources", "document_files"}


def __getattr__(name: str) -> Any:  # lazy: the store imports this module
    if name in _REEXPORTED:
        import corpuskit.store as store

        return getattr(store, name)
    raise AttributeError(name)
