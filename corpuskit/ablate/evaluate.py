"""Bits per byte on held-out sets, computed the way Paloma does.

Each document is scored on its own: the sequence is ``[EOT] + tokens(text)``, cut into disjoint windows of
``context`` positions (no overlap, no carried state), and every text token is predicted once. Within an
eval set, BPB = Σ nats / (Σ UTF-8 bytes × ln 2); the headline is the macro average over sets, so a large
set does not drown a small one. Bytes, not tokens, are the denominator: that makes numbers comparable
across tokenizers (a tokenizer with longer tokens has a higher loss per token but not per byte).
Which documents, and how many bytes of them, are scored is :mod:`.evalsets`' business.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from corpuskit.progress import Meter

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


def windows(
    token_lists: list[list[int]], eot: int, context: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every disjoint window of every ``[EOT] + tokens`` sequence, as arrays: (doc index (W,), inputs (W, T)
    padded with EOT, targets (W, T) padded with -100 = not scored)."""
    seqs = [np.asarray([eot, *t], dtype=np.int64) for t in token_lists]
    counts = np.array([max(1, -(-(len(q) - 1) // context)) for q in seqs], dtype=np.int64)
    doc = np.repeat(np.arange(len(seqs), dtype=np.int64), counts)
    x = np.full((int(counts.sum()), context), eot, dtype=np.int64)
    y = np.full((int(counts.sum()), context), -100, dtype=np.int64)
    row = 0
    for q, c in zip(seqs, counts, strict=True):
        n = len(q) - 1  # predicted positions
        flat_x = np.full(c * context, eot, dtype=np.int64)
        flat_y = np.full(c * context, -100, dtype=np.int64)
        flat_x[:n], flat_y[:n] = q[:-1], q[1:]
        x[row : row + c], y[row : row + c] = flat_x.reshape(c, context), flat_y.reshape(c, context)
        row += c
    return doc, x, y


@torch.inference_mode()
def score_set(
    forward: Callable[[torch.Tensor], torch.Tensor],
    tokenizer,
    eval_set: EvalSet,
    context: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 32,
    meter: Meter | None = None,
) -> SetScore:
    """Score every document of ``eval_set`` alone; windows of all documents are batched together (padded to
    ``context``: static shapes), ``meter`` advances by the tokens scored."""
    device = torch.device(device)
    meter = meter or Meter()
    token_lists = tokenizer.encode_batch(eval_set.texts)
    nats = np.zeros(len(token_lists), dtype=np.float64)
    tokens = np.array([len(t) for t in token_lists], dtype=np.int64)
    nbytes = np.array([len(t.encode("utf-8")) for t in eval_set.texts], dtype=np.int64)
    if not token_lists:
        return SetScore(eval_set.name, nats, tokens, nbytes)
    doc, xs, ys = windows(token_lists, tokenizer.eot_id, context)
    cuda = device.type == "cuda"
    for b in range(0, len(doc), batch_size):
        x = torch.from_numpy(xs[b : b + batch_size]).to(device)
        y = torch.from_numpy(ys[b : b + batch_size]).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            logits = forward(x)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=-100, reduction="none")
        per_window = loss.view(len(x), context).sum(1).double().cpu().numpy()
        np.add.at(nats, doc[b : b + batch_size], per_window)
        meter.advance(int((ys[b : b + batch_size] != -100).sum()))
    return SetScore(eval_set.name, nats, tokens, nbytes)


def evaluate(
    forward: Callable[[torch.Tensor], torch.Tensor],
    tokenizer,
    sets: Sequence[EvalSet],
    context: int,
    *,
    device: torch.device | str = "cpu",
    batch_size: int = 32,
    meter: Meter | None = None,
) -> list[SetScore]:
    return [
        score_set(forward, tokenizer, s, context, device=device, batch_size=batch_size, meter=meter)
        for s in sets
    ]
