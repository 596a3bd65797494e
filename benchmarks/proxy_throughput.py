"""Proxy training speed: one long run (tokens/s, MFU, compile s, BPB) and K packed proxies vs sequential.

    python benchmarks/proxy_throughput.py packed --preset smoke --k 4,8 --steps 30 --repeat 3 --threads 2
    python benchmarks/proxy_throughput.py single --preset 50m --tokens 100M --batch 32      # on a GPU

``packed`` trains K members (K mixtures × seeds of one shape) once one after another with one reused
:class:`Trainer` and once as one pack (:mod:`corpuskit.ablate.packed`), in the same process, alternating,
best of ``--repeat``; throughput is steady state (the first step, with allocation and compilation, is left
out of both) and tokens are the sum over members. ``single`` trains one model on a byte-level mixture and
reports BPB on the mixture's held-out sets. Data: real text from ../shared/data (books + Tiny Shakespeare)
when present, else the generated demo sample; a small mixture is simply drawn from again (random windows),
so the BPB of a long run on it measures fit to that text, not a transferable quality figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpuskit.ablate.evalsets import load_jsonl_set  # noqa: E402
from corpuskit.ablate.evaluate import evaluate, macro_bpb  # noqa: E402
from corpuskit.ablate.model import preset  # noqa: E402
from corpuskit.ablate.packed import PackedTrainer  # noqa: E402
from corpuskit.ablate.train import TrainConfig, Trainer  # noqa: E402
from corpuskit.mix.shards import Mixture, open_mixture  # noqa: E402
from corpuskit.mix.tokenizer import ByteTokenizer  # noqa: E402
from corpuskit.text import split_documents as split_docs  # noqa: E402
from tests.support.ablate import build_mixture, write_heldout  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def source_texts(work: Path) -> dict[str, str]:
    """Two sources of real prose/verse when the shared samples are there, else the generated sample."""
    if SHARED.is_dir():
        return {
            "verse": (SHARED / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8"),
            "prose": "\n\n".join(
                (SHARED / "books" / f).read_text(encoding="utf-8-sig")
                for f in ("en_austen_pride_and_prejudice_pg1342.txt", "en_melville_moby_dick_pg2701.txt")
            ),
        }
    from corpuskit.demo.data import write_demo_inputs

    books = write_demo_inputs(work / "inputs", scale=0.5)["books"]
    texts = [p.read_text(encoding="utf-8") for p in sorted(books.glob("*.txt"))]
    return {"verse": "\n\n".join(texts[::2]), "prose": "\n\n".join(texts[1::2])}


def mixtures(work: Path, n: int, tokens: int) -> list[Mixture]:
    """``n`` byte-level mixtures of the two sources with different weights, sharing held-out sets."""
    docs = {k: split_docs(t) for k, t in source_texts(work).items()}
    held = write_heldout(work / "held", {k: d[:8] for k, d in docs.items()})
    train = {k: d[8:] for k, d in docs.items()}
    out = []
    for i in range(n):
        w = (i + 1) / (n + 1)
        path = work / f"mix{i}"
        if not (path / "manifest.json").exists():
            build_mixture(path, train, {"verse": w, "prose": 1 - w}, tokens, held, seed=i)
        out.append(open_mixture(path))
    return out


def steady(curve: list[dict[str, float]]) -> tuple[int, float]:
    """(tokens, seconds) after the first logged step."""
    a, b = curve[0], curve[-1]
    return int(b["tokens"] - a["tokens"]), float(b["seconds"] - a["seconds"])


def packed_vs_sequential(args: argparse.Namespace, work: Path) -> list[dict]:
    model_cfg = preset(args.preset, 257, **({"context": args.context} if args.context else {}))
    cfg = TrainConfig(
        tokens=args.steps * args.batch * model_cfg.context,
        batch_size=args.batch,
        threads=args.threads,
        device=args.device,
        compile=args.compile,
        log_every=10,  # as in real runs: a logged step syncs the device
    )
    if args.steps < 2:
        raise SystemExit("--steps must be >= 2 (the first step is left out of the throughput)")
    ks = [int(k) for k in args.k.split(",")]
    mixes = mixtures(work, max(ks), 200_000)
    seq, pack = Trainer(model_cfg, cfg), PackedTrainer(model_cfg, cfg)
    seq.train(mixes[0], seed=0, init_seed=0)  # warm-up: threads, allocator, compilation
    pack.train([cfg] * max(ks), mixes[: max(ks)], seeds=range(max(ks)), init_seeds=range(max(ks)))
    rows = []
    for k in ks:
        best_seq = best_pack = 0.0
        for _ in range(args.repeat):
            toks = secs = 0.0
            for i in range(k):
                t, s = steady(seq.train(mixes[i], seed=i, init_seed=i).curve)
                toks, secs = toks + t, secs + s
            best_seq = max(best_seq, toks / secs)
            res = pack.train([cfg] * k, mixes[:k], seeds=range(k), init_seeds=range(k))
            t, s = steady(res[0].result.curve)
            best_pack = max(best_pack, k * t / s)
        rows.append(
            {
                "preset": args.preset,
                "k": k,
                "device": str(seq.device),
                "sequential_tokens_per_s": round(best_seq),
                "packed_tokens_per_s": round(best_pack),
                "speedup": round(best_pack / best_seq, 2),
            }
        )
        print(
            f"{args.preset} × {k} on {seq.device}: sequential {best_seq:,.0f} tok/s, packed {best_pack:,.0f} "
            f"tok/s, speedup {best_pack / best_seq:.2f}× (best of {args.repeat}, {args.steps} steps, "
            f"batch {args.batch}×{model_cfg.context})",
            flush=True,
        )
    return rows


def single(args: argparse.Namespace, work: Path) -> dict:
    model_cfg = preset(args.preset, 257, **({"context": args.context} if args.context else {}))
    tokens = int(float(args.tokens.rstrip("Mm")) * 1e6) if args.tokens[-1] in "Mm" else int(args.tokens)
    cfg = TrainConfig(
        tokens=tokens,
        batch_size=args.batch,
        threads=args.threads,
        device=args.device,
        compile=args.compile,
        log_every=50,
        lr=args.lr,
    )
    mix = mixtures(work, 1, 2_000_000)[0]
    t0 = time.perf_counter()
    tr = Trainer(model_cfg, cfg)
    res = tr.train(mix, seed=0, init_seed=0)
    t, s = steady(res.curve)
    tps = t / s if s > 0 else res.tokens_per_second
    per_step = s / max(1, res.curve[-1]["step"] - res.curve[0]["step"])
    compile_s = res.curve[0]["seconds"] - per_step  # the first step's time beyond a steady step
    sets = [load_jsonl_set(p.stem, p) for p in sorted((work / "held").glob("*.jsonl"))]
    te = time.perf_counter()
    bpb = macro_bpb(evaluate(tr.model, ByteTokenizer(), sets, model_cfg.context, device=tr.device))
    out = {
        "preset": args.preset,
        "device": str(tr.device),
        "params": tr.model.num_params(),
        "tokens": res.tokens,
        "steady_tokens_per_s": round(tps),
        "mfu": tr.model.estimate_mfu(tps, tr._peak),
        "compile_seconds": round(compile_s, 1),
        "train_seconds": round(res.seconds, 1),
        "eval_seconds": round(time.perf_counter() - te, 1),
        "macro_bpb_heldout": round(bpb, 4),
        "final_loss": res.final_loss,
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }
    print(
        f"{args.preset} ({out['params'] / 1e6:.1f}M params) on {tr.device}: {res.tokens:,} tokens, "
        f"{tps:,.0f} tok/s steady, MFU {out['mfu']:.1%}, compile ≈ {compile_s:.1f} s, "
        f"train {res.seconds:.1f} s, held-out macro BPB {bpb:.4f}",
        flush=True,
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["packed", "single"])
    ap.add_argument("--preset", default="smoke")
    ap.add_argument("--context", type=int, default=0, help="override the preset's context")
    ap.add_argument("--k", default="4,8", help="packed: pack sizes to measure")
    ap.add_argument("--steps", type=int, default=30, help="packed: steps per member")
    ap.add_argument("--repeat", type=int, default=3, help="packed: best of N")
    ap.add_argument("--tokens", default="1M", help="single: training tokens (e.g. 100M)")
    ap.add_argument("--lr", type=float, default=1e-3, help="single: peak learning rate")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--compile", default="auto", choices=["auto", "on", "off"])
    ap.add_argument("--work", type=Path, default=None, help="folder for the mixtures (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        out = packed_vs_sequential(args, work) if args.mode == "packed" else single(args, work)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
