"""A corpus root on object storage, against moto's S3 server on 127.0.0.1 (never a real cloud):
ingest -> curate -> dedup -> mix on ``s3://bucket/corpus`` writes exactly the bytes of the same chain on a
local corpus; a run killed with ``kill -9`` leaves no commit record for its unfinished unit and the rerun
completes it; a second writer is refused (exit 3) naming the holder; ``memory://`` works the same way."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

pytest.importorskip("s3fs", reason="an s3:// corpus needs s3fs: pip install -e '.[s3]'")
pytest.importorskip("moto.server", reason="the S3 tests need moto[s3] and flask (dev extra)")

from corpuskit.cli import app  # noqa: E402
from corpuskit.store.commits import FileRecord  # noqa: E402
from tests.support import moto_s3  # noqa: E402

endpoint, s3 = moto_s3.endpoint, moto_s3.s3  # the shared fixtures
DATA = (".parquet", ".bin", ".idx", ".npy")


@pytest.fixture
def remote(s3, endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """(boto3 client, bucket); s3fs finds the server through AWS_ENDPOINT_URL, working copies go to tmp."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("CORPUSKIT_CACHE_DIR", str(tmp_path / "cache"))
    return s3


def _cli(*args: object, code: int = 0) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == code, res.output
    return res.output


def _chain(out: Path, corpus: str) -> None:
    """The demo's generated sources through ingest, curate, dedup and mix on ``corpus``."""
    from corpuskit.demo.sources import demo_sources

    out.mkdir(parents=True, exist_ok=True)
    specs, _ = demo_sources(None, out, scale=0.1)
    configs = []
    for name, spec in specs.items():
        path = out / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "output": corpus, **spec}))
        configs.append(path)
    _cli("ingest", *configs, "--workers", "2")
    _cli("curate", *configs, "--workers", "2")
    _cli("dedup", *configs, "--workers", "2")
    mixes = {
        "corpus": corpus,
        "out": "mix",
        "tokenizer": "bytes",
        "heldout": {"bytes_per_source": 5000},
        "decontam": {"enabled": False},  # generated text repeats its templates (as in the demo)
        "mixtures": [{"name": "m", "weights": {"books": 0.4, "forums": 0.3, "web": 0.3}, "tokens": 30000}],
    }
    (out / "mixes.yaml").write_text(yaml.safe_dump(mixes))
    _cli("mix", "--config", out / "mixes.yaml")


def _local_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and (p.suffix in DATA or p.name == "overlap.json")
    }


def _bucket_files(s3, prefix: str) -> dict[str, bytes]:
    client, bucket = s3
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"][len(prefix) :]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def test_chain_on_s3_is_byte_identical_to_local(remote, tmp_path):
    _, bucket = remote
    t0 = time.perf_counter()
    _chain(tmp_path / "local", str(tmp_path / "local" / "corpus"))
    t1 = time.perf_counter()
    _chain(tmp_path / "s3", f"s3://{bucket}/corpus")
    t2 = time.perf_counter()
    print(f"chain: local {t1 - t0:.1f} s, s3 (moto) {t2 - t1:.1f} s")
    local = _local_files(tmp_path / "local" / "corpus")
    on_s3 = {k: v for k, v in _bucket_files(remote, "corpus/").items() if k in local or k.endswith(DATA)}
    attrs = {k.split("/")[2] for k in local if "/attributes/" in k}
    assert {"signals", "curate", "minhash", "dedup"} <= attrs and "_dedup/overlap.json" in local
    assert sorted(on_s3) == sorted(local)
    assert [k for k in local if on_s3[k] != local[k]] == []
    shards = _local_files(tmp_path / "local" / "mix")
    assert any(k.endswith(".bin") for k in shards)
    assert _local_files(tmp_path / "s3" / "mix") == shards
    manifest = json.loads((tmp_path / "s3" / "mix" / "m" / "manifest.json").read_text())
    assert manifest["config"]["corpus"] == f"s3://{bucket}/corpus"
    # readers see the remote corpus as it is: stats and export read it too
    out = _cli("stats", f"s3://{bucket}/corpus")
    assert "books" in out and "web" in out
    _cli("export", f"s3://{bucket}/corpus", "--out", tmp_path / "export", "--format", "parquet")
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["books", "forums", "web"]
    # nothing of the working copy's own is pushed: no lock objects, no temp keys remain
    keys = _bucket_files(remote, "corpus/")
    assert not [k for k in keys if k.endswith("/_lock") or k.rsplit("/", 1)[-1].startswith(".")]


# ---------------------------------------------------------------------------------------------- faults


