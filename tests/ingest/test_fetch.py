"""Input expansion and the HTTP fetch layer, against a local server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from corpuskit.config import FetchConfig
from corpuskit.connectors.fetch import FetchError, InputNotFoundError, cache_path, expand_inputs, fetch

SAMPLE = "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz"


class Server:
    """A tiny HTTP/1.1 file server with Range support and switchable faults."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[dict[str, str]] = []
        self.fail_first = 0  # answer this many requests with `fail_status`
        self.fail_status = 500
        self.retry_after: str | None = None
        self.drop_after: int | None = None  # first full response stops after this many body bytes
        self.ignore_range = False
        self.ignore_if_range = False  # answer a Range with 206 even when If-Range no longer matches
        self.stall_s = 0.0  # sleep before answering (timeouts)
        self.trickle_s = 0.0  # send the body one byte per this many seconds
        self.short_length = False  # a Content-Length of half the body (a broken proxy)
        self.no_length = False  # stream without Content-Length (size checked while streaming)
        self.etag = '"v1"'
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests.append({"path": self.path, **{k: v for k, v in self.headers.items()}})
                if outer.stall_s:
                    time.sleep(outer.stall_s)
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    self.send_response(outer.fail_status)
                    if outer.retry_after:
                        self.send_header("Retry-After", outer.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                f = outer.root / self.path.lstrip("/")
                if not f.is_file():
                    self.send_error(404)
                    return
                data = f.read_bytes()
                start = 0
                m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if_range = self.headers.get("If-Range")
                if (
                    m
                    and not outer.ignore_range
                    and (if_range is None or if_range == outer.etag or outer.ignore_if_range)
                ):
                    start = int(m.group(1))
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("ETag", outer.etag)
                if outer.no_length:
                    self.send_header("Connection", "close")
                elif outer.short_length:
                    self.send_header("Content-Length", str(len(body) // 2))
                    self.send_header("Connection", "close")
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if outer.drop_after is not None and start == 0:
                    cut, outer.drop_after = outer.drop_after, None  # drop once
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if outer.trickle_s:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(outer.trickle_s)
                    return
                self.wfile.write(body)
                if outer.no_length:
                    self.close_connection = True

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients that hang up on purpose (size limit, timeout) are expected here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, rel: str) -> str:
        return f"{self.base}/{rel}"


@pytest.fixture
def server(shared_data: Path) -> Iterator[Server]:
    srv = Server(shared_data)
    t = threading.Thread(target=srv.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    t.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def cfg(tmp_path: Path, **kw: object) -> FetchConfig:
    return FetchConfig(cache_dir=tmp_path / "cache", **{"timeout_s": 5.0, "retries": 3, **kw})


class Sleeps(list):
    def __call__(self, s: float) -> None:
        self.append(s)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_download_is_identical_and_cached(server: Server, shared_data: Path, tmp_path: Path) -> None:
    url = server.url(SAMPLE)
    got = fetch(url, cfg(tmp_path))
    assert got == cache_path(url, tmp_path / "cache") and got.name.endswith("-" + Path(SAMPLE).name)
    assert sha(got) == sha(shared_data / SAMPLE)
    assert fetch(url, cfg(tmp_path)) == got and len(server.requests) == 1  # second call: cache hit
    assert not list((tmp_path / "cache").glob("*.part"))


def test_dropped_connection_is_resumed_with_range(server: Server, shared_data: Path, tmp_path: Path) -> None:
    server.drop_after = 50_000
    sleeps = Sleeps()
    got = fetch(server.url(SAMPLE), cfg(tmp_path), sleep=sleeps)
    assert sha(got) == sha(shared_data / SAMPLE)
    assert len(server.requests) == 2
    assert server.requests[1]["Range"] == "bytes=50000-" and server.requests[1]["If-Range"] == '"v1"'
    assert len(sleeps) == 1


def test_changed_file_restarts_instead_of_splicing(server: Server, shared_data: Path, tmp_path: Path) -> None:
    server.drop_after = 30_000
    sleeps = Sleeps()
    url = server.url(SAMPLE)
    server.etag = '"v1"'
    orig_handler_requests = server.requests

    def bump_etag(s: float) -> None:
        server.etag = '"v2"'  # the server's file "changed" between the two attempts
        sleeps.append(s)

    got = fetch(url, cfg(tmp_path), sleep=bump_etag)
    assert sha(got) == sha(shared_data / SAMPLE)
    assert orig_handler_requests[1]["If-Range"] == '"v1"'  # asked for a resume, got a full 200 back


def test_server_ignoring_if_range_is_not_spliced(server: Server, shared_data: Path, tmp_path: Path) -> None:
    """A server that answers a resume of a changed file with 206 anyway: the new ETag on the 206 gives it
    away, and the download restarts from byte 0 instead of appending new bytes to old ones."""
    server.drop_after = 30_000
    server.ignore_if_range = True

    def change(s: float) -> None:
        server.etag = '"v2"'

    got = fetch(server.url(SAMPLE), cfg(tmp_path), sleep=change)
    assert sha(got) == sha(shared_data / SAMPLE)
    assert [r.get("Range") for r in server.requests] == [None, "bytes=30000-", None]


def test_server_ignoring_range_restarts_from_zero(server: Server, shared_data: Path, tmp_path: Path) -> None:
    server.drop_after = 40_000
    server.ignore_range = True
    got = fetch(server.url(SAMPLE), cfg(tmp_path), sleep=Sleeps())
    assert sha(got) == sha(shared_data / SAMPLE)
    assert got.stat().st_size == (shared_data / SAMPLE).stat().st_size


def test_500_then_ok_retries_with_growing_backoff(server: Server, shared_data: Path, tmp_path: Path) -> None:
    server.fail_first = 3
    sleeps = Sleeps()
    got = fetch(server.url(SAMPLE), cfg(tmp_path, retries=3), sleep=sleeps)
    assert sha(got) == sha(shared_data / SAMPLE)
    assert len(server.requests) == 4 and len(sleeps) == 3
    assert sleeps[0] < sleeps[1] < sleeps[2]  # exponential (with bounded jitter: 1-1.5 x 2^k)
    assert 1.0 <= sleeps[0] <= 1.5 and 4.0 <= sleeps[2] <= 6.0


def test_jitter_is_deterministic(server: Server, tmp_path: Path) -> None:
    runs = []
    for i in range(2):
        server.fail_first = 2
        sleeps = Sleeps()
        fetch(server.url(SAMPLE), cfg(tmp_path / str(i)), sleep=sleeps)
        runs.append(list(sleeps))
    assert runs[0] == runs[1]


def test_429_honours_retry_after(server: Server, tmp_path: Path) -> None:
    server.fail_first, server.fail_status, server.retry_after = 1, 429, "7"
    sleeps = Sleeps()
    fetch(server.url(SAMPLE), cfg(tmp_path), sleep=sleeps)
    assert sleeps == [7.0]


def test_gives_up_after_retries(server: Server, tmp_path: Path) -> None:
    server.fail_first = 10
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="giving up after 2 retries: HTTP 500"):
        fetch(server.url(SAMPLE), cfg(tmp_path, retries=2), sleep=sleeps)
    assert len(server.requests) == 3 and len(sleeps) == 2


def test_404_fails_at_once(server: Server, tmp_path: Path) -> None:
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(server.url("web/nope.warc.gz"), cfg(tmp_path), sleep=sleeps)
    assert sleeps == [] and len(server.requests) == 1


def test_too_large_by_content_length(server: Server, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="above fetch.max_bytes=1,000"):
        fetch(server.url(SAMPLE), cfg(tmp_path, max_bytes=1000), sleep=Sleeps())
    assert not cache_path(server.url(SAMPLE), tmp_path / "cache").exists()
    assert not list((tmp_path / "cache").glob("*.part")) and len(server.requests) == 1


def test_too_large_while_streaming(server: Server, tmp_path: Path) -> None:
    server.no_length = True
    with pytest.raises(FetchError, match="passed fetch.max_bytes=2,000"):
        fetch(server.url(SAMPLE), cfg(tmp_path, max_bytes=2000), sleep=Sleeps())
    assert not cache_path(server.url(SAMPLE), tmp_path / "cache").exists()
    assert not list((tmp_path / "cache").glob("*.part")) and len(server.requests) == 1


def test_no_content_length_still_downloads(server: Server, shared_data: Path, tmp_path: Path) -> None:
    server.no_length = True
    assert sha(fetch(server.url(SAMPLE), cfg(tmp_path))) == sha(shared_data / SAMPLE)


def test_timeout_is_retried_then_reported(server: Server, tmp_path: Path) -> None:
    server.stall_s = 0.6
    sleeps = Sleeps()
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="timed out after 0.2 s"):
        fetch(server.url(SAMPLE), cfg(tmp_path, timeout_s=0.2, retries=1), sleep=sleeps)
    assert time.monotonic() - t0 < 3 and len(sleeps) == 1


def test_connection_refused_is_retried(tmp_path: Path) -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = srv.server_address[1]
    srv.server_close()  # nothing listens on this port now
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="connection failed"):
        fetch(f"http://127.0.0.1:{port}/x.warc.gz", cfg(tmp_path, retries=2), sleep=sleeps)
    assert len(sleeps) == 2


