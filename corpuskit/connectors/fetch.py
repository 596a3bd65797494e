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
import glob
import hashlib
import http.client
import json
import os
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from corpuskit.config import FetchConfig
from corpuskit.connectors import objectstore

CHUNK_BYTES = 1 << 20
BACKOFF_BASE_S = 1.0  # first retry waits ~1 s, then 2, 4, ... (x 1-1.5 jitter), capped below
BACKOFF_MAX_S = 60.0
USER_AGENT = "corpuskit (+https://github.com/corpuskit)"
_GLOB_CHARS = re.compile(r"[*?\[]")


class InputNotFoundError(FileNotFoundError):
    """A configured input names nothing; the message names the input and where it was looked for."""


class FetchError(OSError):
    """A download failed for good (after retries, or at once for 4xx and size limits)."""


class _Retryable(Exception):
    """Internal: a transient failure worth another attempt."""

    def __init__(self, msg: str, retry_after: float | None = None):
        super().__init__(msg)
        self.retry_after = retry_after


def is_url(s: str) -> bool:
    """An input fetched into the cache: http(s), or an object-storage URL."""
    return s.startswith(("http://", "https://")) or objectstore.is_object_url(s)


def expand_inputs(
    inputs: list[str],
    base_dir: Path,
    *,
    accepts_directories: bool,
    patterns: tuple[str, ...],
    storage_options: dict[str, Any] | None = None,
) -> list[str]:
    """Local paths, globs and folders -> sorted absolute file paths; http(s) URLs are kept as given;
    object-storage globs and prefixes are listed (:func:`~corpuskit.connectors.objectstore.list_objects`).

    Relative paths and globs are resolved against ``base_dir`` (the config's folder). A folder is searched
    recursively for ``patterns`` unless the connector reads folders itself (``accepts_directories``).
    Order is deterministic (config order, each glob / folder sorted) and duplicates are dropped.
    """
    out: list[str] = []
    for raw in inputs:
        if raw.startswith(("http://", "https://")):
            out.append(raw)
            continue
        if objectstore.is_object_url(raw):
            if not objectstore.known_scheme(raw):
                scheme = raw.split("://", 1)[0]
                raise InputNotFoundError(
                    f"input {raw!r}: unsupported scheme {scheme!r}; use a local path, a glob, an http(s) "
                    "URL or an fsspec URL (s3://, gs://, ...)"
                )
            out.extend(objectstore.list_objects(raw, storage_options or {}, patterns))
            continue
        text = urllib.parse.unquote(raw.removeprefix("file://")) if raw.startswith("file://") else raw
        p = Path(os.path.expanduser(text))
        if not p.is_absolute():
            p = base_dir / p
        if _GLOB_CHARS.search(text):
            matches = sorted(glob.glob(str(p), recursive=True))
            if not matches:
                raise InputNotFoundError(f"input {raw!r}: no file matches {str(p)!r}; check the pattern")
            for m in matches:
                out.extend(_expand_path(Path(m), raw, accepts_directories, patterns))
        elif p.exists():
            out.extend(_expand_path(p, raw, accepts_directories, patterns))
        else:
            raise InputNotFoundError(f"input {raw!r}: {str(p)!r} does not exist; check the path")
    return list(dict.fromkeys(out))


def _expand_path(p: Path, raw: str, accepts_directories: bool, patterns: tuple[str, ...]) -> list[str]:
    p = Path(os.path.abspath(p))
    if not p.is_dir() or accepts_directories:
        return [str(p)]
    if not patterns:
        raise InputNotFoundError(f"input {raw!r}: {str(p)!r} is a folder; name the files or use a glob")
    found = sorted({str(f) for pat in patterns for f in p.rglob(pat) if f.is_file()})
    if not found:
        raise InputNotFoundError(
            f"input {raw!r}: folder {str(p)!r} has no file matching {', '.join(patterns)}; check the path"
        )
    return found


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
            _download(uri, final, cfg, sleep)
    return final


