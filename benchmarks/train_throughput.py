"""Ablation benchmarks: training tokens/s and MFU per model preset, and the seed noise of BPB.

    python benchmarks/train_throughput.py [--presets smoke,14m] [--steps 8] [--seeds 3] [--threads 2]

On CPU the MFU peak is an estimate (threads × clock × FMA width); on CUDA it is the dense bf16 peak of the
card (H100/H200: 989 TFLOP/s), with bf16 autocast, TF32, fused AdamW and torch.compile. Steady-state
throughput excludes the first step (allocation, compilation). Seed σ: the same mixture trained with
``--seeds`` seeds (smoke preset), macro BPB over two held-out sets of real text (../shared/data).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpuskit.ablate.config import AblationConfig  # noqa: E402
from corpuskit.ablate.hardware import peak_flops  # noqa: E402
from corpuskit.ablate.model import GPT, preset  # noqa: E402
from corpuskit.ablate.runner import run_ablation  # noqa: E402
from corpuskit.ablate.train import TrainConfig, Trainer  # noqa: E402
from corpuskit.mix.shards import open_mixture  # noqa: E402
from tests.support.ablate import build_mixture, split_docs, write_heldout  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def corpus() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    shake = (SHARED / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    austen = (SHARED / "books" / "en_austen_pride_and_prejudice_pg1342.txt").read_text(encoding="utf-8-sig")
    train, held = {}, {}
    for name, text in (("shakespeare", shake), ("austen", austen[20_000:])):
        docs = split_docs(text)
        held[name], train[name] = docs[:10], docs[10:]
    return train, held


def throughput(mix_path: Path, name: str, steps: int, threads: int, batch: int | None) -> None:
    mix = open_mixture(mix_path)
    cfg_m = preset(name, mix.vocab_size)
    bs = batch or (16 if name == "smoke" else 4)
    tcfg = TrainConfig(tokens=steps * bs * cfg_m.context, batch_size=bs, threads=threads, log_every=1)
    tr = Trainer(cfg_m, tcfg)
    res = tr.train(mix, seed=0, init_seed=0)
    first, last = res.curve[0], res.curve[-1]
    tps = (last["tokens"] - first["tokens"]) / (last["seconds"] - first["seconds"])
    peak = peak_flops(tr.device)
    mfu = tr.model.estimate_mfu(tps, peak)
    with torch.device("meta"):
        n50k = GPT(preset(name, 50257)).num_params()
    print(
        f"{name:>6}: {tr.model.num_params() / 1e6:.2f}M params (byte vocab; {n50k / 1e6:.1f}M at 50k), "
        f"ctx {cfg_m.context}, batch {bs}, {res.steps} steps on {tr.device} ({threads} threads): "
        f"{tps:,.0f} tokens/s steady, MFU {100 * mfu:.1f}% of {peak / 1e9:,.0f} GFLOP/s peak, "
        f"{tr.model.flops_per_token() / 1e6:.1f} MFLOP/token"
    )


def seed_sigma(root: Path, train, held, seeds: int, tokens: int, threads: int) -> None:
    hb = write_heldout(root / "held", held)
    build_mixture(root / "base", train, {"shakespeare": 0.5, "austen": 0.5}, 400_000, hb)
    cfg = AblationConfig.model_validate(
        {
            "output": str(root / "out"),
            "training": {
                "tokens": tokens,
                "batch_size": 16,
                "lr": 3e-3,
                "seeds": list(range(seeds)),
                "threads": threads,
            },
            "mixtures": [{"name": "baseline", "path": str(root / "base")}],
        }
    )
    t = time.perf_counter()
    s = run_ablation(cfg)
    m = s["mixtures"]["baseline"]
    per_set = ", ".join(f"{k} σ {v['bpb_std']:.4f}" for k, v in m["sets"].items())
    docs = ", ".join(f"{k}: {v['documents']} docs / {v['bytes']:,} B" for k, v in s["eval_sets"].items())
    print(
        f"seed noise: smoke, {tokens:,} tokens/run, {seeds} seeds: macro BPB {m['macro_bpb_mean']:.4f} "
        f"± {m['macro_bpb_std']:.4f} (σ over seeds; {per_set}); eval {docs}; {time.perf_counter() - t:.0f} s"
    )
    print("  per seed: " + ", ".join(f"{v:.4f}" for v in m["macro_bpb_per_seed"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="smoke,14m")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sigma-tokens", type=int, default=300_000)
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared sample data not found at {SHARED}")
    train, held = corpus()
    print(f"torch {torch.__version__}; cuda available: {torch.cuda.is_available()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hb = write_heldout(root / "h0", held)
        mix = build_mixture(root / "tp", train, {"shakespeare": 0.5, "austen": 0.5}, 1_000_000, hb)
        for name in args.presets.split(","):
            throughput(mix, name, args.steps, args.threads, args.batch)
        seed_sigma(root, train, held, args.seeds, args.sigma_tokens, args.threads)


if __name__ == "__main__":
    main()
