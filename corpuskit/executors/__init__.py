"""Executors run a stage's units of work: a local process pool by default, Ray to scale out."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

EXECUTORS = ("local", "ray")


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

    Raises ConfigError (exit 2) with the fix when the name is unknown or Ray is not installed."""
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
