"""Executors run pure shard tasks: a local process pool by default, Ray to scale out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def get_executor(name: str) -> Callable[..., Any]:
    """``local`` (process pool) or ``ray``."""
    if name == "local":
        from corpuskit.executors.local import map_unordered

        return map_unordered
    if name == "ray":
        from corpuskit.executors.ray import map_unordered as ray_map

        return ray_map
    raise ValueError(f"unknown executor {name!r}; use 'local' or 'ray'")
