"""Config ``inputs`` to concrete inputs: local paths, globs and folders expanded to files, http(s) URLs
kept, object-storage globs and prefixes listed (see :mod:`corpuskit.connectors.fetch`)."""

from __future__ import annotations

import glob
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from corpuskit.connectors import objectstore

_GLOB_CHARS = re.compile(r"[*?\[]")


class InputNotFoundError(FileNotFoundError):
    """A configured input names nothing; the message names the input and where it was looked for."""


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
