"""Run shard tasks in a local process pool, with live progress messages from inside the workers.

Workers are started with ``spawn``: polars and the HTML extractors start threads, and ``fork`` would copy
them mid-state. A task reports progress by calling :func:`report`. Workers die with their parent: killing
the main process (even with ``kill -9``) leaves no worker writing on (Linux: ``PR_SET_PDEATHSIG``; a
watchdog thread checking the parent pid covers other systems).
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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")

_queue: Any = None
_direct: Callable[[int], None] | None = None


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="corpuskit-parent-watch").start()


def _init_worker(queue: Any, parent: int) -> None:
    global _queue
    _queue = queue
    _die_with_parent(parent)


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
) -> Iterator[T]:
    """Yield ``fn(*task)`` results as they finish; ``on_progress`` receives the tasks' reports."""
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        with reporting_to(on_progress):
            for t in tasks:
                yield fn(*t)
        return
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    drain = _drainer(queue, on_progress)
    with ProcessPoolExecutor(
        min(workers, len(tasks)), mp_context=ctx, initializer=_init_worker, initargs=(queue, os.getpid())
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
