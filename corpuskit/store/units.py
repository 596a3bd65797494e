"""One resumable unit-of-work runner for every stage: ingest (input -> part), curate signals and dedup
signatures (document file -> attribute file).

A stage describes its units; the runner runs the pending ones in-process, in a local process pool or as
Ray tasks (the same function, the same commit rules), and sorts what happens into three classes:

- a unit that returns is handed back to the stage, which verifies and commits it (in the parent, so a
  killed worker can never leave a commit behind);
- a unit that raises is a **failure**: the other units go on, the stage records it (never as done) and the
  command exits 1 at the end naming it; the next run retries it;
- a broken environment (:class:`EnvironmentProblem`, ``ImportError``) stops the run at once.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from corpuskit.environment import EnvironmentProblem


class UnitsAborted(RuntimeError):
    """The pool itself broke (a worker was killed): the run stops; committed units stay committed."""


def bullets(lines: list[str], limit: int = 20) -> str:
    """Lines as an indented list, at most ``limit`` of them (the rest counted)."""
    more = [f"... and {len(lines) - limit} more"] if len(lines) > limit else []
    return "".join(f"\n  - {line}" for line in [*lines[:limit], *more])


class UnitsFailed(RuntimeError):
    """Some units failed and the stage cannot go on without them (CLI exit 1); the rest are committed."""

    def __init__(self, what: str, lines: list[str]):
        self.lines = lines
        super().__init__(
            f"{len(lines)} {what} unit(s) failed; fix the cause and rerun "
            f"(done units are kept):{bullets(lines)}"
        )


@dataclass
class Unit:
    key: str  # stable name of the unit (part key, document file name)
    args: tuple[Any, ...]  # passed to the stage's task function


@dataclass
class UnitFailure:
    key: str
    error_class: str  # exception type name, e.g. PermissionError, FetchError, MemoryError
    message: str

    def __str__(self) -> str:
        return f"{self.error_class}: {self.message}"


@dataclass
class _Outcome:
    key: str
    ok: bool
    value: Any = None
    error_class: str = ""
    message: str = ""
    environment: tuple[str, str, str] | None = None


def _guarded(fn: Callable[..., Any], key: str, args: tuple[Any, ...]) -> _Outcome:
    """Runs in the worker: turn whatever the task raises into a picklable outcome."""
    try:
        return _Outcome(key, True, fn(*args))
    except EnvironmentProblem as e:
        return _Outcome(key, False, environment=(e.what, e.problem, e.fix))
    except ImportError as e:
        return _Outcome(
            key, False, environment=(e.name or "a package", f"cannot import: {e}", "corpuskit doctor")
        )
    except (Exception, MemoryError) as e:  # noqa: BLE001 - every failure of one unit is that unit's
        tb = traceback.extract_tb(e.__traceback__)
        where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
        return _Outcome(key, False, error_class=type(e).__name__, message=f"{e}{where}"[:2000])


def _lost(task: tuple[Any, ...], error: BaseException) -> _Outcome:
    """A unit whose worker died for good (Ray gave up retrying): a failure of that unit, not done."""
    _, key, _ = task
    return _Outcome(key, False, error_class=type(error).__name__, message=str(error).strip()[:2000])


def run_units(
    fn: Callable[..., Any],
    units: Sequence[Unit],
    *,
    workers: int = 1,
    executor: str = "local",
    on_progress: Callable[[int], None] | None = None,
    memory_mb: int = 1024,
    preload: Sequence[str] = (),
) -> Iterator[tuple[str, Any | UnitFailure]]:
    """Yield ``(key, result)`` or ``(key, UnitFailure)`` per unit as they finish (order not guaranteed).

    Raises :class:`EnvironmentProblem` as soon as one unit reports a broken environment. ``on_progress``
    receives the counts tasks pass to :func:`corpuskit.executors.local.report`. ``memory_mb`` is what one
    unit needs at most: Ray reserves it per task (the local pool runs ``workers`` units at once).
    ``preload``: modules the units import that start no threads on import (a local pool imports them
    once, in its fork server; see :mod:`corpuskit.executors.local`).
    """
    tasks = [(fn, u.key, u.args) for u in units]
    if executor == "ray":
        from corpuskit.executors.ray import map_unordered as ray_map

        outcomes: Iterator[_Outcome] = ray_map(
            _guarded, tasks, workers, on_progress, memory_mb=memory_mb, lost=_lost
        )
    else:
        from corpuskit.executors import get_executor

        outcomes = get_executor(executor)(_guarded, tasks, workers, on_progress, preload=preload)
    try:
        for out in outcomes:
            if out.environment is not None:
                raise EnvironmentProblem(*out.environment)
            yield out.key, (out.value if out.ok else UnitFailure(out.key, out.error_class, out.message))
    except BrokenProcessPool:
        raise UnitsAborted(
            "a worker process died (killed, or out of memory); units finished before it are committed, "
            "the others are not: rerun to do them (with fewer --workers if memory is short)"
        ) from None
