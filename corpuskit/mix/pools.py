"""Training pools: each source's kept documents minus its held-out set, and the seeded samples read from them.

A pool is read once per study and shared by every mixture. Two samples are taken from it without
touching the mixture draw: the tokenizer's training text (:func:`balanced_sample`) and the text that
estimates how many tokens a pool holds under a trained BPE (:func:`pool_tokens`); each has its own salt
in :func:`~corpuskit.mix.sampler.seeded_order`, so neither changes what a mixture draws.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.mix.heldout import HeldoutSettings, HeldoutSplit, split_heldout
from corpuskit.mix.sampler import seeded_order
from corpuskit.mix.tokenizer import ByteTokenizer, HFTokenizer
from corpuskit.store import list_sources, scan_documents

ESTIMATE_SAMPLE_BYTES = 1_000_000  # text tokenized per source to estimate a BPE's tokens per byte


@dataclass
class Pool:
    """A source's training pool: kept documents minus its held-out set, sorted by id."""

    source: str
    docs: pl.DataFrame  # id, text
    heldout: HeldoutSplit
    kept_documents: int
    state: str = ""  # :func:`source_state` when it was read

    @property
    def bytes(self) -> int:
        return int(self.docs["text"].str.len_bytes().sum() or 0)


def load_pools(corpus: Path, settings: HeldoutSettings, sources: list[str] | None = None) -> dict[str, Pool]:
    """Read kept documents of every source and split off the held-out sets (nothing written yet)."""
    names = sources if sources is not None else list_sources(corpus)
    return {s: load_pool(corpus, s, settings) for s in names}


def load_pool(corpus: Path, source: str, settings: HeldoutSettings) -> Pool:
    """One source's pool (what a draw unit reads again in its worker; the same bytes every time)."""
    from corpuskit.store import SourceStore, require_complete

    # a mixture is only as trustworthy as its inputs: no failed inputs, no decisions older than the text
    require_complete(corpus, source, stage="mix", sets=SourceStore(Path(corpus), source).attribute_sets())
    state = source_state(corpus, source)
    docs = (
        scan_documents(corpus, source, kept_only=True)
        .select("id", "text")
        .collect()
        .unique("id", keep="first", maintain_order=True)
        .sort("id")
    )
    split = split_heldout(source, docs, settings)
    train = docs.filter(~pl.col("id").is_in(split.ids.implode()))
    return Pool(source, train, split, docs.height, state)


def source_state(corpus: Path, source: str) -> str:
    """Identity of what a pool is read from: the committed document files (their digests) and the current
    attribute files (replaced on every commit, so name, size, inode and mtime change): any commit to the
    source changes it, so a draw is never reused, or read again by a worker, from other documents."""
    from corpuskit.store import SourceStore, current_attribute_files, doc_records

    store = SourceStore(Path(corpus), source)
    docs = doc_records(corpus, source)
    h = hashlib.blake2b(digest_size=16)
    for d in docs:
        h.update(f"doc {d.name} {d.rows} {d.digest}\n".encode())
    for name in store.attribute_sets():
        for doc, path in sorted(current_attribute_files(corpus, source, name, docs).items()):
            st = path.stat()
            h.update(f"attr {name} {doc} {st.st_size} {st.st_ino} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def balanced_sample(pools: dict[str, Pool], sample_bytes: int, seed: int) -> dict[str, list[str]]:
    """Tokenizer training text: ``sample_bytes / n_sources`` from each source's pool, in seeded order.

    Balanced so a large web source does not shape the vocabulary of every other source (the last document
    is cut to the byte); a source with less text than its share gives all it has (its unused share is not
    moved to the others).
    """
    per_source = sample_bytes // max(len(pools), 1)
    out = {}
    for source, pool in sorted(pools.items()):
        order = seeded_order(pool.docs["id"], "tokenizer", seed, source)
        lengths = pool.docs["text"].str.len_bytes().to_numpy()[order]
        before = np.cumsum(lengths) - lengths
        take = order[before < per_source]
        texts = pool.docs["text"][take].to_list()
        if texts:  # cut the last document so every source gives the same number of bytes
            room = per_source - int(before[len(take) - 1])
            texts[-1] = texts[-1].encode("utf-8")[:room].decode("utf-8", errors="ignore")
        out[source] = texts
    return out


def pool_tokens(pool: Pool, tokenizer: ByteTokenizer | HFTokenizer, seed: int) -> tuple[int, bool]:
    """Tokens in the pool counting one end-of-text per document: exact for bytes, else an estimate."""
    n_bytes, n_docs = pool.bytes, pool.docs.height
    if isinstance(tokenizer, ByteTokenizer) or n_docs == 0:
        return n_bytes + n_docs, True
    order = seeded_order(pool.docs["id"], "estimate", seed, pool.source)
    lengths = pool.docs["text"].str.len_bytes().to_numpy()[order]
    take = order[: max(1, int(np.searchsorted(np.cumsum(lengths), ESTIMATE_SAMPLE_BYTES)) + 1)]
    sample = pool.docs["text"][take].to_list()
    _, counts = tokenizer.encode_concat(sample)
    sample_bytes = sum(len(t.encode("utf-8")) for t in sample)
    if len(take) == n_docs:
        return int(counts.sum()) + n_docs, True
    return int(round(n_bytes * counts.sum() / max(sample_bytes, 1))) + n_docs, False
