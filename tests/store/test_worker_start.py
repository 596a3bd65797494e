"""A local pool's workers start cheaply and as the parent is now: forked from a fork server that imported
only thread-free modules, without the CLI's commands, with the parent's current environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from corpuskit.connectors.base import get_connector_class, known_kinds
from corpuskit.executors.local import PRELOAD, map_unordered


def _environ(name: str) -> str | None:
    return os.environ.get(name)


def _threads_after_import(modules: list[str]) -> int:
    code = f"import os\nfor m in {modules!r}: __import__(m)\nprint(len(os.listdir('/proc/self/task')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_every_preloaded_module_starts_no_thread_on_import():
    """A fork server forks its workers: a module that starts a thread there (polars, pyarrow do) would
    be copied mid-state into every worker."""
    modules = list(PRELOAD)
    for kind in known_kinds():
        connector = get_connector_class(kind)()
        modules += connector.worker_modules()
        if hasattr(connector.options, "extractor"):
            other = connector.options.model_copy(update={"extractor": "resiliparse"})
            modules += type(connector)(other).worker_modules()
    assert "corpuskit.connectors.warc" in modules and "trafilatura" in modules
    assert _threads_after_import(sorted(set(modules))) == 1
    assert _threads_after_import(["polars"]) > 1  # the check can fail


def test_workers_see_the_environment_of_now_not_of_the_first_pool(monkeypatch):
    monkeypatch.setenv("CORPUSKIT_TEST_PROBE", "first")
    assert set(map_unordered(_environ, [("CORPUSKIT_TEST_PROBE",)] * 2, 2)) == {"first"}
    monkeypatch.setenv("CORPUSKIT_TEST_PROBE", "second")  # a fork server started above keeps "first"
    assert set(map_unordered(_environ, [("CORPUSKIT_TEST_PROBE",)] * 2, 2)) == {"second"}


def test_a_worker_does_not_import_the_commands_of_the_cli_main(tmp_path):
    """The console script (``from corpuskit.cli import main``) is the main module, which every spawned or
    fork-server worker imports again: without its commands (scipy, torch ...)."""
    script = tmp_path / "main.py"
    script.write_text(
        "import multiprocessing as mp, sys\n"
        "from corpuskit.cli import app\n"
        "def probe():\n"
        "    return 'corpuskit.dedup.config' in sys.modules\n"
        "if __name__ == '__main__':\n"
        "    with mp.get_context('spawn').Pool(1) as p:\n"
        "        here = 'corpuskit.dedup.config' in sys.modules\n"
        "        print(p.apply(probe), here, len(app.registered_commands))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    in_worker, in_parent, commands = out.stdout.split()
    assert in_worker == "False" and in_parent == "True" and int(commands) > 5
