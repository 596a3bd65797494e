"""Resolve config ``inputs`` to concrete inputs, and bring http(s) and object-storage inputs to a cache.

Web archives are large (a Common Crawl WARC is ~1 GB) and links drop, so a download is streamed to
``<cache>/<hash>-<name>.part``, resumed with a ``Range`` request after a drop (guarded by ``If-Range`` so
a file that changed on the server restarts instead of being spliced), retried with exponential backoff
on network errors, 5xx and 429, bounded in size and time, and renamed into place only when complete, so
a file in the cache is always whole. Only the standard library is used (urllib). Object-storage URLs
(``s3://``, any fsspec URL) are listed and copied by :mod:`corpuskit.connectors.objectstore`.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from corpuskit.config import FetchConfig
from corpuskit.connectors import objectstore
from corpuskit.connectors.fetch_http import (
    BACKOFF_BASE_S,
    BACKOFF_MAX_S,
    CHUNK_BYTES,
    USER_AGENT,
    FetchError,
    download,
)
from corpuskit.connectors.fetch_inputs import InputNotFoundError, expand_inputs, is_url

__all__ = [
    "BACKOFF_BASE_S",
    "BACKOFF_MAX_S",
    "CHUNK_BYTES",
    "USER_AGENT",
    "FetchError",
    "InputNotFoundError",
    "cache_path",
    "expand_inputs",
    "fetch",
    "is_url",
]


def cache_path(url: str, cache_dir: Path) -> Path:
    """Cache file of a URL: a hash (so equal names from different URLs never collide) + the basename."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = Path(urllib.parse.urlsplit(url).path).name or "download"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", urllib.parse.unquote(name))[:100]
    return Path(cache_dir) / f"{digest}-{name}"


def fetch(
    uri: str,
    cfg: FetchConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """A local file for ``uri``: local paths as they are, http(s) URLs downloaded into ``cfg.cache_dir``,
    object URLs copied there (:func:`~corpuskit.connectors.objectstore.fetch_object`).

    A downloaded http(s) file already in the cache is returned without a request; an object's copy only
    while the object still has the same ETag and size. ``sleep`` is injectable so tests can run
    the backoff schedule without waiting. Raises :class:`FetchError` when the download cannot be done.
    """
    if not is_url(uri):
        return Path(urllib.parse.unquote(uri.removeprefix("file://")) if uri.startswith("file://") else uri)
    final = cache_path(uri, cfg.cache_dir)
    if final.exists() and not objectstore.is_object_url(uri):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with open(final.with_name(final.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one downloader per file across processes
        if objectstore.is_object_url(uri):
            objectstore.fetch_object(uri, final, cfg)  # re-checks an existing copy against the object
        elif not final.exists():
            download(uri, final, cfg, sleep)
    return final
