"""Inputs on object storage (``s3://``, ``gs://``, ... any fsspec URL): list globs, copy objects to the cache.

An object is read through fsspec (s3fs for ``s3://``: ``pip install corpuskit[s3]``; local runs need
neither) into the same download cache as http(s) inputs, and the connector reads that local copy. The
copy goes to ``<cache>/<hash>-<name>.part`` and is renamed into place only after its size (and, for an
S3 single-part upload, its ETag = MD5, and the config's sha256 when given) matched the object, so a file
in the cache is always whole. Beside it ``<name>.json`` keeps the object's ETag: a cached copy is used
only while the object still has that ETag and size, so an overwritten object is fetched (and ingested)
again, and the commit record names the object by it (:func:`corpuskit.store.commits.input_identity`).

A missing object, a denied bucket or a server error raises :class:`ObjectStoreError` (an ``OSError``):
the input fails, is not committed, and the rerun retries it. Transient errors are retried by the
client library itself (botocore's retry policy for s3fs).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corpuskit.config import FetchConfig

CHUNK_BYTES = 1 << 20
_NOT_OBJECT = ("http://", "https://", "file://")
_GLOB_CHARS = re.compile(r"[*?\[]")
_SECRETS = {"key", "secret", "token", "password", "credentials", "session_token", "access_key_id"}
_EXTRA = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}  # scheme -> the extra that brings its driver


class ObjectStoreError(OSError):
    """An object could not be listed or copied (missing, denied, server error, size/checksum mismatch)."""


def is_object_url(s: str) -> bool:
    return "://" in s and not s.startswith(_NOT_OBJECT)


def known_scheme(url: str) -> bool:
    """Whether fsspec has a filesystem for the URL's scheme (installed or not)."""
    try:
        from fsspec.registry import known_implementations, registry
    except ImportError:
        return False
    scheme = url.split("://", 1)[0]
    return scheme in known_implementations or scheme in registry