def _write_inputs(folder: Path, files: int, lines: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        with open(folder / f"in-{f:03d}.jsonl", "w") as fh:
            for i in range(lines):
                fh.write(json.dumps({"text": f"file {f} line {i} " + "word " * (i % 17), "url": f"u{f}/{i}"}))
                fh.write("\n")


def _config(tmp_path: Path, output: str, file: str = "src.yaml") -> Path:
    p = tmp_path / file
    p.write_text(
        f"name: src\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: '{output}'\n"
        "options: {text_field: text, url_field: url}\n"
    )
    return p


def _records(s3, prefix: str) -> dict[str, dict]:
    return {
        k: json.loads(v)
        for k, v in _bucket_files(s3, prefix).items()
        if k.startswith("_commits/documents/part-") and not k.endswith(".failed.json")
    }


def _intact(s3, prefix: str, record: dict) -> bool:
    """Every file the record names is in the bucket with its committed size and digest."""
    import hashlib

    objects = _bucket_files(s3, prefix)
    for f in map(lambda d: FileRecord(**d), record["files"]):
        data = objects.get(f"documents/{f.name}")
        if (
            data is None
            or len(data) != f.bytes
            or hashlib.blake2b(data, digest_size=16).hexdigest() != f.digest
        ):
            return False
    return True


def test_killed_ingest_leaves_no_record_of_its_unfinished_unit_and_the_rerun_completes(remote, tmp_path):
    _, bucket = remote
    _write_inputs(tmp_path / "data", files=30, lines=3000)
    _cli("ingest", _config(tmp_path, str(tmp_path / "ref"), "ref.yaml"), "--workers", "1")
    url = f"s3://{bucket}/killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpuskit.cli", "ingest", _config(tmp_path, url), "--workers", "1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.time() + 180
    while time.time() < deadline and len(_records(remote, "killed/src/")) < 2 and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-run
    proc.wait(timeout=30)
    records = _records(remote, "killed/src/")
    assert 0 < len(records) < 30, "the kill should land mid-run"
    assert all(_intact(remote, "killed/src/", r) for r in records.values())  # committed = complete
    lock = json.loads(_bucket_files(remote, "killed/src/")["_lock"])
    assert lock["pid"] == proc.pid and lock["host"] == socket.gethostname()  # left behind: stale

    # the rerun takes over the stale lock (same host, its process is dead) and redoes only the rest
    out = _cli("ingest", _config(tmp_path, url), "--workers", "1", "--json", "-")
    summary = json.loads(out[out.index("{") :])["sources"][0]
    assert summary["resumed"] == len(records) and summary["inputs"] == 30  # only the uncommitted are redone
    ref = _local_files(tmp_path / "ref" / "src" / "documents")
    got = {
        k[len("documents/") :]: v
        for k, v in _bucket_files(remote, "killed/src/").items()
        if k.startswith("documents/")
    }
    assert got == ref  # every part, byte for byte, and no leftover of the killed try
    assert "_lock" not in _bucket_files(remote, "killed/src/")


def test_a_second_writer_is_busy_and_a_foreign_stale_lock_is_explained(remote, tmp_path):
    from corpuskit.store.remote import RemoteCorpus, working_copy
    from corpuskit.store.remote_lock import remote_lock

    client, bucket = remote
    _write_inputs(tmp_path / "data", files=2, lines=20)
    url = f"s3://{bucket}/corpus"
    cfg = _config(tmp_path, url)
    holder = RemoteCorpus(url, working_copy(tmp_path / "other-machine", url))
    with remote_lock(holder, "src", "corpuskit curate"):
        out = _cli("ingest", cfg, code=3)
        assert f"pid {os.getpid()} on {socket.gethostname()}" in out and "corpuskit curate" in out
        assert f"{url}/src/_lock" in out
    _cli("ingest", cfg)  # released: the next writer goes ahead

    owner = {
        "host": "gpu-node-7",
        "pid": 4242,
        "command": "corpuskit ingest",
        "since": "2026-12-01T10:00:00+00:00",
    }
    client.put_object(Bucket=bucket, Key="corpus/src/_lock", Body=json.dumps(owner).encode())
    out = _cli("ingest", cfg, code=3)
    assert "gpu-node-7" in out and "stale" in out and "aws s3 rm" in out
    assert json.loads(client.get_object(Bucket=bucket, Key="corpus/src/_lock")["Body"].read()) == owner
    out = _cli("ingest", cfg, "--corpus", "s3://no-such-bucket-here/corpus", code=1)  # named, not a traceback
    assert "s3://no-such-bucket-here/corpus/src/_lock" in out and "internal error" not in out


def test_any_fsspec_url_memory(tmp_path, monkeypatch, shared_data):
    """``memory://`` (fsspec's in-process filesystem): the same documents, signals, decisions and mixture as a
    local corpus."""
    import fsspec

    from corpuskit.dedup.evaluation import real_texts

    monkeypatch.setenv("CORPUSKIT_CACHE_DIR", str(tmp_path / "cache"))
    texts = real_texts(shared_data, 240)
    (tmp_path / "data").mkdir()
    for f in range(3):
        rows = [json.dumps({"text": t, "url": f"u{f}/{i}"}) for i, t in enumerate(texts[f::3])]
        (tmp_path / "data" / f"in-{f}.jsonl").write_text("\n".join(rows) + "\n")
    local = _config(tmp_path, str(tmp_path / "local"), "local.yaml")
    mem = _config(tmp_path, "memory://corpora/c1", "mem.yaml")
    for cfg in (local, mem):
        _cli("ingest", cfg, "--workers", "1")
        _cli("curate", cfg)
        _cli("dedup", cfg)
    fs = fsspec.filesystem("memory")
    got = {
        p[len("/corpora/c1/") :]: fs.cat_file(p)
        for p in fs.find("/corpora/c1")
        if p.endswith((".parquet", ".json"))
    }
    want = _local_files(tmp_path / "local")
    assert want and {k: got.get(k) for k in want} == want
    # the flag forms of the readers take the URL too
    for name, corpus in (("local", tmp_path / "local"), ("mem", "memory://corpora/c1")):
        out = tmp_path / f"mix-{name}"
        _cli(
            "mix",
            "--corpus",
            corpus,
            "--weights",
            "src=1",
            "--tokens",
            "3000",
            "--out",
            out,
            "--heldout-bytes",
            2000,
        )
    assert _local_files(tmp_path / "mix-mem") == _local_files(tmp_path / "mix-local") != {}
    shown = json.loads(_cli("show", "memory://corpora/c1", "src", "--json"))
    assert shown == json.loads(_cli("show", tmp_path / "local", "src", "--json"))
    fs.rm("/corpora/c1", recursive=True)
