"""Run shard tasks in a local process pool, with live progress messages from inside the workers.

Workers never fork a process that runs threads: polars starts threads on import (and the extractors when
they run), and ``fork`` would copy them mid-state. Where the system has it they are forked from a
``forkserver`` that has imported only thread-free packages (:data:`PRELOAD` and the caller's ``preload``:
pydantic, trafilatura, warcio ...), so N workers pay those imports once instead of N times (~0.3 CPU-s of
a web ingest worker's ~0.55 s); each still imports polars and corpuskit itself (and the main module:
:mod:`corpuskit.cli` registers no commands in a starting worker).
Elsewhere they are spawned. A task reports progress by calling :func:`report`. Workers die with their
parent: killing the main process (even with ``kill -9``) leaves no worker writing on (Linux:
``PR_SET_PDEATHSIG``, the fork server exiting when its parent does; a watchdog thread checking the parent
pid covers other systems).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")

_queue: Any = None
_direct: Callable[[int], None] | None = None
#: imported once by the fork server for every pool: modules that start no thread when imported (corpuskit's
#: own up to the store, which imports polars; typer for the CLI module every worker imports as its main)
PRELOAD = ("pydantic", "yaml", "rich.progress", "typer", "corpuskit.config", "corpuskit.environment")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, not ours to signal
        pass
    return True


def _die_with_parent(main: int) -> None:
    """Exit when ``main`` (the process that runs the pool) dies: directly when it is this worker's parent
    (spawned), else through the fork server, which exits as soon as ``main`` does."""
    direct = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != direct or not _alive(main):  # died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != direct:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="corpuskit-parent-watch").start()


def _init_worker(queue: Any, main: int, environ: dict[str, str]) -> None:
    global _queue
    _queue = queue
    _die_with_parent(main)
    if os.environ != environ:  # a fork server keeps the environment it started with; a pool gets today's
        os.environ.clear()
        os.environ.update(environ)


def _context(preload: Sequence[str]) -> Any:
    """A fork server importing ``PRELOAD`` and ``preload`` (modules that start no threads on import; set
    when the server starts, the first pool of this process), else ``spawn``."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([*PRELOAD, *preload])
    return ctx


def report(n: int) -> None:
    """Called inside a task: add ``n`` to the caller's progress counter (in a pool or in-process)."""
    if not n:
        return
    if _queue is not None:
        _queue.put(n)
    elif _direct is not None:
        _direct(n)


@contextlib.contextmanager
def reporting_to(on_progress: Callable[[int], None] | None) -> Iterator[None]:
    """For tasks run in this process: :func:`report` calls ``on_progress`` directly."""
    global _direct
    old, _direct = _direct, on_progress
    try:
        yield
    finally:
        _direct = old


def map_unordered(
    fn: Callable[..., T],
    tasks: Iterable[tuple[Any, ...]],
    workers: int,
    on_progress: Callable[[int], None] | None = None,
    preload: Sequence[str] = (),
) -> Iterator[T]:
    """Yield ``fn(*task)`` results as they finish; ``on_progress`` receives the tasks' reports.
    ``preload``: modules the workers need that start no threads on import (see :func:`_context`)."""
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        with reporting_to(on_progress):
            for t in tasks:
                yield fn(*t)
        return
    ctx = _context(preload)
    queue = ctx.Queue()
    drain = _drainer(queue, on_progress)
    init = (queue, os.getpid(), dict(os.environ))
    with ProcessPoolExecutor(
        min(workers, len(tasks)), mp_context=ctx, initializer=_init_worker, initargs=init
    ) as pool:
        pending = {pool.submit(fn, *t) for t in tasks}
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain()
                for f in finished:
                    yield f.result()
            drain()
        finally:
            for f in pending:  # stopped early (an error, or the caller stopped iterating)
                f.cancel()


def _drainer(queue: Any, on_progress: Callable[[int], None] | None) -> Callable[[], None]:
    def drain() -> None:
        while True:
            try:
                n = queue.get_nowait()
            except Exception:
                return
            if on_progress:
                on_progress(n)

    return drain
