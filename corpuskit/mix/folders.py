"""The folders ``corpuskit mix`` writes: how to recognise them, and staging so a folder appears whole or not.

A mixture is written into a hidden staging folder beside its destination and swapped in only when every
file is complete, so an interrupted build leaves the previous mixture (or nothing), never a mix of both.
Recognising our own folders lets ``--out`` replace an earlier mixture but refuse any other folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpuskit.store import read_json
from corpuskit.store.outputs import check_output_dir


def is_mixture_dir(path: Path) -> bool:
    """A folder ``corpuskit mix`` wrote: its manifest describes token shards."""
    m = read_json(path / "manifest.json")
    return isinstance(m, dict) and isinstance(m.get("format"), dict) and "dtype" in m["format"]


def is_study_dir(path: Path) -> bool:
    """A folder of mixtures (``mix --config``): only mixture folders, the shared held-out sets, staging."""
    return all(
        p.name == "heldout" or p.name.startswith(".") or (p.is_dir() and is_mixture_dir(p))
        for p in path.iterdir()
    )


def check_out(out: Path | str, corpus: Path | str, *, study: bool = False) -> Path:
    """``out`` resolved, or :class:`~corpuskit.store.outputs.UnsafeOutput` if writing there could destroy
    what ``corpuskit mix`` did not write (the corpus, the current folder, a foreign non-empty folder)."""
    return check_output_dir(
        out,
        option="out:" if study else "--out",
        written_by_us=is_study_dir if study else is_mixture_dir,
        what="a mixture study" if study else "a mixture",
        protect=[("the corpus", corpus)],
    )


def replace_dir(staging: Path, final: Path) -> None:
    """Swap a finished staging folder in for ``final`` (whose old content is removed)."""
    old = final.parent / f".{final.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old)


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """An empty staging folder for ``final``: moved into place when the block ends, removed if it fails."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.tmp-build"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        yield staging
        replace_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
