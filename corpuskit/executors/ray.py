"""Run the same shard tasks as Ray tasks, to scale a job over a cluster (``pip install corpuskit[ray]``).

The task functions are pure functions of (config, shard) that write their own outputs atomically, so Ray
only schedules them; completion markers make a re-submitted job skip finished shards as locally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def map_unordered(
    fn: Callable[..., T],
    tasks: Iterable[tuple[Any, ...]],
    workers: int,
    on_progress: Callable[[int], None] | None = None,
) -> Iterator[T]:
    """Yield results as Ray tasks finish. ``workers`` caps tasks in flight; progress is per task."""
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the optional extra
        raise RuntimeError("the ray executor needs Ray: pip install 'corpuskit[ray]'") from e
    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(fn)
    queue = list(tasks)
    in_flight: list[Any] = []
    while queue or in_flight:
        while queue and len(in_flight) < max(workers, 1):
            in_flight.append(remote.remote(*queue.pop(0)))
        done, in_flight = ray.wait(in_flight, num_returns=1)
        yield ray.get(done[0])
