"""Output folders a command may write: never the corpus, its inputs or the current directory, and never
a non-empty folder the command did not write itself. No command deletes what it did not create."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from corpuskit.configs import ConfigError


class UnsafeOutput(ConfigError):
    """An output folder that would overwrite or delete data the command did not create (exit 2)."""


def _relation(out: Path, other: Path) -> str | None:
    if out == other:
        return "is"
    if other in out.parents:
        return "is inside"
    if out in other.parents:
        return "contains"
    return None


def check_output_dir(
    out: Path | str,
    *,
    option: str,
    written_by_us: Callable[[Path], bool],
    what: str,
    protect: Iterable[tuple[str, Path | str]] = (),
) -> Path:
    """Raise :class:`UnsafeOutput` unless ``out`` may be (re)written: not equal to, inside or containing a
    protected folder or the current directory, and either absent, empty, or ``written_by_us``."""
    target = Path(out).expanduser().resolve()
    guarded = [(name, Path(p).expanduser().resolve()) for name, p in protect]
    guarded.append(("the current directory", Path.cwd().resolve()))
    for name, p in guarded:
        rel = _relation(target, p)
        if rel is not None and not (rel == "is inside" and name == "the current directory"):
            raise UnsafeOutput(f"{option} {out}: {rel} {name} ({p}); choose a folder outside it")
    if target.exists():
        if not target.is_dir():
            raise UnsafeOutput(f"{option} {out}: exists and is not a folder")
        if any(target.iterdir()) and not written_by_us(target):
            raise UnsafeOutput(
                f"{option} {out}: the folder is not empty and is not {what} corpuskit wrote; "
                "it will not be replaced — choose a new or empty folder"
            )
    return target
