"""Per-preset defaults fill what a config leaves out, and the run hash follows the values used."""

from __future__ import annotations

from corpuskit.ablate.config import AblationConfig
from corpuskit.ablate.defaults import DEFAULTS, defaults_for

MIX = [{"name": "a", "path": "x"}]


def test_preset_defaults_fill_lr_warmup_threads_and_eval_budget() -> None:
    cfg = AblationConfig.model_validate({"mixtures": MIX})
    tc = cfg.training.train_config(cfg.model.preset)
    d = DEFAULTS["smoke"]
    assert (tc.lr, tc.warmup_min_steps, tc.threads) == (d.lr, d.warmup_min_steps, d.cpu_threads)
    assert cfg.eval.bytes_per_set("smoke") == d.eval_bytes_per_set
    big = AblationConfig.model_validate({"mixtures": MIX, "model": {"preset": "50m"}})
    assert big.training.train_config("50m").lr == DEFAULTS["50m"].lr
    given = AblationConfig.model_validate(
        {
            "mixtures": MIX,
            "training": {"lr": 1e-4, "warmup_min_steps": 0},
            "eval": {"max_bytes_per_set": "all"},
        }
    )
    tc = given.training.train_config("smoke")
    assert (tc.lr, tc.warmup_min_steps) == (1e-4, 0) and given.eval.bytes_per_set("smoke") is None


def test_run_hash_is_of_the_values_used() -> None:
    implicit = AblationConfig.model_validate({"mixtures": MIX})
    explicit = AblationConfig.model_validate(
        {"mixtures": MIX, "training": {"lr": DEFAULTS["smoke"].lr, "warmup_min_steps": 100}}
    )
    other = AblationConfig.model_validate({"mixtures": MIX, "training": {"lr": 1e-3}})
    assert implicit.run_hash() == explicit.run_hash() != other.run_hash()


def test_a_preset_without_an_entry_takes_the_nearest_width() -> None:
    from corpuskit.ablate.model import GPTConfig

    assert defaults_for("14m") is DEFAULTS["14m"]
    assert defaults_for("a-30m-like", GPTConfig(n_embd=448, n_head=7)) is DEFAULTS["50m"]  # 448: nearer 512
    assert defaults_for("tiny", GPTConfig(n_embd=96)) is DEFAULTS["smoke"]
