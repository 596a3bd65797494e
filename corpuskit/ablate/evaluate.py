"""Bits per byte on held-out sets, computed the way Paloma does.

Each document is scored on its own: the sequence is ``[EOT] + tokens(text)``, cut into disjoint windows of
``context`` positions (no overlap, no carried state), and every text token is predicted once. Within an
eval set, BPB = Σ nats / (Σ UTF-8 bytes × ln 2); the headline is the macro average over sets, so a large
set does not drown a small one. Bytes, not tokens, are the denominator: that makes numbers comparable
across tokenizers (a tokenizer with longer tokens has a higher loss per token but not per byte).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

LN2 = math.log(2.0)


@dataclass(frozen=True)
class EvalSet:
    name: str
    ids: list[str]
    texts: list[str]

    @property
    def bytes(self) -> int:
        return sum(len(t.encode("utf-8")) for t in self.texts)


@dataclass
class SetScore:
    """Per-document totals of one eval set; everything else is derived from these arrays."""

    name: str
    nats: np.ndarray  # float64 (docs,)
    tokens: np.ndarray  # int64 (docs,)
    bytes: np.ndarray  # int64 (docs,)

    @property
    def bpb(self) -> float:
        return float(self.nats.sum() / (self.bytes.sum() * LN2))

    @property
    def token_loss(self) -> float:
        return float(self.nats.sum() / self.tokens.sum())

    @property
    def perplexity(self) -> float:
        return float(math.exp(self.token_loss))

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "nats": self.nats.tolist(),
            "tokens": self.tokens.tolist(),
            "bytes": self.bytes.tolist(),
        }

    @classmethod
    def from_json(cls, d: dict) -> SetScore:
        return cls(
            d["name"],
            np.asarray(d["nats"], dtype=np.float64),
            np.asarray(d["tokens"], dtype=np.int64),
            np.asarray(d["bytes"], dtype=np.int64),
        )


def macro_bpb(scores: Sequence[SetScore]) -> float:
    return float(np.mean([s.bpb for s in scores]))


def load_jsonl_set(name: str, path: Path, max_documents: int | None = None) -> EvalSet:
    """An eval set from a JSONL file of ``{"id", "text"}`` (the mixture's held-out format)."""
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            row = json.loads(line)
            if not row.get("text"):
                continue
            ids.append(str(row.get("id", i)))
            texts.append(row["text"])
            if max_documents and len(texts) >= max_documents:
                break
    return EvalSet(name, ids, texts)


def load_text_set(name: str, path: Path, max_documents: int | None = None, doc_bytes: int = 4096) -> EvalSet:
    """An external plain-text file as an eval set: split on blank lines into documents of ~``doc_bytes``."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    paras = [p for p in text.split("\n\n") if p.strip()]
    docs, cur, size = [], [], 0
    for p in paras:
        cur.append(p)
        size += len(p.encode("utf-8"))
        if size >= doc_bytes:
            docs.append("\n\n".join(cur))
            cur, size = [], 0
    if cur:
        docs.append("\n\n".join(cur))
    if max_documents:
        docs = docs[:max_documents]
    return EvalSet(name, [f"{name}-{i}" for i in range(len(docs))], docs)


def _chunks(token_lists: list[list[int]], eot: int, context: int):
    """(doc index, inputs, targets) for every disjoint window of every ``[EOT] + tokens`` sequence."""
    for d, toks in enumerate(token_lists):
        seq = [eot, *toks]
        for start in range(0, len(seq) - 1, context):
            piece = seq[start : start + context + 1]
            yield d, piece[:-1], piece[1:]


@torch.inference_mode()
def score_set(
    forward: Callable[[torch.Tensor], torch.Tensor],
    tokenizer,
    eval_set: EvalSet,
    context: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 16,
) -> SetScore:
    """Score every document of ``eval_set`` alone; windows are padded to ``context`` (static shapes)."""
    device = torch.device(device)
    token_lists = tokenizer.encode_batch(eval_set.texts)
    n = len(token_lists)
    nats = np.zeros(n, dtype=np.float64)
    tokens = np.array([len(t) for t in token_lists], dtype=np.int64)
    nbytes = np.array([len(t.encode("utf-8")) for t in eval_set.texts], dtype=np.int64)
    chunks = list(_chunks(token_lists, tokenizer.eot_id, context))
    cuda = device.type == "cuda"
    for b in range(0, len(chunks), batch_size):
        part = chunks[b : b + batch_size]
        x = torch.full((len(part), context), tokenizer.eot_id, dtype=torch.long)
        y = torch.full((len(part), context), -100, dtype=torch.long)
        for i, (_, inp, tgt) in enumerate(part):
            x[i, : len(inp)] = torch.tensor(inp)
            y[i, : len(tgt)] = torch.tensor(tgt)
        x, y = x.to(device), y.to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            logits = forward(x)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=-100, reduction="none")
        per_chunk = loss.view(len(part), context).sum(1).double().cpu().numpy()
        np.add.at(nats, np.array([d for d, _, _ in part]), per_chunk)
    return SetScore(eval_set.name, nats, tokens, nbytes)


def evaluate(
    forward: Callable[[torch.Tensor], torch.Tensor],
    tokenizer,
    sets: Sequence[EvalSet],
    context: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 16,
) -> list[SetScore]:
    return [score_set(forward, tokenizer, s, context, device=device, batch_size=batch_size) for s in sets]
