"""The literature-scale proxy presets are the sizes their names and docs say."""

from __future__ import annotations

import pytest
import torch

from corpuskit.ablate.model import GPT, preset


@pytest.mark.parametrize(("name", "total", "non_embedding"), [("15m", 15.0, 5.3), ("30m", 30.9, 14.8)])
def test_transfer_presets_have_their_stated_sizes(name: str, total: float, non_embedding: float) -> None:
    with torch.device("meta"):
        model = GPT(preset(name, 50257))
    assert model.num_params() / 1e6 == pytest.approx(total, abs=0.1)
    assert model.num_params(non_embedding=True) / 1e6 == pytest.approx(non_embedding, abs=0.1)
