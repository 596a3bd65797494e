"""constraints.txt pins every dependency pyproject.toml declares, at versions pyproject allows."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
NOT_LOCKED = {"torch"}  # installed by its own command: the CPU build here, a CUDA build on a GPU machine


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return [Requirement(r) for r in reqs]


def locked() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, ver = line.partition("==")
        assert ver, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        pins[_norm(name)] = Version(ver)
    return pins


def test_lock_pins_every_declared_dependency_within_its_range():
    pins = locked()
    for req in declared():
        name = _norm(req.name)
        if name in NOT_LOCKED:
            assert name not in pins, f"{name} must not be pinned in constraints.txt (see .ci/lock)"
            continue
        assert name in pins, f"{req.name} is declared in pyproject.toml but not pinned; run: bash .ci/lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's {req.specifier}"
        )


def test_installed_direct_dependencies_are_the_locked_versions():
    """The README's install uses the lock: what is installed is what was tested."""
    pins = locked()
    for req in declared():
        name = _norm(req.name)
        if name in NOT_LOCKED:
            continue
        try:
            installed = Version(version(req.name))
        except PackageNotFoundError:
            continue  # an extra not installed here (e.g. ray)
        assert installed == pins[name], (
            f"{req.name} {installed} is installed but the lock says {pins[name]}; "
            'install with: pip install -e ".[dev]" -c constraints.txt'
        )
