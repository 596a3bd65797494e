"""Model-based quality: a fastText classifier of "reference" vs "random web" text (GPT-3 / DCLM approach).

GPT-3 (Brown et al. 2020, appendix A) scored Common Crawl with a classifier trained on curated text against
raw crawl; DCLM (Li et al. 2024) showed a fastText bigram classifier of this kind is the strongest simple
filter. Training is seeded and single-threaded so the same inputs give the same model; the model is saved
with a ``.json`` beside it holding the held-out metrics and the training inputs.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

POSITIVE, NEGATIVE = "__label__hq", "__label__lq"


@dataclass(frozen=True)
class TrainParams:
    epoch: int = 5
    lr: float = 0.1
    word_ngrams: int = 2  # DCLM's fastText classifier uses bigrams
    dim: int = 64
    min_count: int = 2
    holdout: float = 0.1
    seed: int = 0
    max_chars: int = 20_000  # long documents are truncated: the signal is in style, not length


def _line(text: str, max_chars: int) -> str:
    return " ".join(text[:max_chars].split())


def train_classifier(
    positive: Iterable[str],
    negative: Iterable[str],
    out: Path | str,
    params: TrainParams = TrainParams(),
    sources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train, evaluate on a seeded held-out split, save ``out`` and ``out.json``; return the metrics."""
    import fasttext

    rows = [(POSITIVE, _line(t, params.max_chars)) for t in positive if t and t.strip()]
    rows += [(NEGATIVE, _line(t, params.max_chars)) for t in negative if t and t.strip()]
    n_pos = sum(1 for r in rows if r[0] == POSITIVE)
    if n_pos < 2 or len(rows) - n_pos < 2:
        raise ValueError(
            f"need at least 2 positive and 2 negative documents (got {n_pos}, {len(rows) - n_pos})"
        )
    random.Random(params.seed).shuffle(rows)
    n_test = max(2, int(len(rows) * params.holdout))
    test, train = rows[:n_test], rows[n_test:]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_text("".join(f"{label} {text}\n" for label, text in train), encoding="utf-8")
        fasttext.FastText.eprint = lambda *a, **k: None
        model = fasttext.train_supervised(
            input=str(path),
            epoch=params.epoch,
            lr=params.lr,
            wordNgrams=params.word_ngrams,
            dim=params.dim,
            minCount=params.min_count,
            thread=1,
            seed=params.seed,
            verbose=0,
        )
    tmp_out = out.with_name(f".{out.name}.tmp")
    model.save_model(str(tmp_out))
    tmp_out.replace(out)
    clf = QualityClassifier(out)
    scores = [clf.score(text) for _, text in test]
    metrics = _metrics([label == POSITIVE for label, _ in test], scores)
    meta = {
        "model": str(out),
        "params": params.__dict__,
        "train": {"documents": len(train), "positive": sum(1 for r in train if r[0] == POSITIVE)},
        "heldout": {"documents": len(test), **metrics},
        "sources": sources or {},
    }
    from corpuskit.store.atomic import atomic_write_json

    atomic_write_json(out.with_suffix(out.suffix + ".json"), meta)
    return meta


def _metrics(labels: list[bool], scores: list[float]) -> dict[str, float]:
    """Accuracy at 0.5, precision/recall of the positive class, and ROC AUC (rank statistic)."""
    pred = [s >= 0.5 for s in scores]
    tp = sum(p and y for p, y in zip(pred, labels, strict=True))
    fp = sum(p and not y for p, y in zip(pred, labels, strict=True))
    fn = sum((not p) and y for p, y in zip(pred, labels, strict=True))
    acc = sum(p == y for p, y in zip(pred, labels, strict=True)) / len(labels)
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if pos and neg:
        ranks = pl.Series(scores).rank("average").to_list()
        pos_ranks = sum(r for r, y in zip(ranks, labels, strict=True) if y)
        auc = (pos_ranks - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    else:
        auc = float("nan")
    return {
        "accuracy": acc,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "roc_auc": auc,
    }


class QualityClassifier:
    """A trained model; ``score`` is P(reference-like) in [0, 1]."""

    def __init__(self, path: Path | str):
        import fasttext

        fasttext.FastText.eprint = lambda *a, **k: None
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"quality model not found: {self.path}")
        self._f = fasttext.load_model(str(self.path)).f  # binding call: fasttext 0.9.3 + numpy 2, see langid

    def score(self, text: str, max_chars: int = TrainParams.max_chars) -> float:
        pairs = self._f.predict(_line(text or "", max_chars) + "\n", -1, 0.0, "replace")
        for p, label in pairs:
            if label == POSITIVE:
                return min(1.0, max(0.0, float(p)))
        return 0.0

    def frame(self, texts: list[str] | pl.Series) -> pl.DataFrame:
        return pl.DataFrame(
            {"quality_score": [self.score(t) for t in texts]}, schema={"quality_score": pl.Float64}
        )
