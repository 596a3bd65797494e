"""One http(s) download into the cache: streamed to a ``.part`` file, resumed with ``Range`` guarded by
``If-Range`` validators, retried with backoff, bounded in size and time, checked against a configured
sha256 and renamed into place only when complete (see :mod:`corpuskit.connectors.fetch`)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path

from corpuskit.config import FetchConfig

CHUNK_BYTES = 1 << 20
BACKOFF_BASE_S = 1.0  # first retry waits ~1 s, then 2, 4, ... (x 1-1.5 jitter), capped below
BACKOFF_MAX_S = 60.0
USER_AGENT = "corpuskit (+https://github.com/corpuskit)"


class FetchError(OSError):
    """A download failed for good (after retries, or at once for 4xx and size limits)."""


class _Retryable(Exception):
    """Internal: a transient failure worth another attempt."""

    def __init__(self, msg: str, retry_after: float | None = None):
        super().__init__(msg)
        self.retry_after = retry_after


def download(url: str, final: Path, cfg: FetchConfig, sleep: Callable[[float], None]) -> None:
    """``url`` into ``final``, whole or not at all; raises :class:`FetchError` when it cannot be done."""
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
