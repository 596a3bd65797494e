"""The remote store's commit rules on fsspec filesystems without a server (``file://``, ``memory://``):
data objects go up before the record that names them, a unit whose objects do not match its record is not
committed (and is redone), and nothing the store did not create is ever deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpuskit.config import load_source_config
from corpuskit.ingest import ingest
from corpuskit.store.lock import SourceBusy
from corpuskit.store.remote import RemoteCorpus, working_copy
from corpuskit.store.remote_lock import remote_lock

pytest.importorskip("fsspec", reason="a remote corpus needs fsspec")


def _inputs(folder: Path, files: int, lines: int = 50) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        rows = [json.dumps({"text": f"file {f} line {i} " + "word " * (i % 7)}) for i in range(lines)]
        (folder / f"in-{f}.jsonl").write_text("\n".join(rows) + "\n")


def _config(tmp_path: Path, output: str) -> Path:
    p = tmp_path / "src.yaml"
    p.write_text(f"name: src\nkind: jsonl\ninputs: ['data/*.jsonl']\noutput: '{output}'\n")
    return p


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORPUSKIT_CACHE_DIR", str(tmp_path / "cache"))


def test_objects_go_up_before_the_record_that_names_them(tmp_path, monkeypatch):
    _inputs(tmp_path / "data", files=3)
    order: list[str] = []
    upload = RemoteCorpus.upload

    def logged(self, path):
        order.append(self.rel(path))
        upload(self, path)

    monkeypatch.setattr(RemoteCorpus, "upload", logged)
    ingest(load_source_config(_config(tmp_path, "memory://order/corpus")), workers=1)
    records = [r for r in order if "/_commits/documents/part-" in r]
    assert len(records) == 3
    for rec in records:
        named = json.loads((working_copy(tmp_path / "cache", "memory://order/corpus") / rec).read_text())
        for f in named["files"]:
            assert order.index(f"src/documents/{f['name']}") < order.index(rec)


def test_a_unit_whose_object_does_not_match_its_record_is_redone(tmp_path):
    _inputs(tmp_path / "data", files=2)
    remote = tmp_path / "bucket"
    cfg = _config(tmp_path, f"file://{remote}/corpus")
    ingest(load_source_config(cfg), workers=1)
    docs = sorted((remote / "corpus/src/documents").glob("*.parquet"))
    good = docs[0].read_bytes()
    docs[0].write_bytes(good[:-10])  # torn object: its record says otherwise
    (tmp_path / "cache").rename(tmp_path / "old-cache")  # a fresh machine: nothing local to fall back on
    summary = ingest(load_source_config(cfg), workers=1)
    assert [r.skipped for r in summary.results].count(False) == 1  # only that unit is redone
    assert docs[0].read_bytes() == good


def test_nothing_the_store_did_not_create_is_deleted(tmp_path):
    _inputs(tmp_path / "data", files=3)
    remote = tmp_path / "bucket" / "corpus"
    cfg = _config(tmp_path, f"file://{remote}")
    ingest(load_source_config(cfg), workers=1)
    foreign = [remote / "src/NOTES.md", remote / "src/documents/README.txt", remote / "elsewhere.txt"]
    for p in foreign:
        p.write_text("mine")
    leftover = remote / "src/documents/part-0000000000000000-00000.parquet"  # a killed run's, by its name
    leftover.write_bytes(b"half")
    (tmp_path / "data/in-2.jsonl").unlink()  # the store removes that input's part
    summary = ingest(load_source_config(cfg), workers=1)
    assert len(summary.removed_stale) == 1
    assert all(p.read_text() == "mine" for p in foreign)
    assert not leftover.exists()
    assert len(list((remote / "src/documents").glob("part-*.parquet"))) == 2
    assert len(list((remote / "src/_commits/documents").glob("part-*.json"))) == 2


@pytest.mark.parametrize("url", ["memory://locks/corpus", "file://{tmp}/corpus"])
def test_the_lock_object_is_created_only_if_absent(tmp_path, url):
    url = url.format(tmp=tmp_path)
    a = RemoteCorpus(url, tmp_path / "a")
    b = RemoteCorpus(url, tmp_path / "b")
    with remote_lock(a, "src", "corpuskit ingest"):
        with pytest.raises(SourceBusy, match="corpuskit ingest"):
            with remote_lock(b, "src", "corpuskit dedup"):
                pass
    with remote_lock(b, "src", "corpuskit dedup"):  # released
        assert json.loads(b.cat("src/_lock"))["command"] == "corpuskit dedup"
    assert b.cat("src/_lock") is None


def test_wait_queues_behind_the_holder(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr("corpuskit.store.remote_lock.WAIT_POLL_S", 0.05)
    a = RemoteCorpus("memory://waiting/corpus", tmp_path / "a")
    b = RemoteCorpus("memory://waiting/corpus", tmp_path / "b")
    held, order = threading.Event(), []

    def first() -> None:
        with remote_lock(a, "src", "corpuskit ingest"):
            held.set()
            threading.Event().wait(0.5)
            order.append("a done")

    t = threading.Thread(target=first)
    t.start()
    held.wait(5)
    with remote_lock(b, "src", "corpuskit curate", wait=True):
        order.append("b in")
    t.join()
    assert order == ["a done", "b in"]
