"""Dedup with bounded memory gives exactly the in-memory result, whatever the partitions and workers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from corpuskit.dedup import components
from corpuskit.dedup.bands import scratch
from corpuskit.dedup.components import EDGE_ROW_PEAK, edge_ranges
from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.evaluation import build_test_set, real_texts
from corpuskit.dedup.loading import load_source
from corpuskit.dedup.partitioned import near_clusters
from corpuskit.dedup.pipeline import cluster_rows, dedup_sources, shingle_table
from corpuskit.dedup.signatures import ensure_signatures
from corpuskit.documents import document_id
from tests.support.store import attributes_dir, commit_rows


def write_texts(corpus: Path, source: str, texts: list[str], rows_per_file: int) -> None:
    rows = [
        {"id": document_id(source, f"k#{i}"), "source": source, "text": t, "locator": f"k#{i}"}
        for i, t in enumerate(texts)
    ]
    commit_rows(corpus, source, "k", rows, rows_per_file=rows_per_file)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:
    """Two sources of real text with edited variants, exact copies (also across sources) and empties."""
    texts = build_test_set(real_texts(shared_data, limit=120), seed=3)["text"].to_list()
    root = tmp_path_factory.mktemp("partitioned") / "corpus"
    half = len(texts) // 2
    write_texts(root, "a", [*texts[:half], texts[5], "", texts[7]], rows_per_file=37)
    write_texts(root, "b", [*texts[half:], texts[5].upper(), "", texts[-1]], rows_per_file=29)
    return root


def _loaded(corpus: Path, cfg):
    frames, files, offset = [], [], 0
    for s in ("a", "b"):
        ensure_signatures(corpus, s, cfg)
        f, sf = load_source(corpus, s, frozen=False, offset=offset)
        frames.append(f)
        files += sf
        offset += f.height
    return pl.concat(frames, how="diagonal_relaxed"), files


@pytest.mark.parametrize("verify", ["exact", "estimate", "none"])
def test_partitioned_labels_equal_in_memory_clustering(corpus, verify):
    cfg = load_dedup_config({"verify": verify})
    frame, files = _loaded(corpus, cfg)
    sig = np.concatenate([pl.read_parquet(f.signatures)["minhash"].to_numpy() for f in files])
    texts = pl.concat([pl.read_parquet(f.documents, columns=["text"])["text"] for f in files])
    ref = cluster_rows(
        frame["text_hash"].to_numpy(),
        frame["n_shingles"].to_numpy(),
        sig,
        cfg,
        lambda rows: shingle_table(texts.gather(rows), cfg.hasher().spec),
    )
    assert ref.stats.verified_pairs > 20 and (ref.labels != np.arange(frame.height)).sum() > 50
    for parts in (1, 3, 8):
        c = cfg.model_copy(update={"partitions": parts})
        labels, stats = near_clusters(corpus, frame, files, c)
        assert np.array_equal(labels, ref.labels), parts
        assert (stats.candidate_pairs, stats.verified_pairs) == (
            ref.stats.candidate_pairs,
            ref.stats.verified_pairs,
        )
    assert not list((corpus / "_dedup").glob("work-*"))  # the run's work folder is gone


def _outputs(corpus: Path) -> dict[str, bytes]:
    out = {"overlap": (corpus / "_dedup" / "overlap.json").read_bytes()}
    for s in ("a", "b"):
        for p in sorted(attributes_dir(corpus, s, "dedup").glob("*.parquet")):
            out[f"{s}/{p.name}"] = p.read_bytes()
    return out


def test_decisions_are_byte_identical_across_partitions_and_workers(corpus):
    results, outputs = [], []
    for over in ({"partitions": 1}, {"partitions": 6, "workers": 2}, {"partition_mb": 1}):
        res = dedup_sources(corpus, ["a", "b"], load_dedup_config({}, overrides=over))
        results.append((res.per_source["a"], res.per_source["b"], res.clusters, res.stats.verified_pairs))
        outputs.append(_outputs(corpus))
    assert results[0][2] > 20 and results[0][0]["near_duplicate"] > 0
    assert [r[2:] for r in results] == [results[0][2:]] * 3
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]


def test_edge_ranges_cover_every_representative_once():
    assert edge_ranges(1000, 50, 10**9) == [(0, 50)]
    ranges = edge_ranges(1000, 50, 1000 * EDGE_ROW_PEAK // 4)
    assert len(ranges) == 4 and ranges[0][0] == 0 and ranges[-1][1] == 50
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))


@pytest.mark.parametrize("verify", ["exact", "estimate"])
def test_verification_in_many_edge_ranges_gives_the_same_labels(corpus, verify, monkeypatch):
    """A partition whose candidate edges exceed partition_mb is verified range by range, same result."""
    cfg = load_dedup_config({"verify": verify}, overrides={"partitions": 2})
    frame, files = _loaded(corpus, cfg)
    whole = near_clusters(corpus, frame, files, cfg)
    monkeypatch.setattr(components, "EDGE_ROW_PEAK", 2**28 // 40)  # partition_mb 256: ~40 rows a range
    seen: list[int] = []
    real = components.edge_ranges
    monkeypatch.setattr(components, "edge_ranges", lambda *a: seen.append(len(r := real(*a))) or r)
    pieces = near_clusters(corpus, frame, files, cfg)
    assert min(seen) > 3
    assert np.array_equal(pieces[0], whole[0]) and (pieces[0] != np.arange(frame.height)).sum() > 50
    assert (pieces[1].candidate_pairs, pieces[1].verified_pairs) == (
        whole[1].candidate_pairs,
        whole[1].verified_pairs,
    )


def test_work_folder_of_a_killed_run_is_removed(tmp_path):
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    import socket

    stale = tmp_path / "_dedup" / f"work-{socket.gethostname()}-{dead}-abc"
    (stale / "bands").mkdir(parents=True)
    mine = tmp_path / "_dedup" / f"work-{socket.gethostname()}-{os.getpid()}-live"
    mine.mkdir()
    with scratch(tmp_path) as work:
        assert work.is_dir() and not stale.exists() and mine.exists()
    assert not work.exists()


@pytest.mark.parametrize("verify", ["exact", "estimate"])
def test_verification_reads_each_candidate_document_once_whatever_the_partitions(corpus, verify, monkeypatch):
    """Verification reads features per candidate document, not per partition: the texts shingled and the
    files read do not grow with P (they did: every partition read nearly every file), the edges are equal."""
    from corpuskit.dedup import features, partitioned, pipeline

    monkeypatch.setattr(features, "STORE_SHARE", 16)  # partition_mb 1: stores of 64 KiB, several

    shingled, reads, stores, edges = [0], [], [], []
    real_table, real_read = pipeline.shingle_table, pl.read_parquet
    monkeypatch.setattr(pipeline, "shingle_table", lambda t, s: shingled.append(len(t)) or real_table(t, s))
    monkeypatch.setattr(pl, "read_parquet", lambda p, **k: reads.append(str(p)) or real_read(p, **k))
    real_units, real_edges = partitioned.feature_units, partitioned.read_near_edges
    monkeypatch.setattr(
        partitioned, "feature_units", lambda *a: stores.append(len((r := real_units(*a))[0])) or r
    )
    monkeypatch.setattr(partitioned, "read_near_edges", lambda *a: edges.append(r := real_edges(*a)) or r)
    cfg = load_dedup_config({"verify": verify}, overrides={"partition_mb": 1})
    frame, files = _loaded(corpus, cfg)
    seen = []
    for parts in (1, 8):
        shingled[:], reads[:] = [0], []
        labels, stats = near_clusters(corpus, frame, files, cfg.model_copy(update={"partitions": parts}))
        u, v = edges[-1]
        order = np.lexsort((v, u))
        inputs = sorted(r for r in reads if "_dedup" not in r)  # signature and document files
        seen.append((labels, stats.verified_pairs, u[order], v[order], sum(shingled), inputs))
    assert min(stores) > 1 and seen[0][1] > 20  # several feature stores; pairs accepted
    for a, b in zip(seen[0], seen[1], strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    documents = {f.documents for f in files}
    assert sum(p in documents for p in seen[0][5]) == (len(files) if verify == "exact" else 0)
    assert (seen[0][4] > 0) == (verify == "exact")


def test_band_units_take_runs_of_files_of_about_partition_mb():
    """Few band units (each writes up to P files), each over consecutive files whose band rows take about
    partition_mb / 4, every representative once."""
    from corpuskit.dedup.loading import SignatureFile
    from corpuskit.dedup.partitioned import band_units

    files = [SignatureFile("s", f"{i}.parquet", f"sig{i}", f"doc{i}", i * 1024, 1024) for i in range(9)]
    reps = np.flatnonzero(np.arange(9 * 1024) % 3 != 1)  # rows 1024..2047 hold reps too
    cfg = load_dedup_config({}, overrides={"partition_mb": 1})  # 2 files of 683 reps x 21 bands x 14 B
    units, mb = band_units(reps, files, cfg, 4, "work")
    assert [u.key for u in units] == [
        "s/0.parquet",
        "s/2.parquet",
        "s/4.parquet",
        "s/6.parquet",
        "s/8.parquet",
    ]
    parts = [p for u in units for p in u.args[0]]
    assert [p[0] for p in parts] == [f"sig{i}" for i in range(9)]
    numbers = np.concatenate([np.arange(first, first + len(rows)) for _, rows, first in parts])
    rows = np.concatenate([rows + int(p[0][3:]) * 1024 for p in parts for rows in [p[1]]])
    assert np.array_equal(numbers, np.arange(len(reps))) and np.array_equal(rows, reps)
    assert len({u.args[4] for u in units}) == len(units) and mb > 256
