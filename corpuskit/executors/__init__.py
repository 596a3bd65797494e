"""Executors run a stage's units of work: a local process pool by default, Ray to scale out."""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXECUTORS = ("local", "ray")


class ClusterUnreachable(ConnectionError):
    """The Ray cluster a command was pointed at does not answer; the message names it and what to check."""


def get_executor(name: str) -> Callable[..., Any]:
    """``local`` (process pool) or ``ray``."""
    if name == "local":
        from corpuskit.executors.local import map_unordered

        return map_unordered
    if name == "ray":
        from corpuskit.executors.ray import map_unordered as ray_map

        return ray_map
    raise ValueError(f"unknown executor {name!r}; use 'local' or 'ray'")


def choose_executor(name: str, ray_address: str | None = None) -> str:
    """Check a command's ``--executor`` / ``--ray-address`` and set the cluster up; returns the name.

    Raises ConfigError (exit 2) with the fix when the name is unknown or Ray is not installed, and
    :class:`ClusterUnreachable` (exit 1) when nothing answers at the cluster's address."""
    from corpuskit.configs import ConfigError

    if name not in EXECUTORS:
        raise ConfigError(f"--executor {name!r}: use 'local' or 'ray'")
    if name == "local":
        if ray_address:
            raise ConfigError("--ray-address needs --executor ray")
        return name
    if importlib.util.find_spec("ray") is None:
        raise ConfigError("--executor ray needs Ray: pip install 'corpuskit[ray]' (or use --executor local)")
    from corpuskit.executors.ray import configure

    configure(ray_address)
    return name


@dataclass(frozen=True)
class StageRun:
    """How a stage runs, apart from what it computes; a command builds it once from its options
    (:meth:`from_options`) and hands it to the stage (ingest, curate, dedup).

    ``workers``: units at once (None: the stage's default); ``wait``: for another command holding a source's
    lock, instead of failing busy; ``allow_incomplete``: work on a source some of whose inputs failed."""

    executor: str = "local"
    workers: int | None = None
    wait: bool = False
    allow_incomplete: bool = False

    @classmethod
    def from_options(
        cls,
        executor: str,
        ray_address: str | None,
        *,
        workers: int | None = None,
        wait: bool = False,
        allow_incomplete: bool = False,
    ) -> StageRun:
        """From a command's options: the executor checked and its cluster set up (:func:`choose_executor`)."""
        return cls(choose_executor(executor, ray_address), workers, wait, allow_incomplete)

    def replace(self, **fields: Any) -> StageRun:
        """This run with ``fields`` changed: a stage function's keyword shorthands (``workers=2``) over
        its ``run``; an unknown name is a TypeError."""
        return dataclasses.replace(self, **fields)
