"""The Ray executor: ingest -> curate -> dedup -> mix on a local 2-CPU Ray cluster writes exactly the bytes
a local run writes (documents, attribute sets, overlap matrix, the mixture's shards and manifest), and a
worker killed mid-unit is retried, or leaves its unit not done for the rerun."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.store import MINHASH, SourceStore, attribute_current, doc_records
from corpuskit.store.commits import settings_hash
from corpuskit.store.units import UnitsFailed

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'corpuskit[ray]')")


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster with 2 CPUs for the whole module (starting Ray takes seconds)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, address="local")
    yield
    ray.shutdown()


def _cli(*args: str) -> None:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output


def _chain(out: Path, executor: str) -> Path:
    """The demo's generated sources through ingest, curate, dedup and mix, all with ``executor``."""
    from corpuskit.demo.sources import demo_sources

    specs, _ = demo_sources(None, out, scale=0.1)
    configs = []
    for name, spec in specs.items():
        path = out / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "output": str(out / "corpus"), **spec}))
        configs.append(path)
    ex = ["--executor", executor, "--workers", "2"]
    _cli("ingest", *configs, *ex)
    _cli("curate", *configs, *ex)
    _cli("dedup", *configs, *ex)
    mixes = out / "mixes.yaml"
    mixes.write_text(
        yaml.safe_dump(
            {
                "corpus": "corpus",
                "out": "mix",
                "tokenizer": "bytes",
                "heldout": {"bytes_per_source": 5000},
                "decontam": {"enabled": False},  # generated text repeats its templates (as in the demo)
                "mixtures": [
                    {"name": "m", "weights": {"books": 0.4, "forums": 0.3, "web": 0.3}, "tokens": 30000}
                ],
            }
        )
    )
    _cli("mix", "--config", mixes, *ex)
    return out


def _files(root: Path) -> dict[str, bytes]:
    """Every data file a stage writes (Parquet, the overlap matrix, mixture shards, ids, held-out sets and
    manifest), by relative path."""
    keep = (".parquet", ".bin", ".idx", ".npy", ".txt")
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        data = p.suffix in keep or rel.endswith("overlap.json") or rel.startswith("mix/")
        if p.is_file() and data and "inputs" not in p.parts:
            # a manifest records the corpus folder it was drawn from: the one byte difference allowed
            out[rel] = p.read_bytes().replace(str(root).encode(), b"<root>")
    return out


def test_chain_on_ray_is_byte_identical_to_local(cluster, tmp_path, monkeypatch):
    from corpuskit.executors import ray as ray_executor

    on_ray_units: set[str] = set()  # the stage functions that ran as Ray tasks
    real = ray_executor.map_unordered

    def spy(fn, tasks, *args, **kw):
        tasks = list(tasks)
        on_ray_units.update(t[0].__name__ for t in tasks)
        return real(fn, tasks, *args, **kw)

    monkeypatch.setattr(ray_executor, "map_unordered", spy)
    local = _files(_chain(tmp_path / "local", "local"))
    assert not on_ray_units
    on_ray = _files(_chain(tmp_path / "ray", "ray"))
    assert {"ingest_shard", "draw_unit"} <= on_ray_units, on_ray_units
    kinds = {
        k.split("/")[2] if k.startswith("corpus/") and k.count("/") > 2 else k.split("/")[0] for k in local
    }
    assert {"documents", "attributes", "mix"} <= kinds, sorted(local)[:20]
    attrs = {k.split("/")[3] for k in local if "/attributes/" in k}
    assert {"signals", "curate", "minhash", "dedup"} <= attrs, attrs
    assert any(k.endswith(".bin") for k in local) and "corpus/_dedup/overlap.json" in local
    assert {"mix/m/manifest.json", "mix/m/ids/web.txt", "mix/heldout/web.jsonl"} <= set(local)
    assert sorted(on_ray) == sorted(local)
    assert [k for k in local if on_ray[k] != local[k]] == []


# ---------------------------------------------------------------------------------------------- faults


def _ancestors(pid: int, depth: int = 4) -> set[int]:
    out = set()
    for _ in range(depth):
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        out.add(pid)
    return out


def _kill_first_busy_worker(stop: threading.Event, killed: list[int]) -> None:
    """Kill -9 the first worker of *this* test's cluster that runs a unit."""
    me = os.getpid()
    while not stop.is_set() and not killed:
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                title = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::_with_reports") and me in _ancestors(int(p)):
                os.kill(int(p), signal.SIGKILL)
                killed.append(int(p))
                return
        time.sleep(0.01)


