"""Run shard tasks in a local process pool, with live progress messages from inside the workers.

Workers are started with ``spawn``: polars and the HTML extractors start threads, and ``fork`` would copy
them mid-state. A task reports progress by calling :func:`report` (a no-op outside a pool).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")

_queue: Any = None


def _init_worker(queue: Any) -> None:
    global _queue
    _queue = queue


def report(n: int) -> None:
    """Called inside a task: add ``n`` to the caller's progress counter."""
    if _queue is not None and n:
        _queue.put(n)


def map_unordered(
    fn: Callable[..., T],
    tasks: Iterable[tuple[Any, ...]],
    workers: int,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[T]:
    """Yield ``fn(*task)`` results as they finish; ``on_progress`` receives the tasks' reports."""
    tasks = list(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield fn(*t)
        return
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    drain = _drainer(queue, on_progress)
    with ProcessPoolExecutor(
        min(workers, len(tasks)), mp_context=ctx, initializer=_init_worker, initargs=(queue,)
    ) as pool:
        pending = {pool.submit(fn, *t) for t in tasks}
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for f in finished:
                yield f.result()
        drain()


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
