"""Dedup after curation: a cluster never keeps a document that curation dropped while a kept one exists."""

from __future__ import annotations

import polars as pl

from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.pipeline import dedup_sources
from corpuskit.documents import document_id
from corpuskit.store import list_parts, scan_documents
from tests.support.store import attach, commit_rows

BASE = " ".join(f"word{i} appears in sentence number {i} of this long shared article." for i in range(60))


def test_curation_dropped_document_loses_the_cluster(tmp_path):
    texts = {
        "a": BASE + " extra tail that makes this copy the longest one by far " * 5,
        "b": BASE,
        "c": "other",
    }
    ids = {loc: document_id("web", loc) for loc in texts}
    commit_rows(
        tmp_path,
        "web",
        "k",
        [{"id": ids[loc], "source": "web", "text": t, "locator": loc} for loc, t in texts.items()],
    )
    (part,) = list_parts(tmp_path, "web")
    # curation dropped the longest copy, which the default policy (longest) would otherwise keep
    reasons = [("gopher_quality" if loc == "a" else None) for loc in texts]
    attach(
        tmp_path,
        "web",
        "curate",
        part.files[0],
        pl.DataFrame(
            {"id": list(ids.values()), "curate_drop_reason": reasons},
            schema_overrides={"curate_drop_reason": pl.String},
        ),
    )
    dedup_sources(tmp_path, ["web"], load_dedup_config({"threshold": 0.7}))
    df = scan_documents(tmp_path, "web").collect().sort("locator")
    kept = dict(zip(df["locator"], df["dup_kept"], strict=True))
    assert kept == {"a": False, "b": True, "c": True}
    assert scan_documents(tmp_path, "web", kept_only=True).collect()["locator"].sort().to_list() == ["b", "c"]
