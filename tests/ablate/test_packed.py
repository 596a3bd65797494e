"""Packed training: K stacked proxies give the losses and weights of K separate Trainer runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from corpuskit.ablate.model import preset
from corpuskit.ablate.packed import PackedTrainer, train_packed
from corpuskit.ablate.packing import pack_runs
from corpuskit.ablate.train import TrainConfig, Trainer, read_curve
from corpuskit.mix.shards import open_mixture
from corpuskit.progress import Meter
from tests.support.ablate import build_mixture, two_source_corpus, write_heldout

pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")

MODEL = preset("smoke", 257, n_layer=1, n_embd=32, n_head=2, context=32)
BASE = TrainConfig(tokens=12 * 4 * 32, batch_size=4, lr=1e-2, threads=1, log_every=1, warmup_fraction=0.2)


@pytest.fixture(scope="module")
def mixtures(tmp_path_factory, shared_data: Path):
    root = tmp_path_factory.mktemp("packed")
    train, held = two_source_corpus(shared_data)
    hb = write_heldout(root / "held", held)
    out = []
    for name, w in (
        ("verse", {"shakespeare": 0.9, "austen": 0.1}),
        ("prose", {"shakespeare": 0.1, "austen": 0.9}),
    ):
        out.append(open_mixture(build_mixture(root / name, train, w, 20_000, hb)))
    return out


def _separate(cfg: TrainConfig, mixture, seed: int, init_seed: int):
    tr = Trainer(MODEL, cfg)
    res = tr.train(mixture, seed=seed, init_seed=init_seed)
    return res, {n: p.detach().clone() for n, p in tr.model.named_parameters()}


def test_k_members_equal_separate_runs(mixtures, tmp_path: Path) -> None:
    # four members: two mixtures × two seeds, one with its own lr, decay, clip and schedule
    cfgs = [BASE, BASE, replace(BASE, lr=3e-3, weight_decay=0.0, grad_clip=0.05, min_lr_ratio=0.5), BASE]
    mixes = [mixtures[0], mixtures[1], mixtures[0], mixtures[1]]
    seeds, inits = [0, 0, 1, 1], [10, 10, 11, 11]
    curves = [tmp_path / f"m{i}.csv" for i in range(4)]
    packed = train_packed(MODEL, cfgs, mixes, seeds=seeds, init_seeds=inits, curve_paths=curves)
    for i in range(4):
        ref, ref_w = _separate(cfgs[i], mixes[i], seeds[i], inits[i])
        got = packed[i]
        assert got.ok and got.result.steps == ref.steps == 12
        assert [r["loss"] for r in got.result.curve] == pytest.approx(
            [r["loss"] for r in ref.curve], rel=1e-4
        )
        assert [r["grad_norm"] for r in got.result.curve] == pytest.approx(
            [r["grad_norm"] for r in ref.curve], rel=1e-3
        )
        assert [r["lr"] for r in got.result.curve] == [r["lr"] for r in ref.curve]
        for n, w in ref_w.items():
            torch.testing.assert_close(got.weights[n], w, rtol=1e-4, atol=1e-5)
        assert [r["loss"] for r in read_curve(curves[i])] == [r["loss"] for r in got.result.curve]
    # the members really differ (different data, seeds, configs), so equality above is not trivial
    finals = {round(p.result.final_loss, 4) for p in packed}
    assert len(finals) == 4
    # a loaded member evaluates like the separately trained model
    model = packed[1].load_into(Trainer(MODEL, BASE).model)
    x = torch.arange(32).view(1, 32)
    _, ref_w = _separate(cfgs[1], mixes[1], seeds[1], inits[1])
    ref_model = Trainer(MODEL, BASE).model
    ref_model.load_state_dict({**ref_w, "lm_head.weight": ref_w["wte.weight"]}, strict=False)
    torch.testing.assert_close(model(x), ref_model(x), rtol=1e-4, atol=1e-4)


def test_diverging_member_is_stopped_and_the_others_go_on(mixtures) -> None:
    bad = replace(BASE, lr=50.0, warmup_fraction=0.0)
    cfgs = [BASE, bad, BASE]
    mixes = [mixtures[0], mixtures[0], mixtures[1]]
    tr = PackedTrainer(MODEL, BASE)

    class Count(Meter):
        n = 0

        def advance(self, n: float = 1) -> None:
            self.n += n

    meter = Count()
    packed = tr.train(cfgs, mixes, seeds=[0, 1, 2], init_seeds=[0, 1, 2], meter=meter)
    assert not packed[1].ok and "lower training.lr" in str(packed[1].diverged)
    assert packed[1].result.steps < 12 and packed[1].result.curve  # stopped early, its curve kept
    assert packed[1].diverged.curve == packed[1].result.curve
    assert meter.n == 12 + 12 + packed[1].result.steps  # one per member and step, as separate runs count
    for i in (0, 2):
        ref, _ = _separate(BASE, mixes[i], i, i)
        assert packed[i].ok and packed[i].result.steps == 12
        assert [r["loss"] for r in packed[i].result.curve] == pytest.approx(
            [r["loss"] for r in ref.curve], rel=1e-4
        )


def test_members_must_share_the_batch_shape(mixtures) -> None:
    with pytest.raises(ValueError, match="share training.batch_size"):
        train_packed(MODEL, [BASE, replace(BASE, batch_size=8)], mixtures, seeds=[0, 0], init_seeds=[0, 0])


def test_pack_runs_groups_by_shape_in_order() -> None:
    class Run:
        def __init__(self, name, model_cfg, train_cfg):
            self.name, self.model_cfg, self.train_cfg = name, model_cfg, train_cfg

    wide = replace(MODEL, n_embd=64)
    runs = [
        Run("a", MODEL, BASE),
        Run("b", wide, BASE),
        Run("c", MODEL, replace(BASE, lr=1e-3)),  # lr may differ inside a pack
        Run("d", MODEL, replace(BASE, tokens=1)),  # another step count: its own pack
        Run("e", MODEL, BASE),
    ]
    assert [[r.name for r in g] for g in pack_runs(runs)] == [["a", "c", "e"], ["b"], ["d"]]
    assert [[r.name for r in g] for g in pack_runs(runs, max_size=2)] == [["a", "c"], ["e"], ["b"], ["d"]]
    assert [len(g) for g in pack_runs(range(5), key=lambda r: r % 2)] == [3, 2]
