"""Choosing the executor of a stage command: clear errors (exit 2) before any work starts."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.configs import ConfigError
from corpuskit.executors import choose_executor


def test_unknown_executor_and_address_without_ray_are_user_mistakes():
    with pytest.raises(ConfigError, match="use 'local' or 'ray'"):
        choose_executor("dask")
    with pytest.raises(ConfigError, match="--ray-address needs --executor ray"):
        choose_executor("local", "auto")
    assert choose_executor("local") == "local"


@pytest.mark.parametrize("command", ["ingest", "curate", "dedup"])
def test_ray_missing_exits_2_with_the_install_command(command, monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"name: s\nkind: jsonl\ninputs: [{tmp_path}/x.jsonl]\noutput: {tmp_path}/corpus\n")
    (tmp_path / "x.jsonl").write_text('{"text": "hello"}\n')
    res = CliRunner().invoke(app, [command, str(cfg), "--executor", "ray"])
    assert res.exit_code == 2, res.output
    assert "pip install 'corpuskit[ray]'" in res.output


@pytest.mark.parametrize("command", ["ingest", "curate"])
def test_an_unreachable_ray_address_is_one_clear_error_before_any_work(command, tmp_path, monkeypatch):
    pytest.importorskip("ray", reason="Ray is not installed")
    import time

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"name: s\nkind: jsonl\ninputs: [{tmp_path}/x.jsonl]\noutput: {tmp_path}/corpus\n")
    (tmp_path / "x.jsonl").write_text('{"text": "hello"}\n')
    t0 = time.monotonic()
    res = CliRunner().invoke(app, [command, str(cfg), "--executor", "ray", "--ray-address", "127.0.0.1:1"])
    assert time.monotonic() - t0 < 30  # refused at once, not Ray's minutes of retries
    assert res.exit_code == 1, res.output
    out = " ".join(res.output.split())
    assert "cannot reach the Ray cluster at 127.0.0.1:1 (--ray-address)" in out
    assert "ray start --head" in out and "RAY_ADDRESS" in out
    assert "Traceback" not in out and "internal error" not in out
    assert not (tmp_path / "corpus").exists()  # failed before reading or writing anything


def test_ray_failing_to_connect_becomes_the_same_error(monkeypatch):
    ray = pytest.importorskip("ray", reason="Ray is not installed")
    from corpuskit.executors import ClusterUnreachable
    from corpuskit.executors import ray as ray_executor

    def refuse(**kwargs):
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.setattr(ray_executor, "_address", "auto")
    with pytest.raises(ClusterUnreachable, match=r"at auto \(--ray-address\): Could not find any running"):
        ray_executor.connect()


def test_stage_run_is_built_once_from_options_and_a_misspelt_shorthand_is_an_error(tmp_path):
    from corpuskit.dedup import dedup_sources, load_dedup_config
    from corpuskit.executors import StageRun

    run = StageRun.from_options("local", None, workers=2, wait=True)
    assert run == StageRun(executor="local", workers=2, wait=True, allow_incomplete=False)
    with pytest.raises(ConfigError, match="--ray-address needs --executor ray"):
        StageRun.from_options("local", "auto")
    assert run.replace(workers=3).workers == 3 and run.workers == 2
    with pytest.raises(TypeError, match="workerz"):  # never silently dropped
        dedup_sources(tmp_path, [], load_dedup_config({}), workerz=3)
