"""Run the same units of work as Ray tasks, to scale a stage over a cluster (``pip install corpuskit[ray]``).

Nothing about a unit changes: the task is the stage's own pure function of (config, unit); it writes its
outputs atomically and returns what it wrote, and the **parent** verifies and commits them exactly as in a
local run, so a worker that dies can never leave a commit behind. Each task declares its CPUs and memory
so Ray never packs more units onto a node than it can hold. A task whose worker process dies (killed, out
of memory, node lost) is retried by Ray (``max_retries``); if it still dies, the unit comes back as a
failure (left not done) and the rerun does it.

The cluster: ``--ray-address ADDR`` (see :func:`configure`), else ``RAY_ADDRESS``, else a Ray started on
this machine by ``ray.init()``. The corpus root must be a path every worker sees (one machine, or a
shared filesystem).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from corpuskit.executors import ClusterUnreachable

_address: str | None = None
MAX_RETRIES = 3  # Ray's default for tasks whose worker died; stated here because recovery depends on it
PROBE_TIMEOUT_S = 5.0  # a cluster that does not answer a TCP connect in this long is reported unreachable


def configure(address: str | None) -> None:
    """Use the Ray cluster at ``address`` (``auto``, ``ray://host:10001`` or ``host:6379``); an address
    that refuses connections fails here, before the command reads or writes anything."""
    global _address
    _address = address or None
    probe(_target())


def _target() -> str | None:
    """The address ``ray.init`` will be given: ``--ray-address``, else ``RAY_ADDRESS``, else None (local)."""
    return _address or os.environ.get("RAY_ADDRESS") or None


def unreachable(address: str, why: str) -> ClusterUnreachable:
    origin = "--ray-address" if _address else "RAY_ADDRESS" if os.environ.get("RAY_ADDRESS") else "default"
    return ClusterUnreachable(
        f"cannot reach the Ray cluster at {address} ({origin}): {why.rstrip('.')}. Check that the cluster "
        "is up (on its head node: `ray start --head`, then use the address it prints) and that "
        "--ray-address / RAY_ADDRESS names it (host:6379, or ray://host:10001 for Ray Client); or drop "
        "both to start Ray on this machine"
    )


def probe(address: str | None) -> None:
    """Raise :class:`ClusterUnreachable` at once where nothing listens at ``address``: ``ray.init`` would
    retry for minutes and then raise its own internals. ``auto``, ``local`` and None are left to Ray."""
    if address is None or address in ("auto", "local"):
        return
    hostport = address.removeprefix("ray://").rsplit("/", 1)[0]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise unreachable(address, "not a host:port address")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as e:
        raise unreachable(address, f"{type(e).__name__}: {e.strerror or e}") from None


def connect() -> Any:
    """The ``ray`` module, initialised (connect to the configured cluster, or start one here)."""
    try:
        import ray
    except ImportError as e:  # the CLI checks first; this is for the Python API
        raise ImportError("the ray executor needs Ray: pip install 'corpuskit[ray]'", name="ray") from e
    if not ray.is_initialized():
        address = _target()
        probe(address)
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
        except ConnectionError as e:  # e.g. "auto" with no cluster running on this machine
            raise unreachable(address or "auto", str(e).strip().splitlines()[0]) from None
    return ray


def _with_reports(fn: Callable[..., Any], *task: Any) -> tuple[Any, int]:
    """Runs on the worker: the unit, with the counts it reports summed up and returned beside its result
    (a Ray worker has no queue to the driver; progress moves when the unit comes back)."""
    from corpuskit.executors.local import reporting_to

    total = 0

    def add(n: int) -> None:
        nonlocal total
        total += n

    with reporting_to(add):
        out = fn(*task)
    return out, total


def map_unordered(
    fn: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    workers: int,
    on_progress: Callable[[int], None] | None = None,
    *,
    memory_mb: int = 1024,
    lost: Callable[[tuple[Any, ...], BaseException], Any] | None = None,
) -> Iterator[Any]:
    """Yield ``fn(*task)`` as Ray tasks finish. At most ``workers`` tasks are in flight (0: as many as the
    cluster has CPUs); each declares 1 CPU and ``memory_mb`` of memory. A task lost for good (its worker
    died more than ``MAX_RETRIES`` times) yields ``lost(task, error)``, or raises without ``lost``."""
    ray = connect()
    remote = ray.remote(num_cpus=1, memory=memory_mb * 2**20, max_retries=MAX_RETRIES)(_with_reports)
    queue = list(tasks)
    limit = workers if workers and workers > 0 else max(int(ray.cluster_resources().get("CPU", 1)), 1)
    fn_ref = ray.put(fn)
    in_flight: dict[Any, tuple[Any, ...]] = {}
    try:
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                task = queue.pop(0)
                in_flight[remote.remote(fn_ref, *task)] = task
            done, _ = ray.wait(list(in_flight), num_returns=1)
            task = in_flight.pop(done[0])
            try:
                out, reported = ray.get(done[0])
            except (ray.exceptions.RayError, OSError) as e:
                if lost is None:
                    raise
                yield lost(task, e)
                continue
            if on_progress and reported:
                on_progress(reported)
            yield out
    finally:
        for ref in in_flight:  # stopped early (an error, or the caller stopped iterating)
            ray.cancel(ref, force=True)
