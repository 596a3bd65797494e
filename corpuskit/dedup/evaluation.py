"""Measuring dedup quality: near-duplicates made from real texts, brute-force truth, pair precision/recall.

The variants imitate how duplicates arise on the web: word edits, an inserted passage, boilerplate
headers/footers, shuffled paragraphs, a truncated copy, re-formatting (case, punctuation, spacing), and
copies of copies. Truth is not "made from the same document" but the true Jaccard of the shingle sets,
computed for *all* pairs (a sparse document x shingle matrix times its transpose), so precision and
recall measure what MinHash-LSH is meant to approximate.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix

from corpuskit.dedup.config import DedupConfig
from corpuskit.dedup.shingles import ShingleSpec, normalize, shingle_hashes

BOILERPLATE = [
    "Share this article: Facebook | Twitter | LinkedIn | Email | Print",
    "Subscribe to our newsletter to get the latest stories delivered to your inbox every morning.",
    "Copyright © 2024 The Daily Example. All rights reserved. Terms of use | Privacy policy | Cookies",
    "Related posts: You may also like these stories from our archive. Read more >>",
    "Posted in Uncategorized | Leave a comment | Tagged news, opinion, latest",
]
SEPS = re.compile(r"\n\s*\n|\n")


def _edit_words(text: str, rng: random.Random, frac: float, vocab: list[str]) -> str:
    words = text.split(" ")
    for _ in range(max(1, int(len(words) * frac))):
        i = rng.randrange(len(words))
        op = rng.random()
        if op < 0.4:
            words[i] = rng.choice(vocab)
        elif op < 0.7 and len(words) > 1:
            del words[i]
        else:
            words.insert(i, rng.choice(vocab))
    return " ".join(words)


def make_variant(text: str, rng: random.Random, donors: list[str], vocab: list[str]) -> tuple[str, str]:
    """(variant text, kind) of one real document."""
    kind = rng.choice(["edit", "insert", "boilerplate", "shuffle", "truncate", "format", "heavy_edit"])
    if kind == "edit":
        return _edit_words(text, rng, rng.uniform(0.005, 0.04), vocab), kind
    if kind == "heavy_edit":
        return _edit_words(text, rng, rng.uniform(0.04, 0.2), vocab), kind
    if kind == "insert":
        donor = rng.choice(donors).split()
        k = rng.randint(10, 80)
        start = rng.randrange(max(1, len(donor) - k))
        paras = SEPS.split(text)
        paras.insert(rng.randrange(len(paras) + 1), " ".join(donor[start : start + k]))
        return "\n".join(paras), kind
    if kind == "boilerplate":
        head = rng.sample(BOILERPLATE, rng.randint(0, 2))
        tail = rng.sample(BOILERPLATE, rng.randint(1, 3))
        return "\n".join([*head, text, *tail]), kind
    if kind == "shuffle":
        paras = [p for p in SEPS.split(text) if p.strip()]
        rng.shuffle(paras)
        return "\n\n".join(paras), kind
    if kind == "truncate":
        words = text.split(" ")
        return " ".join(words[: int(len(words) * rng.uniform(0.6, 0.97))]), kind
    # format: case, punctuation and spacing only (normalisation must see an exact duplicate)
    out = text.upper() if rng.random() < 0.5 else text.replace(". ", ".  ").replace(",", " ,")
    return out, kind


def build_test_set(texts: list[str], seed: int = 0, variants: tuple[int, int] = (0, 3)) -> pl.DataFrame:
    """Real texts plus 0-3 variants each (some variants of variants): columns id, base, kind, text."""
    rng = random.Random(seed)
    vocab = sorted({w for t in texts[:200] for w in t.split()[:200] if w.isalpha()}) or ["word"]
    rows = []
    for i, t in enumerate(texts):
        rows.append({"base": i, "kind": "original", "text": t})
        last = t
        for _ in range(rng.randint(*variants)):
            src = last if rng.random() < 0.3 else t
            v, kind = make_variant(src, rng, texts, vocab)
            rows.append({"base": i, "kind": kind, "text": v})
            last = v
    df = pl.DataFrame(rows)
    return df.with_row_index("row").with_columns(pl.format("doc{}", pl.col("row")).alias("id")).drop("row")


def true_jaccard_pairs(
    texts: list[str] | pl.Series, spec: ShingleSpec, threshold: float
) -> set[tuple[int, int]]:
    """All pairs (i < j) whose shingle-set Jaccard is >= threshold, by brute force (sparse product)."""
    h, offsets, _ = shingle_hashes(normalize(texts), spec)
    n = len(offsets) - 1
    doc = np.repeat(np.arange(n), np.diff(offsets))
    uniq, col = np.unique(h, return_inverse=True)
    m = csr_matrix((np.ones(len(h), dtype=np.float32), (doc, col.ravel())), shape=(n, len(uniq)))
    m.data[:] = 1.0  # duplicate shingles in a document count once
    m.sum_duplicates()
    m.data[:] = 1.0
    sizes = np.asarray(m.sum(axis=1)).ravel()
    inter = (m @ m.T).tocoo()
    i, j, x = inter.row, inter.col, inter.data
    keep = i < j
    i, j, x = i[keep], j[keep], x[keep]
    jac = x / np.maximum(sizes[i] + sizes[j] - x, 1)
    ok = jac >= threshold - 1e-9
    return set(zip(i[ok].tolist(), j[ok].tolist(), strict=True))


def predicted_pairs(exact_root: np.ndarray, near_u: np.ndarray, near_v: np.ndarray) -> set[tuple[int, int]]:
    """Pairs the method declares duplicates: same exact group, or groups joined by an accepted near edge."""
    groups: dict[int, list[int]] = {}
    for r, g in enumerate(exact_root.tolist()):
        groups.setdefault(g, []).append(r)
    out: set[tuple[int, int]] = set()
    for members in groups.values():
        out.update((a, b) for k, a in enumerate(members) for b in members[k + 1 :])
    for u, v in zip(near_u.tolist(), near_v.tolist(), strict=True):
        for a in groups[int(exact_root[u])]:
            for b in groups[int(exact_root[v])]:
                out.add((min(a, b), max(a, b)))
    return out


def cluster_pairs(labels: np.ndarray) -> set[tuple[int, int]]:
    groups: dict[int, list[int]] = {}
    for r, g in enumerate(labels.tolist()):
        groups.setdefault(g, []).append(r)
    return {(a, b) for m in groups.values() if len(m) > 1 for k, a in enumerate(m) for b in m[k + 1 :]}


@dataclass
class PairScores:
    truth: int
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 1.0


def score(pred: set[tuple[int, int]], truth: set[tuple[int, int]]) -> PairScores:
    return PairScores(len(truth), len(pred), len(pred & truth))


def evaluate(texts: list[str], cfg: DedupConfig) -> tuple[PairScores, PairScores]:
    """(pair scores, cluster-pair scores) of ``cfg`` on ``texts`` vs brute-force truth at its threshold."""
    from corpuskit.dedup.pipeline import cluster_rows, shingle_table

    series = pl.Series("text", texts, dtype=pl.String)
    sig, text_hash, counts = cfg.hasher().signatures(series)
    spec = cfg.hasher().spec
    c = cluster_rows(text_hash, counts, sig, cfg, lambda rows: shingle_table(series.gather(rows), spec))
    truth = true_jaccard_pairs(series, spec, cfg.threshold)
    return score(predicted_pairs(c.exact_root, c.near_u, c.near_v), truth), score(
        cluster_pairs(c.labels), truth
    )


def real_texts(shared_data: str | Path, limit: int = 400, min_words: int = 50) -> list[str]:
    """Real documents from the shared sample data: news/blog article bodies, then WikiText paragraphs."""
    root = Path(shared_data)
    out: list[str] = []
    gt = root / "web" / "extraction_scrapinghub" / "ground-truth.json"
    if gt.exists():
        bodies = [v["articleBody"] for _, v in sorted(json.loads(gt.read_text()).items())]
        out += [b for b in bodies if len(b.split()) >= min_words]
    wiki = root / "lm" / "wikitext-2_tokenized" / "valid.txt"
    if wiki.exists() and len(out) < limit:
        paras = [p.strip() for p in wiki.read_text(encoding="utf-8").split("\n")]
        out += [p for p in paras if len(p.split()) >= min_words and not p.startswith("=")]
    return out[:limit]
