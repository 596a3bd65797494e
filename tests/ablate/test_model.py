"""The proxy GPT: shapes, parameter counts of the presets, causal masking, deterministic init."""

from __future__ import annotations

import hashlib

import pytest
import torch
from torch import nn

from corpuskit.ablate.model import (
    GPT,
    PRESETS,
    GPTConfig,
    ResidualProjection,
    RMSNorm,
    expected_params,
    init_weights,
    preset,
)
from corpuskit.ablate.train import initial_state


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("vocab", [257, 50257])
def test_preset_param_counts_match_formula(name: str, vocab: int) -> None:
    cfg = preset(name, vocab)
    with torch.device("meta"):
        model = GPT(cfg)
    assert model.num_params() == expected_params(cfg)
    assert model.lm_head.weight is model.wte.weight  # tied


def test_preset_sizes_are_what_their_names_say() -> None:
    def total(name: str) -> float:
        with torch.device("meta"):
            return GPT(preset(name, 50257)).num_params() / 1e6

    assert 12 < total("14m") < 15
    assert 48 < total("50m") < 53
    big = PRESETS["50m"]
    assert (big.n_layer, big.n_embd, big.context) == (8, 512, 1024)
    small = PRESETS["smoke"]
    assert (small.n_layer, small.n_embd) == (2, 64)


def test_forward_shapes_and_vocab_cut() -> None:
    cfg = GPTConfig(vocab_size=257, context=32)
    model = GPT(cfg)
    assert cfg.padded_vocab == 320
    logits = model(torch.randint(0, 257, (3, 20)))
    assert logits.shape == (3, 20, 257)
    with pytest.raises(ValueError, match="longer than the model context"):
        model(torch.zeros(1, 33, dtype=torch.long))


def test_future_tokens_do_not_change_past_logits() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=257, context=16)).eval()
    x = torch.randint(0, 257, (2, 16))
    y = x.clone()
    y[:, 10:] = torch.randint(0, 257, (2, 6))
    with torch.no_grad():
        a, b = model(x), model(y)
    assert torch.allclose(a[:, :10], b[:, :10], atol=1e-5)
    assert not torch.allclose(a[:, 10:], b[:, 10:], atol=1e-3)


def test_same_init_seed_same_weights_on_any_call() -> None:
    cfg = preset("smoke", 257)
    a, b, c = initial_state(cfg, 3), initial_state(cfg, 3), initial_state(cfg, 4)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_bad_head_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="heads of even width"):
        GPTConfig(n_embd=60, n_head=8)
    with pytest.raises(ValueError, match="unknown model preset"):
        preset("huge", 257)


def test_mfu_uses_6n_flops() -> None:
    model = GPT(GPTConfig(vocab_size=257, context=64))
    fpt = model.flops_per_token()
    assert fpt > 6 * model.num_params()
    assert model.estimate_mfu(1000.0, fpt * 1000.0) == pytest.approx(1.0)


def _state_hash(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].numpy().tobytes())
    return h.hexdigest()[:16]


def test_init_by_module_type_gives_the_same_weights_as_before() -> None:
    # hashes of initial_state(preset, 3) with the earlier name-suffix init (commit 0901c73)
    assert _state_hash(initial_state(preset("smoke", 257), 3)) == "127b6be4398c90fc"
    assert _state_hash(initial_state(preset("14m", 257), 3)) == "6bd3eb776f797b2e"


def test_init_follows_the_type_not_the_name() -> None:
    torch.manual_seed(0)
    tree = nn.ModuleDict(
        {"renamed_out": ResidualProjection(256, 256, bias=False), "proj": nn.Linear(256, 256, bias=False)}
    )
    tree["gain"] = RMSNorm(8)
    init_weights(tree, n_layer=8)
    assert tree["renamed_out"].weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)  # 1/sqrt(2·8)
    assert tree["proj"].weight.std().item() == pytest.approx(
        0.02, rel=0.05
    )  # a plain Linear, whatever its name
    assert torch.equal(tree["gain"].weight, torch.ones(8))
