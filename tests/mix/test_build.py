"""End-to-end mixtures on real text: exact token shares, determinism, repetition, decontamination, reader."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from corpuskit.documents import document_id
from corpuskit.mix import build_mixture
from corpuskit.mix.heldout import HeldoutSettings, read_heldout
from corpuskit.mix.pools import load_pools
from corpuskit.mix.sampler import MixError
from corpuskit.mix.shards import open_mixture
from corpuskit.store import list_parts, scan_documents
from tests.support.mix_corpus import chunk, make_corpus, write_source
from tests.support.store import attach

HELDOUT = 50_000
WEIGHTS = {"books": 0.5, "wiki": 0.3, "verse": 0.2}
PLANTED = range(1, 55, 5)  # documents of 'planted' (index in its list) that get a held-out paragraph


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp("mixcorpus") / "corpus"
    make_corpus(root, shared_data)
    # 'tiny': ~30 KB of German prose, too small for its share -> repeated
    de = chunk((shared_data / "books" / "de_carroll_alice_pg19778.txt").read_text(encoding="utf-8-sig"), 2000)
    write_source(root, "tiny", de[5:20], parts=1)
    # 'planted': French prose; a paragraph of a *books* held-out document is pasted into four documents
    books_heldout = load_pools(root, HeldoutSettings(bytes_per_source=HELDOUT), ["books"])["books"].heldout
    paragraph = max(books_heldout.frame["text"][0].split("\n\n"), key=len)
    assert len(paragraph.split()) >= 30
    fr = chunk((shared_data / "books" / "fr_carroll_alice_pg55456.txt").read_text(encoding="utf-8-sig"), 2000)
    fr = fr[5:60]
    for i in PLANTED:
        fr[i] = fr[i] + "\n\n" + paragraph
    write_source(root, "planted", fr)
    return root


def _build(corpus: Path, out: Path, weights=None, tokens="1M", **kw) -> dict:
    return build_mixture(
        weights=weights or WEIGHTS, corpus=corpus, output=out, tokens=tokens, heldout_bytes=HELDOUT, **kw
    )


def _texts(corpus: Path, source: str) -> dict[str, str]:
    f = scan_documents(corpus, source).select("id", "text").collect()
    return dict(zip(f["id"], f["text"], strict=True))


@pytest.fixture(scope="module")
def mixture(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("mix") / "m1"
    _build(corpus, out)
    return out


def test_realised_shares_match_weights(corpus, mixture):
    m = open_mixture(mixture)
    assert m.total_tokens == 1_000_000 and m.shards[0].dtype == np.uint16
    # independent count from the token stream: split at end-of-text, attribute each document to its source
    by_text = {t.encode(): s for s in WEIGHTS for t in _texts(corpus, s).values()}
    stream = np.asarray(m.shards[0])
    eots = np.flatnonzero(stream == m.eot_id)
    assert eots[-1] == stream.size - 1
    tokens, cut = Counter(), []
    for seg in np.split(stream, eots + 1)[:-1]:
        body = bytes(seg[:-1].astype(np.uint8))
        source = by_text.get(body)
        if source is None:  # a document cut to fill the source's exact share: a prefix of a corpus text
            source = next(s for t, s in by_text.items() if t.startswith(body))
            cut.append(source)
        tokens[source] += seg.size
    assert sum(tokens.values()) == 1_000_000 and len(cut) <= len(WEIGHTS)
    for source, w in WEIGHTS.items():
        assert abs(tokens[source] / 1_000_000 - w) < 0.005, (source, tokens[source])
        entry = m.manifest["sources"][source]
        assert entry["tokens"] == tokens[source]
        ids = (mixture / "ids" / f"{source}.txt").read_text().split()
        assert entry["documents"] == len(ids) and entry["share"] == pytest.approx(w)
    assert eots.size == sum(e["documents"] for e in m.manifest["sources"].values())
    # sources are interleaved, not concatenated: the first 100 documents come from every source
    first = Counter(by_text.get(bytes(seg[:-1].astype(np.uint8))) for seg in np.split(stream, eots + 1)[:100])
    assert set(WEIGHTS) <= set(first)


def test_heldout_is_disjoint_plain_jsonl_and_hashed(corpus, mixture):
    man = json.loads((mixture / "manifest.json").read_text())
    assert set(man["heldout"]) == {"books", "wiki", "verse", "tiny", "planted"}
    for source, e in man["heldout"].items():
        path = mixture / e["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:16] == e["hash"]
        docs = read_heldout(path)
        assert len(docs) == e["documents"] > 0 and set(docs[0]) == {"id", "text"}
        assert sum(len(d["text"].encode()) for d in docs) == e["bytes"]
        held = {d["id"] for d in docs}
        if (mixture / "ids" / f"{source}.txt").exists():
            assert not held & set((mixture / "ids" / f"{source}.txt").read_text().split())
    assert man["tokenizer"] == {
        "path": "bytes",
        "hash": man["tokenizer"]["hash"],
        "vocab_size": 257,
        "eot_id": 256,
    }
    assert {"format", "weights_requested", "sources", "seed", "config", "versions"} <= set(man)


def test_same_seed_byte_identical_other_seed_differs(corpus, mixture, tmp_path):
    again = tmp_path / "again" / mixture.name  # same name: the name is recorded in the manifest
    _build(corpus, again)
    files = sorted(p.relative_to(mixture) for p in mixture.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for f in files:
        assert (mixture / f).read_bytes() == (again / f).read_bytes(), f
    other = tmp_path / "other"
    _build(corpus, other, seed=1)
    assert (other / "tokens-00000.uint16.bin").read_bytes() != (
        mixture / "tokens-00000.uint16.bin"
    ).read_bytes()
    m1, m2 = (json.loads((p / "manifest.json").read_text()) for p in (mixture, other))
    assert m1["heldout"] == m2["heldout"]  # held-out sets do not depend on the mixture seed


def test_repetition_accounting(corpus, tmp_path):
    man = _build(corpus, tmp_path / "rep", weights={"tiny": 0.35, "verse": 0.65}, tokens=200_000)
    t = man["sources"]["tiny"]
    assert t["tokens"] == 70_000 and t["available_tokens_exact"]
    assert t["full_epochs"] == int(70_000 // t["available_tokens"]) >= 2
    assert t["epochs"] == pytest.approx(70_000 / t["available_tokens"], rel=1e-5)
    assert t["remainder_tokens"] == 70_000 - t["full_epochs"] * t["available_tokens"] > 0
    counts = Counter((tmp_path / "rep" / "ids" / "tiny.txt").read_text().split())
    assert len(counts) == t["unique_documents"] == t["pool_documents"]
    assert sum(counts.values()) == t["documents"]
    assert set(counts.values()) <= {t["full_epochs"], t["full_epochs"] + 1}
    assert t["documents"] > t["full_epochs"] * t["pool_documents"]  # a sampled remainder on top
    with pytest.raises(MixError, match=r"'tiny' would be repeated .* epochs.*--allow-repeat"):
        _build(corpus, tmp_path / "too", weights={"tiny": 0.5, "verse": 0.5}, tokens=300_000)
    assert not (tmp_path / "too").exists()
    big = _build(
        corpus, tmp_path / "ok", weights={"tiny": 0.5, "verse": 0.5}, tokens=300_000, allow_repeat=True
    )
    assert big["sources"]["tiny"]["epochs"] > 4 and big["format"]["total_tokens"] == 300_000


def _word_ngrams(text: str, n: int = 13) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_decontamination_removes_planted_heldout_paragraph(corpus, tmp_path):
    man = _build(corpus, tmp_path / "dc", weights={"planted": 1.0}, tokens=20_000)
    heldout = {s: read_heldout(tmp_path / "dc" / e["path"]) for s, e in man["heldout"].items()}
    texts = _texts(corpus, "planted")
    per_part = -(-55 // 2)  # write_source splits the documents into two parts
    planted = {document_id("planted", f"test://planted/{i // per_part}#{i % per_part}") for i in PLANTED}
    books_par = max(heldout["books"][0]["text"].split("\n\n"), key=len)
    assert all(books_par in texts[i] for i in planted)  # the fixture planted what we think it did
    held = {d["id"] for d in heldout["planted"]}
    assert len(planted - held) >= 3
    drawn = set((tmp_path / "dc" / "ids" / "planted.txt").read_text().split())
    assert not drawn & planted
    # brute-force reference: every pool document sharing a word 13-gram with any held-out document
    ref = set().union(*(_word_ngrams(d["text"]) for docs in heldout.values() for d in docs))
    dirty = {i for i, t in texts.items() if i not in held and _word_ngrams(t) & ref}
    assert planted - held <= dirty
    s = man["sources"]["planted"]
    assert s["documents_examined"] == s["pool_documents"] == len(texts) - len(held)
    assert s["decontaminated_documents"] == len(dirty) == man["decontamination"]["removed_documents"]
    assert not drawn & dirty
    off = _build(corpus, tmp_path / "nodc", weights={"planted": 1.0}, tokens=20_000, decontaminate=False)
    assert off["sources"]["planted"]["decontaminated_documents"] == 0


def test_reader_batches_and_tokenizer(mixture):
    m = open_mixture(mixture)
    x = m.sample_batch(np.random.default_rng(0), 8, 64)
    assert x.shape == (8, 65) and x.max() <= 256
    tok = m.tokenizer()
    assert tok.hash == m.manifest["tokenizer"]["hash"]
    assert len(list(m.iter_sequential(4096))) == (m.total_tokens - 4097) // 4096 + 1


def test_unknown_and_negative_weights_are_errors(corpus, tmp_path):
    with pytest.raises(MixError, match="unknown source"):
        _build(corpus, tmp_path / "x", weights={"books": 1.0, "web": 1.0})
    with pytest.raises(MixError, match=">= 0"):
        _build(corpus, tmp_path / "x", weights={"books": 1.0, "wiki": -1.0})
    assert not (tmp_path / "x").exists()
    assert list(tmp_path.iterdir()) == []


def test_only_kept_documents_are_mixed_or_held_out(shared_data, tmp_path):
    corpus = tmp_path / "corpus"
    verse = chunk((shared_data / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8"), 2000)
    write_source(corpus, "verse", verse[:120], parts=1)
    (part,) = list_parts(corpus, "verse")
    for f in part.files:  # a curation stage drops every third document
        ids = pl.read_parquet(f, columns=["id"])["id"]
        reason = [("too_short" if i % 3 == 0 else None) for i in range(len(ids))]
        attach(corpus, "verse", "quality", f, pl.DataFrame({"id": ids, "quality_drop_reason": reason}))
    dropped = set(scan_documents(corpus, "verse").filter(pl.col("drop_reason").is_not_null()).collect()["id"])
    assert 35 <= len(dropped) <= 45
    man = build_mixture(
        weights={"verse": 1}, corpus=corpus, output=tmp_path / "m", tokens=200_000, heldout_bytes=20_000
    )
    drawn = set((tmp_path / "m" / "ids" / "verse.txt").read_text().split())
    held = {d["id"] for d in read_heldout(tmp_path / "m" / "heldout" / "verse.jsonl")}
    assert drawn and held and not (drawn | held) & dropped
    assert man["sources"]["verse"]["pool_documents"] + len(held) == 120 - len(dropped)