def test_local_paths_are_returned_as_they_are(tmp_path: Path) -> None:
    p = tmp_path / "a.warc"
    assert fetch(str(p), cfg(tmp_path)) == p
    assert fetch(f"file://{p}", cfg(tmp_path)) == p


# ---------------------------------------------------------------------------------------- expand_inputs


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in ["b/2.warc.gz", "b/1.warc.gz", "a/x.warc", "a/deep/y.wet.gz", "a/notes.txt", "c.warc.gz"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    return tmp_path


def test_expand_globs_folders_urls_in_order(tree: Path) -> None:
    pats = ("*.warc", "*.warc.gz", "*.wet.gz")
    got = expand_inputs(
        ["b/*.warc.gz", "a", "https://example.org/x.warc.gz", "c.warc.gz", "b/1.warc.gz"],
        tree,
        accepts_directories=False,
        patterns=pats,
    )
    assert got == [
        str(tree / "b/1.warc.gz"),
        str(tree / "b/2.warc.gz"),
        str(tree / "a/deep/y.wet.gz"),
        str(tree / "a/x.warc"),
        "https://example.org/x.warc.gz",
        str(tree / "c.warc.gz"),
    ]  # config order, each glob / folder sorted, duplicates dropped


def test_expand_recursive_glob_and_absolute(tree: Path) -> None:
    got = expand_inputs([str(tree / "**/*.wet.gz")], Path("/"), accepts_directories=False, patterns=())
    assert got == [str(tree / "a/deep/y.wet.gz")]


def test_folder_kept_when_connector_reads_folders(tree: Path) -> None:
    assert expand_inputs(["a"], tree, accepts_directories=True, patterns=("*.html",)) == [str(tree / "a")]


@pytest.mark.parametrize(
    ("inp", "msg"),
    [
        ("missing.warc.gz", "'missing.warc.gz'.*does not exist"),
        ("b/*.wet.gz", "'b/\\*.wet.gz': no file matches"),
        ("a/deep", "no file matching \\*.warc"),
        ("nosuch://bucket/x.warc.gz", "unsupported scheme 'nosuch'"),
    ],
)
def test_expand_errors_name_the_input(tree: Path, inp: str, msg: str) -> None:
    with pytest.raises(InputNotFoundError, match=msg):
        expand_inputs([inp], tree, accepts_directories=False, patterns=("*.warc",))
    assert issubclass(InputNotFoundError, FileNotFoundError)


def test_a_trickling_server_hits_the_overall_deadline(server: Server, tmp_path: Path) -> None:
    """One byte every 0.2 s never trips a 3 s socket timeout; the overall deadline stops it."""
    server.trickle_s = 0.2
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="deadline_s"):
        fetch(server.url(SAMPLE), cfg(tmp_path, timeout_s=3.0, deadline_s=2.0), sleep=Sleeps())
    assert time.monotonic() - t0 < 6


def test_sha256_in_the_config_is_checked(server: Server, shared_data: Path, tmp_path: Path) -> None:
    url = server.url(SAMPLE)
    good = sha(shared_data / SAMPLE)
    assert sha(fetch(url, cfg(tmp_path / "a", sha256={url: good}), sleep=Sleeps())) == good
    with pytest.raises(FetchError, match="does not match"):
        fetch(url, cfg(tmp_path / "b", sha256={url: "0" * 64}), sleep=Sleeps())
    assert not list((tmp_path / "b" / "cache").glob("*whirl*")) and not any(
        p.suffix != ".lock" for p in (tmp_path / "b" / "cache").iterdir()
    )  # nothing cached as if it were the file


def test_a_content_length_shorter_than_the_body_is_caught_by_a_checksum(
    server: Server, shared_data: Path, tmp_path: Path
) -> None:
    """HTTP cannot tell half a file with a wrong Content-Length from a whole one; a checksum can."""
    server.short_length = True
    url = server.url(SAMPLE)
    with pytest.raises(FetchError, match="does not match"):
        fetch(url, cfg(tmp_path, sha256={url: sha(shared_data / SAMPLE)}), sleep=Sleeps())
