"""Does a small proxy rank mixtures the way a larger model does? Pairwise decision accuracy and Spearman ρ.

    python benchmarks/decision_accuracy.py [--quick] [--data ../shared/data] [--work /tmp/decision-acc]

Real data, the real chain: the shared samples (Gutenberg books, Stack Exchange posts, ScrapingHub web
pages) are ingested, curated and deduplicated with the CLI exactly as ``corpuskit demo --data`` does, then
mixtures of different source weights are built with :func:`corpuskit.mix.build_mixture` (byte tokenizer,
shared held-out sets per source). Every mixture × seed is trained twice, at two sizes (the large model has
≥ 8× the small one's non-embedding parameters), each size as one pack (:mod:`corpuskit.ablate.packed`),
and scored by macro BPB over the held-out sets.

Reported: each mixture's BPB per size (mean ± std over seeds); the *decision accuracy* (DataDecide) — the
share of mixture pairs the small model orders as the large one does (means over seeds; also per single
small seed); Spearman ρ of the two rankings; and, as a ceiling, how often two seeds of the *large* model
agree with each other. The work folder is kept and reused (ingest and mixtures resume).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpuskit.ablate.evalsets import load_jsonl_set  # noqa: E402
from corpuskit.ablate.evaluate import EvalSet, evaluate, macro_bpb  # noqa: E402
from corpuskit.ablate.model import GPT, preset  # noqa: E402
from corpuskit.ablate.packed import PackedTrainer  # noqa: E402
from corpuskit.ablate.train import TrainConfig  # noqa: E402
from corpuskit.demo.sources import demo_sources  # noqa: E402
from corpuskit.mix import build_mixture, open_mixture  # noqa: E402

MIXTURES = {
    "balanced": {"books": 1, "forums": 1, "web": 1},
    "books-heavy": {"books": 0.7, "forums": 0.15, "web": 0.15},
    "forums-heavy": {"books": 0.15, "forums": 0.7, "web": 0.15},
    "web-heavy": {"books": 0.15, "forums": 0.15, "web": 0.7},
    "no-books": {"books": 0.0, "forums": 0.5, "web": 0.5},
    "no-web": {"books": 0.5, "forums": 0.5, "web": 0.0},
}
# (mixtures, seeds, training tokens per run, small shape, large shape, eval docs per set, bytes per doc)
SIZES = {
    # 0.10M vs 0.79M non-embedding parameters (7.9×; 8.4× counting the byte embedding)
    "full": (
        list(MIXTURES),
        [0, 1],
        200_000,
        dict(n_layer=2, n_embd=64),
        dict(n_layer=4, n_embd=128),
        16,
        4000,
    ),
    # 0.025M vs 0.20M (8×)
    "quick": (
        ["balanced", "books-heavy", "web-heavy", "no-web"],
        [0, 1],
        20_000,
        dict(n_layer=2, n_embd=32, n_head=2),
        dict(n_layer=4, n_embd=64, n_head=4),
        8,
        2000,
    ),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepare_corpus(data: Path, work: Path) -> Path:
    """ingest → curate → dedup of the shared samples through the CLI, as ``corpuskit demo --data``."""
    import typer

    from corpuskit.cli import app

    specs, _ = demo_sources(data, work)
    (work / "sources").mkdir(parents=True, exist_ok=True)
    configs = []
    for name, spec in specs.items():
        path = work / "sources" / f"{name}.yaml"
        path.write_text(
            yaml.safe_dump({"name": name, "output": str(work / "corpus"), **spec}, sort_keys=False)
        )
        configs.append(str(path))
    for args in (["ingest", *configs, "--workers", "1"], ["curate", *configs], ["dedup", *configs]):
        t = time.perf_counter()
        code = typer.main.get_command(app).main(args, prog_name="corpuskit", standalone_mode=False)
        if code not in (None, 0):
            raise SystemExit(f"corpuskit {args[0]} failed with exit code {code}")
        log(f"{args[0]}: {time.perf_counter() - t:.1f} s")
    return work / "corpus"


def mixtures(corpus: Path, work: Path, names: list[str], tokens: int):
    out = {}
    for name in names:
        folder = work / "mixes" / name
        if not (folder / "manifest.json").exists():
            weights = {s: w for s, w in MIXTURES[name].items() if w > 0}
            build_mixture(
                weights=weights,
                corpus=corpus,
                output=folder,
                tokens=tokens,
                name=name,
                heldout_bytes=40_000,
                allow_repeat=True,
                max_epochs=50,
            )
        out[name] = open_mixture(folder)
    return out


def eval_sets(mix, max_docs: int, doc_bytes: int) -> list[EvalSet]:
    """The held-out set of every source (identical across the mixtures), first ``doc_bytes`` of each doc."""
    sets = []
    for src, info in sorted(mix.manifest["heldout"].items()):
        p = Path(info["path"])
        s = load_jsonl_set(src, p if p.is_absolute() else mix.path / p, max_docs)
        heads = [t.encode()[:doc_bytes].decode(errors="ignore") for t in s.texts]
        sets.append(EvalSet(s.name, s.ids, heads))
    return sets


def train_size(shape: dict, mixes: dict, seeds: list[int], tokens: int, threads: int, sets) -> dict:
    """Macro BPB per (mixture, seed) for one model shape, all runs in one pack; None for a diverged run."""
    model_cfg = preset("smoke", 257, context=128, **shape)
    lr = 2e-3 if shape["n_embd"] <= 64 else 1e-3
    cfg = TrainConfig(tokens=tokens, batch_size=16, lr=lr, warmup_fraction=0.1, threads=threads, log_every=20)
    runs = [(m, s) for m in mixes for s in seeds]
    t0 = time.perf_counter()
    res = PackedTrainer(model_cfg, cfg).train(
        [replace(cfg) for _ in runs],
        [mixes[m] for m, _ in runs],
        seeds=[s for _, s in runs],
        init_seeds=[1000 + s for _, s in runs],
    )
    train_s = time.perf_counter() - t0
    model = GPT(model_cfg)
    tok = next(iter(mixes.values())).tokenizer()
    out = {}
    for (m, s), r in zip(runs, res, strict=True):
        if not r.ok:
            log(f"{m} seed {s}: {r.diverged}")
            out[(m, s)] = None
            continue
        out[(m, s)] = macro_bpb(
            evaluate(r.load_into(model).eval(), tok, sets, model_cfg.context, batch_size=64)
        )
    template = GPT(model_cfg)
    log(
        f"{template.num_params(non_embedding=True) / 1e6:.3f}M non-embedding params: {len(runs)} runs × "
        f"{tokens:,} tokens packed in {train_s:.0f} s, eval {time.perf_counter() - t0 - train_s:.0f} s"
    )
    return {
        "bpb": out,
        "params": template.num_params(non_embedding=True),
        "seconds": time.perf_counter() - t0,
    }


def agreement(a: dict[str, float], b: dict[str, float]) -> float:
    """Share of pairs ordered the same way by ``a`` and ``b`` (lower BPB = better)."""
    pairs = list(itertools.combinations(sorted(set(a) & set(b)), 2))
    same = [np.sign(a[x] - a[y]) == np.sign(b[x] - b[y]) for x, y in pairs]
    return float(np.mean(same)) if same else float("nan")


def per_seed(bpb: dict, names: list[str], seed: int) -> dict[str, float]:
    return {m: bpb[(m, seed)] for m in names if bpb.get((m, seed)) is not None}


def means(bpb: dict, names: list[str]) -> dict[str, float]:
    out = {}
    for m in names:
        vals = [v for (n, _), v in bpb.items() if n == m and v is not None]
        if vals:
            out[m] = float(np.mean(vals))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="4 mixtures, tiny models: a ~2-minute smoke run")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/corpuskit-decision-accuracy"))
    # one thread: on a shared 2-core machine two threads per process spin against each other (3.5× slower
    # measured under load); alone, --threads 2 is faster
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    names, seeds, tokens, small, large, max_docs, doc_bytes = SIZES["quick" if args.quick else "full"]
    work = args.work.resolve()
    corpus = work / "corpus"
    if not (work / "corpus.done").exists():
        prepare_corpus(args.data.resolve(), work)
        (work / "corpus.done").write_text("ingest, curate and dedup finished\n")
    mixes = mixtures(corpus, work, names, max(tokens, 200_000))
    sets = eval_sets(next(iter(mixes.values())), max_docs, doc_bytes)
    log(f"{len(mixes)} mixtures, eval sets {[(s.name, len(s.texts), s.bytes) for s in sets]}")
    got = {
        k: train_size(shape, mixes, seeds, tokens, args.threads, sets)
        for k, shape in (("small", small), ("large", large))
    }
    sm, lg = means(got["small"]["bpb"], names), means(got["large"]["bpb"], names)
    ratio = got["large"]["params"] / got["small"]["params"]
    print(
        f"decision accuracy on real data ({'quick' if args.quick else 'full'}): {len(names)} mixtures, "
        f"seeds {seeds}, {tokens:,} training tokens per run, large/small non-embedding params {ratio:.1f}×"
    )
    print(f"{'mixture':>14} | small BPB (mean ± std) | large BPB (mean ± std)")
    for m in names:
        cells = []
        for k in ("small", "large"):
            v = [x for (n, _), x in got[k]["bpb"].items() if n == m and x is not None]
            cells.append(
                f"{np.mean(v):.4f} ± {np.std(v, ddof=1) if len(v) > 1 else 0:.4f}" if v else "diverged"
            )
        print(f"{m:>14} | {cells[0]:>22} | {cells[1]:>22}")
    common = sorted(set(sm) & set(lg))
    rho = spearmanr([sm[m] for m in common], [lg[m] for m in common]).statistic
    print(
        f"pairwise decision accuracy, small vs large (means over seeds): {agreement(sm, lg):.3f} "
        f"({len(common) * (len(common) - 1) // 2} pairs)"
    )
    for s in seeds:
        print(
            f"  small seed {s} alone vs large mean: "
            f"{agreement(per_seed(got['small']['bpb'], names, s), lg):.3f}"
        )
    if len(seeds) > 1:
        a, b = (per_seed(got["large"]["bpb"], names, s) for s in seeds[:2])
        print(f"  ceiling — large seed {seeds[0]} vs large seed {seeds[1]}: {agreement(a, b):.3f}")
    print(f"Spearman ρ, small vs large ranking: {rho:.3f}")
    print(
        f"wall time {time.perf_counter() - t0:.0f} s (small {got['small']['seconds']:.0f} s, "
        f"large {got['large']['seconds']:.0f} s, threads {args.threads})"
    )


if __name__ == "__main__":
    main()
