"""Inputs on object storage, against moto's S3 server on 127.0.0.1 (never a real cloud): an s3:// ingest
equals the local one, unchanged objects are skipped, overwritten ones redone, and a missing object or a
failing server is a failed input that the rerun completes."""

from __future__ import annotations

import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

pytest.importorskip("s3fs", reason="s3:// inputs need s3fs: pip install -e '.[s3]'")
pytest.importorskip("moto.server", reason="the S3 tests need moto[s3] and flask (dev extra)")
boto3 = pytest.importorskip("boto3", reason="the S3 tests need boto3 (the dev extra)")

from corpuskit.cli import app  # noqa: E402
from corpuskit.config import ConfigError, load_source_config  # noqa: E402
from corpuskit.ingest import ingest  # noqa: E402
from corpuskit.store import scan_documents  # noqa: E402
from tests.support import moto_s3  # noqa: E402

endpoint, s3 = moto_s3.endpoint, moto_s3.s3  # the shared fixtures

FILES = ("cc_en_head-0091.jsonl.gz", "cc_en_head-0174.jsonl.gz")


def put(s3, key: str, path: Path) -> None:
    client, bucket = s3
    client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def write_config(
    tmp_path: Path, inputs: list[str], endpoint: str | None, name: str = "cc", more: str = ""
) -> Path:
    cfg = tmp_path / f"{name}.yaml"
    quoted = ", ".join(f"'{i}'" for i in inputs)
    options = f", storage_options: {{endpoint_url: '{endpoint}'{more}}}" if endpoint else ""
    head = f"name: {name}\nkind: jsonl\noutput: corpus\ninputs: [{quoted}]\n"
    cfg.write_text(head + f"fetch: {{cache_dir: cache{options}}}\n")
    return cfg


def documents(tmp_path: Path, name: str) -> pl.DataFrame:
    """Documents with the input's name in place of its full URI (the one thing that should differ)."""
    df = scan_documents(tmp_path / "corpus", name).collect()
    record = pl.col("locator").str.split("/").list.last()
    return df.with_columns(record.alias("record")).sort("record")


@pytest.fixture
def uploaded(s3, shared_data: Path) -> Path:
    src = shared_data / "web/commoncrawl_ccnet_jsonl"
    for f in FILES:
        put(s3, f"crawl/{f}", src / f)
    return src


def test_s3_ingest_equals_local_ingest_rerun_skips_overwrite_redoes(
    s3, uploaded: Path, endpoint: str, tmp_path: Path
) -> None:
    _, bucket = s3
    local = tmp_path / "local"
    local.mkdir()
    for f in FILES:
        shutil.copy(uploaded / f, local / f)
    ingest(load_source_config(write_config(tmp_path, ["local/*.jsonl.gz"], None, "loc")), workers=1)
    cfg = write_config(tmp_path, [f"s3://{bucket}/crawl/*.jsonl.gz"], endpoint)
    summary = ingest(load_source_config(cfg), workers=2)
    assert not summary.failed
    assert [r.uri for r in summary.results] == [f"s3://{bucket}/crawl/{f}" for f in FILES]

    remote, here = documents(tmp_path, "cc"), documents(tmp_path, "loc")
    assert remote.height == here.height > 0
    same = ["record", "text", "url", "created", "metadata"]
    assert remote.select(same).equals(here.select(same))
    assert remote["locator"][0].startswith(f"s3://{bucket}/crawl/")  # ids hash the URL, as for http inputs
    assert set(remote["id"]).isdisjoint(here["id"])

    again = ingest(load_source_config(cfg), workers=1)
    assert [r.skipped for r in again.results] == [True, True]

    put(s3, f"crawl/{FILES[0]}", uploaded / FILES[1])  # overwritten: new ETag and size
    redone = ingest(load_source_config(cfg), workers=1)
    assert [r.skipped for r in redone.results] == [False, True]
    docs = documents(tmp_path, "cc")
    first = docs.filter(pl.col("locator").str.contains(FILES[0]))
    second = docs.filter(pl.col("locator").str.contains(FILES[1]))
    assert first["text"].to_list() == second["text"].to_list()  # the new bytes, not the cached old copy