def _download(url: str, final: Path, cfg: FetchConfig, sleep: Callable[[float], None]) -> None:
    part = final.with_name(final.name + ".part")
    meta_path = final.with_name(final.name + ".part.json")
    rng = random.Random(url)  # jitter is deterministic per URL: reproducible tests, still spread out
    failures = 0
    deadline = time.monotonic() + cfg.deadline_s
    while True:
        have = part.stat().st_size if part.exists() else 0
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: not done after fetch.deadline_s={cfg.deadline_s:g} s; giving up")
        try:
            done = _attempt(url, part, meta_path, have, cfg, deadline)
        except _Retryable as e:
            now = part.stat().st_size if part.exists() else 0
            if now > have:
                failures = 0  # progress was made: a flaky link on a big file still finishes
            failures += 1
            if failures > cfg.retries:
                raise FetchError(f"{url}: giving up after {cfg.retries} retries: {e}") from None
            delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (failures - 1)) * (1 + 0.5 * rng.random())
            if e.retry_after is not None:
                delay = min(BACKOFF_MAX_S, max(delay, e.retry_after))
            sleep(delay)
            continue
        if done:
            break
    expected = cfg.sha256.get(url)
    if expected is not None:
        got = _sha256(part)
        if got != expected.lower().removeprefix("sha256:"):
            part.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            raise FetchError(f"{url}: sha256 {got} does not match the config's {expected}")
    with open(part, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, final)
    if meta_path.exists():  # keep the validator: a commit record names the download by it
        os.replace(meta_path, final.with_name(final.name + ".json"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _attempt(url: str, part: Path, meta_path: Path, have: int, cfg: FetchConfig, deadline: float) -> bool:
    """One request; appends to ``part``. True when the file is complete."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    validator = _load_validator(meta_path) if have else None
    if have and not validator:  # nothing proves the server's file is still the one we have half of
        part.unlink(missing_ok=True)
        have = 0
    if have:
        headers["Range"] = f"bytes={have}-"
        if validator:
            headers["If-Range"] = validator
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=cfg.timeout_s)
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 416 and have:
            total = _content_range_total(e.headers.get("Content-Range"))
            if total == have:
                return True  # the previous attempt had already received everything
            part.unlink(missing_ok=True)  # the part does not fit the file any more: start over
            raise _Retryable(f"HTTP 416 for a resume at byte {have}") from None
        if e.code == 429 or e.code >= 500:
            raise _Retryable(f"HTTP {e.code}", _retry_after(e.headers.get("Retry-After"))) from None
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}; check the URL") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, socket.timeout | TimeoutError):
            raise _Retryable(f"timed out after {cfg.timeout_s:g} s") from None
        raise _Retryable(f"connection failed: {reason}") from None

    with resp:
        status = resp.status
        length = resp.headers.get("Content-Length")
        if status == 206:
            if _validator_of(resp.headers) != validator:  # a server that ignores If-Range: never splice
                part.unlink(missing_ok=True)
                meta_path.unlink(missing_ok=True)
                raise _Retryable(
                    "the file changed since the partial download (ETag/Last-Modified); restarting"
                )
            start, total = _parse_content_range(resp.headers.get("Content-Range"))
            if start != have:
                part.unlink(missing_ok=True)
                raise _Retryable(f"server resumed at byte {start}, expected {have}")
            mode = "ab"
        elif status == 200:
            have, mode = 0, "wb"  # the server ignored the range (or the file changed): restart
            total = int(length) if length and length.isdigit() else None
        else:
            raise FetchError(f"{url}: unexpected HTTP status {status}")
        if total is not None and total > cfg.max_bytes:
            part.unlink(missing_ok=True)
            raise FetchError(
                f"{url}: file is {total:,} bytes, above fetch.max_bytes={cfg.max_bytes:,}; "
                "raise fetch.max_bytes in the config to allow it"
            )
        if mode == "wb":
            _save_validator(meta_path, resp.headers)
        got = have
        try:
            with open(part, mode) as out:
                while True:
                    if time.monotonic() > deadline:  # a trickle never trips the socket timeout
                        raise FetchError(
                            f"{url}: not done after fetch.deadline_s={cfg.deadline_s:g} s "
                            f"({got:,} bytes received); raise it in the config for very slow servers"
                        )
                    chunk = resp.read1(CHUNK_BYTES) if hasattr(resp, "read1") else resp.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > cfg.max_bytes:
                        out.close()
                        part.unlink(missing_ok=True)
                        raise FetchError(
                            f"{url}: download passed fetch.max_bytes={cfg.max_bytes:,} bytes; "
                            "raise fetch.max_bytes in the config to allow it"
                        )
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as e:
            if isinstance(e, FetchError):
                raise
            if isinstance(e, socket.timeout | TimeoutError):
                raise _Retryable(f"timed out after {cfg.timeout_s:g} s (at byte {got:,})") from None
            raise _Retryable(f"connection dropped at byte {got:,}: {e}") from None
    if total is not None and got < total:
        raise _Retryable(f"connection dropped at byte {got:,} of {total:,}")
    return True


def _parse_content_range(value: str | None) -> tuple[int, int | None]:
    m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", value or "")
    if not m:
        raise _Retryable(f"206 response with a bad Content-Range: {value!r}")
    return int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))


def _content_range_total(value: str | None) -> int | None:
    m = re.match(r"bytes \*/(\d+)", value or "")
    return int(m.group(1)) if m else None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _validator_of(headers: http.client.HTTPMessage) -> str | None:
    etag = headers.get("ETag")
    return etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")


def _save_validator(meta_path: Path, headers: http.client.HTTPMessage) -> None:
    """Remember the ETag (strong) or Last-Modified so a resume only appends bytes of the same file."""
    value = _validator_of(headers)
    if value:
        meta_path.write_text(json.dumps({"validator": value}))
    else:
        meta_path.unlink(missing_ok=True)


def _load_validator(meta_path: Path) -> str | None:
    try:
        return json.loads(meta_path.read_text())["validator"]
    except (OSError, ValueError, KeyError):
        return None