def _dedup_with_a_kill(corpus: Path) -> list[int]:
    from corpuskit.dedup.config import load_dedup_config
    from corpuskit.dedup.pipeline import dedup_sources

    stop, killed = threading.Event(), []
    t = threading.Thread(target=_kill_first_busy_worker, args=(stop, killed), daemon=True)
    t.start()
    try:
        dedup_sources(corpus, ["s"], load_dedup_config({}, overrides={"workers": 2}), executor="ray")
    finally:
        stop.set()
        t.join()
    return killed


def _write_short_docs(corpus: Path) -> None:
    from corpuskit.dedup.evaluation import real_texts
    from tests.conftest import SHARED_DATA
    from tests.support.store import commit_rows

    words = " ".join(real_texts(SHARED_DATA, 200)).split()
    rows = []
    for i in range(12_000):  # two files of 6,000 short documents: a unit takes a second or more
        lo = (i * 37) % (len(words) - 80)
        text = " ".join(words[lo : lo + 60]) + f" doc {i}"
        rows.append({"id": f"s-{i:06d}", "source": "s", "text": text, "locator": str(i)})
    commit_rows(corpus, "s", "k", rows, rows_per_file=6_000)


def _dedup_outputs(corpus: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for d in ("minhash", "dedup")
        for p in sorted(SourceStore(corpus, "s").attributes_dir(d).glob("*.parquet"))
    }


def test_killed_worker_is_retried_and_output_is_identical(cluster, tmp_path, shared_data):
    from corpuskit.dedup.config import load_dedup_config
    from corpuskit.dedup.pipeline import dedup_sources

    reference = tmp_path / "local"
    _write_short_docs(reference)
    dedup_sources(reference, ["s"], load_dedup_config({}))
    corpus = tmp_path / "ray"
    _write_short_docs(corpus)
    killed = _dedup_with_a_kill(corpus)
    assert killed, "no worker was running a unit to kill"
    assert _dedup_outputs(corpus) == _dedup_outputs(reference)


def test_killed_worker_without_retries_leaves_the_unit_not_done(cluster, tmp_path, shared_data, monkeypatch):
    from corpuskit.dedup.config import load_dedup_config
    from corpuskit.dedup.pipeline import dedup_sources

    reference = tmp_path / "local"
    _write_short_docs(reference)
    dedup_sources(reference, ["s"], load_dedup_config({}))
    corpus = tmp_path / "ray"
    _write_short_docs(corpus)
    monkeypatch.setattr("corpuskit.executors.ray.MAX_RETRIES", 0)
    with pytest.raises(UnitsFailed, match="signatures") as err:
        _dedup_with_a_kill(corpus)
    assert "Worker" in str(err.value) or "died" in str(err.value), err.value
    store = SourceStore(corpus, "s")
    params = settings_hash(load_dedup_config({}).signature_params())
    done = [attribute_current(store, MINHASH, d, params) for d in doc_records(corpus, "s")]
    assert done.count(False) >= 1  # the killed unit is not committed
    assert not list(store.attributes_dir("dedup").glob("*.parquet"))  # no decision on partial signatures
    monkeypatch.setattr("corpuskit.executors.ray.MAX_RETRIES", 3)
    dedup_sources(corpus, ["s"], load_dedup_config({}, overrides={"workers": 2}), executor="ray")
    assert _dedup_outputs(corpus) == _dedup_outputs(reference)


def test_mix_with_a_killed_worker_is_retried_and_identical(cluster, tmp_path, shared_data):
    from corpuskit.mix import MixtureConfig
    from tests.support.mix_corpus import build_study, make_corpus, tree_bytes

    corpus = tmp_path / "corpus"
    make_corpus(corpus, shared_data)
    mixes = [MixtureConfig(name="m", weights={"books": 0.5, "wiki": 0.3, "verse": 0.2}, tokens=2_000_000)]

    def build(out: Path, **kw) -> dict[str, bytes]:
        build_study(corpus, mixes, out, **kw)
        return tree_bytes(out)

    reference = build(tmp_path / "local")
    stop, killed = threading.Event(), []
    t = threading.Thread(target=_kill_first_busy_worker, args=(stop, killed), daemon=True)
    t.start()
    try:
        on_ray = build(tmp_path / "ray", workers=2, executor="ray")
    finally:
        stop.set()
        t.join()
    assert killed, "no worker was drawing a source to kill"
    assert on_ray == reference
