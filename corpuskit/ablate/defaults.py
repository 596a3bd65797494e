"""Per-preset defaults for what an ablation config leaves out: learning rate, warmup, eval byte budget.

Why per preset: one learning rate for every size either wastes the small models or diverges the large
ones, and a warmup given only as a fraction of the run is a handful of steps in a short proxy run (the
issue that led here: 5% of 292 steps = 14 steps at lr 3e-3 diverged seed 1 of the README example).

Where the figures come from:

* ``smoke``: ``benchmarks/lr_sweep.py`` on the shared real data (3 English Gutenberg books + the curated
  real web pages, 50/50, byte tokenizer, the README example's 600k tokens × batch 16, 3 seeds): with the
  5%-only warmup (14 steps) every lr above 3e-3 trained worse (BPB 3.34 at 3e-3, 3.58 at 1.2e-2); with
  ≥ 100 warmup steps BPB kept improving up to 1.2e-2 (3.13) and 8e-3 gave 3.14 — we take 8e-3, one grid
  step below the best, and 100 warmup steps (figures in the README, "Defaults").
* ``14m`` / ``50m`` (and presets without an entry, which take the entry nearest in width): not swept on
  CPU (too slow there); conservative values in the range published small-model recipes use at these sizes
  (Pythia-14M/70M: 1e-3 with warmup; nanoGPT's 124M: 6e-4), with an absolute minimum of warmup steps.
  Run ``corpuskit ablate --lr-sweep`` to choose the rate on your own data.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpuskit.ablate.model import PRESETS, GPTConfig


@dataclass(frozen=True)
class PresetDefaults:
    lr: float
    warmup_min_steps: int  # warmup is max(this, warmup_fraction × steps)
    eval_bytes_per_set: int  # UTF-8 bytes scored per eval set (documents in order, the last one cut)
    cpu_threads: int = 0  # training.threads: 0 = min(4, usable cores)


DEFAULTS: dict[str, PresetDefaults] = {
    # one thread: its matmuls are too small to gain from more, and on a shared CPU two threads ran the
    # README example at ~1 step/s against ~9 with one (same load, same minute)
    "smoke": PresetDefaults(lr=8e-3, warmup_min_steps=100, eval_bytes_per_set=128 * 1024, cpu_threads=1),
    "14m": PresetDefaults(lr=2e-3, warmup_min_steps=100, eval_bytes_per_set=1024 * 1024),
    "50m": PresetDefaults(lr=1e-3, warmup_min_steps=200, eval_bytes_per_set=2 * 1024 * 1024),
}


def defaults_for(preset: str, cfg: GPTConfig | None = None) -> PresetDefaults:
    """The preset's entry; a preset without one takes the entry whose width is nearest its own."""
    if preset in DEFAULTS:
        return DEFAULTS[preset]
    width = (cfg or PRESETS[preset]).n_embd
    nearest = min(DEFAULTS, key=lambda k: (abs(PRESETS[k].n_embd - width), k))
    return DEFAULTS[nearest]
