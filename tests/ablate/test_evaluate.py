"""Paloma-style bits per byte: hand-checkable values, disjoint windows, documents scored alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from corpuskit.ablate.evalsets import load_text_set, within_budget
from corpuskit.ablate.evaluate import EvalSet, SetScore, macro_bpb, score_set
from corpuskit.mix.tokenizer import ByteTokenizer


class Uniform(nn.Module):
    """Equal logits over the whole vocabulary: every token costs ln(V) nats."""

    def __init__(self, vocab: int):
        super().__init__()
        self.vocab = vocab

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*idx.shape, self.vocab)


class CharTokenizer:
    """One token per Unicode character (vocabulary 1000, EOT 999): tokens ≠ bytes for non-ASCII text."""

    eot_id = 999
    vocab_size = 1000

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [[ord(c) % 999 for c in t] for t in texts]


def test_uniform_byte_model_gives_log2_257() -> None:
    texts = ["hello world", "naïve café — ünïcödé", "x" * 300]
    s = score_set(Uniform(257), ByteTokenizer(), EvalSet("t", ["a", "b", "c"], texts), context=32)
    nbytes = sum(len(t.encode()) for t in texts)
    assert s.tokens.sum() == nbytes  # every byte predicted once, across disjoint windows
    assert s.bpb == pytest.approx(math.log2(257), rel=1e-6)
    assert s.token_loss == pytest.approx(math.log(257), rel=1e-6)
    assert s.perplexity == pytest.approx(257, rel=1e-5)


def test_bpb_divides_by_bytes_not_tokens() -> None:
    text = "ééé ààà"  # 7 characters, 13 UTF-8 bytes
    s = score_set(Uniform(1000), CharTokenizer(), EvalSet("t", ["a"], [text]), context=4)
    assert s.tokens.sum() == 7 and s.bytes.sum() == 13
    assert s.bpb == pytest.approx(math.log2(1000) * 7 / 13, rel=1e-6)


def test_documents_are_scored_alone_and_batching_does_not_matter() -> None:
    torch.manual_seed(0)
    from corpuskit.ablate.model import GPT, GPTConfig

    model = GPT(GPTConfig(vocab_size=257, context=16)).eval()
    tok = ByteTokenizer()
    a = "the first document, long enough to need three windows"
    b = "another one"
    both = score_set(model, tok, EvalSet("s", ["a", "b"], [a, b]), 16, batch_size=3)
    alone = score_set(model, tok, EvalSet("s", ["a"], [a]), 16, batch_size=1)
    assert both.nats[0] == pytest.approx(alone.nats[0], rel=1e-5)

    # Hand computation with explicit disjoint windows over [EOT] + bytes.
    seq = [256, *a.encode()]
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(seq) - 1, 16):
            piece = torch.tensor(seq[start : start + 17])
            logp = torch.log_softmax(model(piece[None, :-1])[0], -1)
            total -= logp[torch.arange(len(piece) - 1), piece[1:]].sum().item()
    assert alone.nats[0] == pytest.approx(total, rel=1e-5)


def test_macro_average_weights_sets_equally() -> None:
    big = SetScore("big", np.array([100.0 * math.log(2)]), np.array([100]), np.array([100]))
    small = SetScore("small", np.array([3.0 * math.log(2)]), np.array([1]), np.array([1]))
    assert big.bpb == pytest.approx(1.0) and small.bpb == pytest.approx(3.0)
    assert macro_bpb([big, small]) == pytest.approx(2.0)
    assert SetScore.from_json(big.to_json()).bpb == big.bpb


def test_text_file_eval_set(tmp_path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("\n\n".join(f"paragraph {i} " * 20 for i in range(50)))
    s = load_text_set("t", p, max_documents=3, doc_bytes=500)
    assert len(s.texts) == 3 and all(len(t) >= 500 for t in s.texts)


def test_eval_budget_keeps_documents_in_order_and_cuts_the_last() -> None:
    s = EvalSet("s", ["a", "b", "c"], ["x" * 100, "é" * 100, "z" * 100])  # 100, 200, 100 bytes
    cut = within_budget(s, 251)  # 100 + 150 (75 é) + 1 (one z)
    assert cut.ids == ["a", "b", "c"] and cut.texts[1] == "é" * 75 and cut.texts[2] == "z"  # no half char
    assert cut.bytes == 251 and within_budget(s, None) is s and within_budget(s, 10_000) is s


def test_batched_windows_score_like_one_window_at_a_time() -> None:
    torch.manual_seed(0)
    from corpuskit.ablate.model import GPT, GPTConfig

    model = GPT(GPTConfig(vocab_size=257, context=16)).eval()
    texts = ["a long document " * 9, "short", "", "mid-sized text here, " * 3]
    es = EvalSet("s", ["1", "2", "3", "4"], texts)
    a = score_set(model, ByteTokenizer(), es, 16, batch_size=64)
    b = score_set(model, ByteTokenizer(), es, 16, batch_size=1)
    assert np.allclose(a.nats, b.nats, rtol=1e-5) and a.nats[2] == 0.0
    assert a.tokens.tolist() == [len(t.encode()) for t in texts]
