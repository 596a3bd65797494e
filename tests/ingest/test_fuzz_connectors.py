"""Property-based fuzzing of every connector with mutated real samples (truncated, bytes flipped, slices
duplicated, bytes inserted, re-encoded): never an exception, only Records and Skips, unique locators,
bounded time, and for truncations the records wholly before the cut are kept.

``CORPUSKIT_FUZZ_EXAMPLES`` sets the examples per connector (default 100: a few seconds in CI). A long run:
``CORPUSKIT_FUZZ_EXAMPLES=500 python -m pytest -q tests/ingest/test_fuzz_connectors.py``).
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpuskit.connectors.base import Record, Skip, get_connector_class
from tests.conftest import SHARED_DATA

EXAMPLES = int(os.environ.get("CORPUSKIT_FUZZ_EXAMPLES", "100"))
SECONDS_PER_EXAMPLE = 30.0
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples in every run: CI cannot flake on a new random case
)


def _plain(rel: str) -> bytes:
    data = (SHARED_DATA / rel).read_bytes()
    return gzip.decompress(data) if rel.endswith(".gz") else data


def _first_lines(data: bytes, n: int) -> bytes:
    return b"".join(data.splitlines(keepends=True)[:n])


CCNET = "web/commoncrawl_ccnet_jsonl/cc_en_head-0174.jsonl.gz"
REDDIT = "forums/reddit/praw_cassettes_submissions.jsonl.gz"
CC_WARC = "web/commoncrawl_warc/CC-MAIN-2020-34_excerpt_resiliparse.warc.gz"
WEB = {"extractor": "resiliparse"}

# kind -> (file name the connector expects, sample bytes, options)
SAMPLES: dict[str, tuple[str, Callable[[], bytes], dict]] = {
    "jsonl": ("in.jsonl", lambda: _first_lines(_plain(CCNET), 40), {}),
    "jsonl_gz": ("in.jsonl.gz", lambda: gzip.compress(_first_lines(_plain(CCNET), 40), mtime=0), {}),
    "reddit": ("RS_x.jsonl", lambda: _first_lines(_plain(REDDIT), 60), {}),
    "mbox": ("list.mbox", lambda: _plain("forums/mailing_lists/perceval_mbox_complex.mbox"), {}),
    "gutenberg": ("book.txt", lambda: _plain("books/en_carroll_alice_pg11.txt")[:60_000], {}),
    "stackexchange": ("Posts.xml", lambda: _se_posts(), {"site": "conlang.meta.stackexchange.com"}),
    "warc": ("a.warc.gz", lambda: (SHARED_DATA / CC_WARC).read_bytes(), WEB),
    "html": ("page.html", lambda: _plain(_an_html_page()), WEB),
    "parquet": ("t.parquet", lambda: _parquet(), {}),
}


def _an_html_page() -> str:
    folder = SHARED_DATA / "web/extraction_scrapinghub/html"
    return str(sorted(folder.iterdir())[0].relative_to(SHARED_DATA))


def _se_posts() -> bytes:
    lines = (SHARED_DATA / "forums/stackexchange/conlang_full_dump/Posts.xml").read_bytes().splitlines(True)
    return b"".join(lines[:80]) + b"</posts>\n"


def _parquet() -> bytes:
    import io

    texts = [json.loads(x)["text"] for x in _first_lines(_plain(CCNET), 40).splitlines()]
    buf = io.BytesIO()
    pl.DataFrame({"text": texts}).write_parquet(buf, row_group_size=8)
    return buf.getvalue()


@st.composite
def mutation(draw, size: int):
    kind = draw(st.sampled_from(["truncate", "flip", "duplicate", "insert", "reencode"]))
    if kind == "truncate":
        return kind, draw(st.integers(0, max(size - 1, 0)))
    if kind == "flip":
        return kind, draw(
            st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=20)
        )
    if kind == "duplicate":
        a = draw(st.integers(0, size - 1))
        return kind, (a, draw(st.integers(a, min(size, a + 5000))), draw(st.integers(0, size)))
    if kind == "insert":
        return kind, (draw(st.integers(0, size)), draw(st.binary(min_size=1, max_size=200)))
    return kind, draw(st.sampled_from(["utf-16", "utf-16-be", "latin-1", "cp1252", "utf-32"]))


def mutate(data: bytes, m) -> bytes:
    kind, arg = m
    if kind == "truncate":
        return data[:arg]
    if kind == "flip":
        out = bytearray(data)
        for pos, x in arg:
            out[pos] ^= x
        return bytes(out)
    if kind == "duplicate":
        a, b, at = arg
        return data[:at] + data[a:b] + data[at:]
    if kind == "insert":
        at, blob = arg
        return data[:at] + blob + data[at:]
    return data.decode("utf-8", errors="replace").encode(arg, errors="replace")


def run(kind: str, path: Path, options: dict) -> list[Record | Skip]:
    cls = get_connector_class(kind)
    return list(cls(cls.Options(**options)).read(path, str(path)))


@pytest.fixture(scope="module")
def samples():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA}")
    return {k: (name, make(), opts) for k, (name, make, opts) in SAMPLES.items()}


def check(items: list) -> list[Record]:
    assert all(isinstance(i, Record | Skip) for i in items)
    records = [i for i in items if isinstance(i, Record)]
    assert all(isinstance(r.text, str) and r.text for r in records)
    assert len({r.locator for r in records}) == len(records), "locators must stay unique"
    return records


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_mutated_real_samples_never_crash_a_connector(sample, samples, tmp_path_factory):
    name, data, options = samples[sample]
    kind = sample.removesuffix("_gz")
    folder = tmp_path_factory.mktemp(sample)
    original = check(run(kind, _write(folder, name, data), options))
    assert original, f"the unmutated {sample} sample must give documents"
    by_locator = {r.locator: r.text for r in original}
    seen = {"examples": 0}

    @FUZZ
    @given(m=mutation(len(data)))
    def fuzz(m):
        mutated = mutate(data, m)
        path = _write(folder, name, mutated)
        t0 = time.perf_counter()
        records = check(run(kind, path, options))
        assert time.perf_counter() - t0 < SECONDS_PER_EXAMPLE
        if m[0] == "truncate" and sample == "jsonl":
            whole_lines = mutated.count(b"\n")  # the lines that end before the cut are intact
            texts = {r.locator: r.text for r in records}
            for loc, text in by_locator.items():
                if int(loc.split("line=")[1]) <= whole_lines:
                    assert texts.get(loc) == text, f"{loc}, complete before the cut, was lost"
        seen["examples"] += 1

    fuzz()
    print(f"{sample}: {seen['examples']} mutated examples, no crash")


def _write(folder: Path, name: str, data: bytes) -> Path:
    if name == "Posts.xml":
        d = folder / "dump"
        d.mkdir(exist_ok=True)
        (d / name).write_bytes(data)
        return d
    p = folder / name
    p.write_bytes(data)
    return p