def test_missing_object_and_bucket_fail_and_the_rerun_completes(
    s3, uploaded: Path, endpoint: str, tmp_path: Path
) -> None:
    _, bucket = s3
    present, missing = f"s3://{bucket}/crawl/{FILES[0]}", f"s3://{bucket}/later/{FILES[1]}"
    nobucket = f"s3://no-such-bucket-{bucket}/x.jsonl.gz"
    cfg = write_config(tmp_path, [present, missing, nobucket], endpoint)
    res = CliRunner().invoke(app, ["ingest", str(cfg)])
    assert res.exit_code == 1, res.output
    assert missing in res.output and nobucket in res.output and "no such object" in res.output
    assert not list((tmp_path / "cache").glob("*.part"))

    put(s3, f"later/{FILES[1]}", uploaded / FILES[1])
    cfg = write_config(tmp_path, [present, missing], endpoint)
    summary = ingest(load_source_config(cfg), workers=1)
    assert not summary.failed
    assert [r.skipped for r in summary.results] == [True, False]

    s3[0].delete_object(Bucket=bucket, Key=f"later/{FILES[1]}")  # deleted after its commit: redone, fails
    summary = ingest(load_source_config(cfg), workers=1)
    assert [r.uri for r in summary.failed] == [missing]
    assert [r.skipped for r in summary.results] == [True, False]


class _Failing(BaseHTTPRequestHandler):
    status = 500

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "says"), [(500, "Internal Server Error"), (403, "Forbidden|403|denied")])
def test_a_failing_or_denying_server_fails_the_inputs_and_the_rerun_completes(
    s3, uploaded: Path, endpoint: str, tmp_path: Path, status: int, says: str
) -> None:
    _, bucket = s3
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("Failing", (_Failing,), {"status": status}))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    inputs = [f"s3://{bucket}/crawl/{f}" for f in FILES]
    try:
        # retries are botocore's (its defaults back off for ~20 s here): one attempt keeps the test short
        no_retry = ", config_kwargs: {retries: {max_attempts: 1}}"
        broken = write_config(tmp_path, inputs, f"http://127.0.0.1:{httpd.server_address[1]}", more=no_retry)
        summary = ingest(load_source_config(broken), workers=1)
    finally:
        httpd.shutdown()
    assert [r.uri for r in summary.failed] == inputs
    assert re.search(says, str(summary.failed[0].failed)), summary.failed[0].failed
    commits = tmp_path / "corpus/cc/_commits/documents"
    assert len(list(commits.glob("part-*.failed.json"))) == 2
    assert not [p for p in commits.glob("part-*.json") if not p.name.endswith(".failed.json")]
    summary = ingest(load_source_config(write_config(tmp_path, inputs, endpoint)), workers=1)
    assert not summary.failed and not any(r.skipped for r in summary.results)


def test_storage_options_are_checked_at_load(s3, endpoint: str, tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    base = "name: cc\nkind: jsonl\ninputs: ['s3://b/x.jsonl.gz']\n"
    cfg.write_text(base + "fetch: {storage_options: {endpointurl: 'http://x'}}\n")
    with pytest.raises(ConfigError, match="unknown storage option.*endpointurl.*endpoint_url"):
        load_source_config(cfg)
    cfg.write_text(base + "fetch: {storage_options: {secret: 'x'}}\n")
    with pytest.raises(ConfigError, match="credentials do not belong in a config"):
        load_source_config(cfg)
    cfg.write_text("name: cc\nkind: jsonl\ninputs: ['a.jsonl']\nfetch: {storage_options: {anon: true}}\n")
    with pytest.raises(ConfigError, match="no input is an object-storage URL"):
        load_source_config(cfg)