def filesystem(url: str, storage_options: dict[str, Any]) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for ``url``; a fresh instance, so no stale listing is reused."""
    try:
        import fsspec
    except ImportError:
        raise ObjectStoreError(f"{url}: object-storage inputs need fsspec: {_install_hint(url)}") from None
    try:
        return fsspec.core.url_to_fs(url, skip_instance_cache=True, **storage_options)
    except (ImportError, ValueError) as e:
        raise ObjectStoreError(f"{url}: {e}; {_install_hint(url)}") from None


def _install_hint(url: str) -> str:
    scheme = url.split("://", 1)[0]
    return f"pip install 'corpuskit[{_EXTRA.get(scheme, 's3')}]' (or the fsspec driver for {scheme}://)"


def check_storage_options(inputs: list[str], storage_options: dict[str, Any]) -> None:
    """Refuse keys the filesystem of each object-storage scheme in ``inputs`` does not name (a typo such as
    ``endpointurl`` would otherwise be passed on and silently ignored). Raises ValueError."""
    secret = sorted(set(storage_options) & _SECRETS)
    if secret:
        raise ValueError(
            f"{', '.join(secret)}: credentials do not belong in a config (it is copied into manifests); "
            "set them in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...)"
        )
    schemes = sorted({i.split("://", 1)[0] for i in inputs if is_object_url(i)})
    if storage_options and not schemes:
        raise ValueError("storage_options is set but no input is an object-storage URL (s3://, gs://, ...)")
    for scheme in schemes:
        try:
            import fsspec

            cls = fsspec.get_filesystem_class(scheme)
        except (ImportError, ValueError) as e:
            hint = _install_hint(scheme + "://")
            raise ValueError(f"inputs use {scheme}:// which is not available ({e}); {hint}") from None
        known = {
            n
            for c in cls.__mro__
            if "__init__" in c.__dict__
            for n, p in inspect.signature(c.__init__).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n != "self"
        }
        unknown = sorted(set(storage_options) - known)
        if unknown:
            raise ValueError(
                f"unknown storage option(s) {', '.join(unknown)} for {scheme}://; "
                f"{cls.__name__} takes: {', '.join(sorted(known))}"
            )


def list_objects(url: str, storage_options: dict[str, Any], patterns: tuple[str, ...]) -> list[str]:
    """A glob (``s3://b/p/*.jsonl.gz``) or a prefix ending in ``/`` -> sorted object URLs; a plain object URL
    is kept as given, unlisted (like an http URL: reading it is what tells whether it is there)."""
    from corpuskit.connectors.fetch import InputNotFoundError

    scheme = url.split("://", 1)[0]
    if not _GLOB_CHARS.search(url) and not url.endswith("/"):
        return [url]
    fs, path = filesystem(url, storage_options)
    try:
        if _GLOB_CHARS.search(url):
            found = [p for p, info in fs.glob(path, detail=True).items() if info.get("type") == "file"]
        else:
            found = [p for p in fs.find(path) if any(Path(p).match(pat) for pat in patterns or ("*",))]
    except FileNotFoundError:
        found = []
    except Exception as e:  # noqa: BLE001 - a driver's errors (botocore, aiohttp) have no common base
        raise ObjectStoreError(f"input {url!r}: listing failed: {type(e).__name__}: {e}") from None
    if not found:
        raise InputNotFoundError(f"input {url!r}: no object matches; check the bucket and pattern")
    return [f"{scheme}://{p}" for p in sorted(found)]


def fetch_object(url: str, final: Path, cfg: FetchConfig) -> None:
    """Bring ``url`` to ``final`` (the caller holds the cache lock) unless the copy there is current."""
    fs, path = filesystem(url, cfg.storage_options)
    info = _info(fs, path, url)
    etag, size = _etag(info), int(info.get("size") or 0)
    meta = final.with_name(final.name + ".json")
    if etag is not None and final.exists() and final.stat().st_size == size and _saved_etag(meta) == etag:
        return  # the cached copy is this version of the object
    if size > cfg.max_bytes:
        raise ObjectStoreError(
            f"{url}: object is {size:,} bytes, above fetch.max_bytes={cfg.max_bytes:,}; raise it to allow it"
        )
    part = final.with_name(final.name + ".part")
    md5, sha = hashlib.md5(), hashlib.sha256()
    deadline = time.monotonic() + cfg.deadline_s
    got = 0
    try:
        with fs.open(path, "rb", block_size=CHUNK_BYTES) as src, open(part, "wb") as out:
            while chunk := src.read(CHUNK_BYTES):
                got += len(chunk)
                if got > size or time.monotonic() > deadline:
                    raise ObjectStoreError(f"{url}: grew past {size:,} bytes or passed fetch.deadline_s")
                md5.update(chunk)
                sha.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except ObjectStoreError:
        part.unlink(missing_ok=True)
        raise
    except Exception as e:  # noqa: BLE001 - see list_objects
        part.unlink(missing_ok=True)
        raise ObjectStoreError(f"{url}: read failed at byte {got:,}: {type(e).__name__}: {e}") from None
    problem = None
    if got != size:
        problem = f"got {got:,} bytes, the object has {size:,}"
    elif etag and re.fullmatch(r'"?[0-9a-f]{32}"?', etag) and etag.strip('"') != md5.hexdigest():
        problem = f"MD5 {md5.hexdigest()} does not match the ETag {etag} (changed while read?)"
    elif (want := cfg.sha256.get(url)) and sha.hexdigest() != want.lower().removeprefix("sha256:"):
        problem = f"sha256 {sha.hexdigest()} does not match the config's {want}"
    if problem:
        part.unlink(missing_ok=True)
        raise ObjectStoreError(f"{url}: {problem}")
    meta.unlink(missing_ok=True)  # never an old ETag beside new bytes, even if killed between the renames
    os.replace(part, final)
    if etag:
        meta.write_text(json.dumps({"validator": etag}))


def remote_identity(url: str, storage_options: dict[str, Any]) -> dict[str, Any] | None:
    """What the commit record's identity of ``url`` would be now (one HEAD request); None if unreachable."""
    try:
        fs, path = filesystem(url, storage_options)
        info = _info(fs, path, url)
    except OSError:
        return None
    ident: dict[str, Any] = {"url": url, "length": int(info.get("size") or 0)}
    if etag := _etag(info):
        ident["validator"] = etag
    return ident


def _info(fs: Any, path: str, url: str) -> dict[str, Any]:
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise ObjectStoreError(f"{url}: no such object; check the URL") from None
    except Exception as e:  # noqa: BLE001 - see list_objects
        raise ObjectStoreError(f"{url}: {type(e).__name__}: {e}") from None
    if info.get("type") != "file":
        raise ObjectStoreError(f"{url}: is a prefix, not an object; use a glob such as {url.rstrip('/')}/*")
    return info


def _etag(info: dict[str, Any]) -> str | None:
    value = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("generation")
    return str(value) if value else None


def _saved_etag(meta: Path) -> str | None:
    try:
        return json.loads(meta.read_text())["validator"]
    except (OSError, ValueError, KeyError):
        return None
