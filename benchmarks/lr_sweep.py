"""Learning rate × warmup sweep for a proxy preset on the shared real data (CPU-small: minutes).

What it answers: which peak lr and minimum warmup make the ``smoke`` preset train without diverging on
real text at the README example's budget, and where the stable edge is. The corpus is 3 English Project
Gutenberg books and the real web pages of ../shared/data/web (ScrapingHub + trafilatura evaluation
pages, extracted and curated with the project's defaults); the mixture is books 50% / web 50%, byte
tokenizer. Every (lr, warmup) trains ``--seeds`` seeds; a row reports the worst seed's final loss, the
held-out BPB (mean over seeds, macro over both sources) and how many seeds diverged.

    python benchmarks/lr_sweep.py --work /tmp/lr-sweep            # prints the table; --json FILE too
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from corpuskit.ablate.evalsets import heldout_sets, within_budget
from corpuskit.ablate.evaluate import evaluate, macro_bpb
from corpuskit.ablate.model import preset
from corpuskit.ablate.sweep import final_loss
from corpuskit.ablate.train import TrainConfig, Trainer, TrainingDiverged
from corpuskit.mix import (
    DecontamSettings,
    HeldoutSettings,
    MixtureConfig,
    build_in_study,
    open_mixture,
    open_study,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def prepare(work: Path) -> Path:
    """Ingest + curate the shared books and web pages into ``work/corpus`` (once), return the mixture."""
    mix = work / "mixture"
    if (mix / "manifest.json").exists():
        return mix
    work.mkdir(parents=True, exist_ok=True)
    (work / "books.yaml").write_text(
        f'name: books\nkind: gutenberg\ninputs: ["{DATA}/books/en_*.txt"]\noutput: corpus\n'
        "options: {require_header: false, join_hard_wraps: true}\n"
        "curate: {langid: {languages: null, min_score: 0.5}, filters: [gopher_repetition]}\n"
    )
    web = f'"{DATA}/web/extraction_scrapinghub/html", "{DATA}/web/extraction_trafilatura/eval"'
    (work / "web.yaml").write_text(
        f"name: web\nkind: html\ninputs: [{web}]\noutput: corpus\noptions: {{extractor: resiliparse}}\n"
    )
    cfgs = [str(work / "books.yaml"), str(work / "web.yaml")]
    cli = str(Path(sys.executable).parent / "corpuskit")
    for stage in ("ingest", "curate"):
        subprocess.run([cli, stage, *cfgs], check=True, capture_output=True)
    ctx = open_study(
        work / "corpus", "bytes", HeldoutSettings(bytes_per_source=60_000), DecontamSettings(enabled=True)
    )
    m = MixtureConfig(name="mixture", weights={"books": 0.5, "web": 0.5}, tokens=600_000)
    build_in_study(ctx, m, mix, seed=0, max_epochs=8, allow_repeat=False)
    return mix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/corpuskit-lr-sweep"))
    ap.add_argument("--preset", default="smoke")
    ap.add_argument("--tokens", type=int, default=600_000)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lrs", default="1e-3,2e-3,3e-3,5e-3,8e-3")
    ap.add_argument("--warmups", default="0,50,100", help="warmup_min_steps (0 = 5%% of the run only)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-bytes", type=int, default=64 * 1024)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()

    mixture = open_mixture(prepare(a.work))
    tok = mixture.tokenizer()
    model_cfg = preset(a.preset, mixture.vocab_size)
    sets = [within_budget(s, a.eval_bytes) for s in heldout_sets({"m": mixture}, None)]
    base = TrainConfig(tokens=a.tokens, batch_size=a.batch_size, threads=a.threads, log_every=10)
    steps = base.steps(model_cfg.context)
    trainer = Trainer(model_cfg, base)
    shape = f"{a.preset} {model_cfg.n_layer}x{model_cfg.n_embd} ctx {model_cfg.context}"
    eval_b = sum(s.bytes for s in sets)
    print(f"{shape}, {steps} steps × {a.batch_size} seqs, {a.seeds} seeds, eval {eval_b:,} B", flush=True)
    rows = []
    t_all = time.perf_counter()
    for warm in [int(x) for x in a.warmups.split(",")]:
        for lr in [float(x) for x in a.lrs.split(",")]:
            trainer.cfg = replace(base, lr=lr, warmup_min_steps=warm)
            losses, bpbs, diverged, secs = [], [], [], 0.0
            for seed in range(a.seeds):
                t = time.perf_counter()
                try:
                    res = trainer.train(mixture, seed=seed, init_seed=seed)
                    losses.append(final_loss(res.curve))
                    bpbs.append(macro_bpb(evaluate(trainer.model, tok, sets, model_cfg.context)))
                except TrainingDiverged as e:
                    diverged.append(f"seed {seed} at step {e.step}")
                secs += time.perf_counter() - t
            row = {
                "lr": lr,
                "warmup_min_steps": warm,
                "warmup_steps": trainer.cfg.warmup(steps),
                "worst_final_loss": max(losses) if losses and not diverged else None,
                "macro_bpb_mean": float(np.mean(bpbs)) if bpbs else None,
                "diverged": diverged,
                "seconds": secs,
            }
            rows.append(row)
            loss = "—" if row["worst_final_loss"] is None else f"{row['worst_final_loss']:.4f}"
            bpb = "—" if row["macro_bpb_mean"] is None else f"{row['macro_bpb_mean']:.4f}"
            print(f"lr {lr:.1e}  warmup {row['warmup_steps']:>3} steps  worst loss {loss}  BPB {bpb}  "
                  f"diverged: {', '.join(diverged) or 'none'}  ({secs:.0f} s)", flush=True)  # fmt: skip
    print(f"total {time.perf_counter() - t_all:.0f} s (shared CPU: times are noisy)")
    if a.json:
        a.json.write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(a).items()}, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
