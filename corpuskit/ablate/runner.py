"""Run an ablation: every (mixture, seed) is one resumable unit; then statistics, regression, outputs.

Layout of ``<output>/``::

    mixtures/<name>/                 mixtures built from weights (explicit or swarm)
    runs/<mixture>/seed-<s>/curve.csv, scores.json, done.json   (done.json written last = completion marker)
    results.csv                      one row per mixture × seed × eval set
    summary.json                     means ± std, comparisons, seed σ, regression, proposal
    timings.json                     wall time, tokens/s and MFU per run (kept apart: not reproducible)
    bpb_per_set.png, regression.png

A killed ablation is simply run again: finished units (marker present, same run hash) are loaded, not
retrained. A marker from a different model/training/eval config is an error, never silently mixed in.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.ablate import regression as reg
from corpuskit.ablate.config import AblationConfig
from corpuskit.ablate.evaluate import EvalSet, SetScore, evaluate, load_jsonl_set, load_text_set, macro_bpb
from corpuskit.ablate.stats import compare_to_baseline, mean_std
from corpuskit.config import ConfigError
from corpuskit.mix.shards import Mixture, open_mixture
from corpuskit.store.atomic import atomic_write_bytes, atomic_write_json

SWARM_PREFIX = "swarm-"


@dataclass
class Unit:
    mixture: str
    seed: int
    directory: Path

    @property
    def marker(self) -> Path:
        return self.directory / "done.json"


# ---------------------------------------------------------------------------------------------- mixtures


def _builder() -> Callable[..., Any]:
    """``corpuskit.mix.build.build_mixture`` (owned by the mix stage); a clear error when it is missing."""
    try:
        from corpuskit.mix import build
    except ImportError as e:
        raise ConfigError(
            "mixtures given as weights (and swarms) need corpuskit.mix.build, which is not installed "
            f"({e}); build them with `corpuskit mix` and list them by 'path' instead"
        ) from None
    return build.build_mixture


def _call_builder(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Pass only the keyword arguments the builder accepts (it may take fewer options than we know)."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**kwargs)
    return fn(**{k: v for k, v in kwargs.items() if k in params})


def build_weighted(cfg: AblationConfig, name: str, weights: dict[str, float]) -> Path:
    out = cfg.resolve(cfg.output) / "mixtures" / name
    if (out / "manifest.json").exists():
        return out
    try:
        _build_call(cfg, name, weights, out)
    except ValueError as e:  # the mix stage's MixError: unknown source, repetition cap, ...
        raise ConfigError(f"building mixture {name!r}: {e}") from None
    if not (out / "manifest.json").exists():
        raise RuntimeError(f"mixture builder did not write {out / 'manifest.json'}")
    return out


def _build_call(cfg: AblationConfig, name: str, weights: dict[str, float], out: Path) -> None:
    b = cfg.build
    assert b is not None
    _call_builder(
        _builder(),
        weights=weights,
        corpus=cfg.resolve(b.corpus),
        output=out,
        tokens=b.tokens or cfg.training.tokens,
        tokenizer=b.tokenizer if b.tokenizer == "bytes" else str(cfg.resolve(Path(b.tokenizer))),
        seed=b.seed,
        max_epochs=b.max_epochs,
        name=name,
        **b.options,
    )


def available_tokens(cfg: AblationConfig) -> dict[str, int]:
    """Tokens each source of the corpus can supply: the mix stage's count, else bytes × tokens/byte."""
    b = cfg.build
    assert b is not None
    corpus = cfg.resolve(b.corpus)
    try:
        from corpuskit.mix import build

        counter = getattr(build, "source_tokens", None)
    except ImportError:
        counter = None
    if counter is not None:
        spec = b.tokenizer if b.tokenizer == "bytes" else str(cfg.resolve(Path(b.tokenizer)))
        return {k: int(v) for k, v in _call_builder(counter, corpus=corpus, tokenizer=spec).items()}
    import polars as pl

    from corpuskit.mix.tokenizer import load_tokenizer
    from corpuskit.store import list_sources, scan_documents

    tok = load_tokenizer(b.tokenizer if b.tokenizer == "bytes" else cfg.resolve(Path(b.tokenizer)))
    out = {}
    for s in list_sources(corpus):
        lf = scan_documents(corpus, s, kept_only=True).select("text")
        nbytes = int(lf.select(pl.col("text").str.len_bytes().sum()).collect().item() or 0)
        sample = lf.head(200).collect()["text"].to_list()
        sb = sum(len(t.encode("utf-8")) for t in sample)
        ratio = sum(len(t) for t in tok.encode_batch(sample)) / sb if sb else 1.0
        out[s] = int(nbytes * ratio)
    return {s: n for s, n in out.items() if n > 0}


def resolve_mixtures(cfg: AblationConfig) -> tuple[dict[str, Path], list[str], dict[str, Any]]:
    """name -> mixture folder (building weights mixtures and the swarm); swarm names; swarm context."""
    paths: dict[str, Path] = {}
    for m in cfg.mixtures:
        paths[m.name] = cfg.resolve(m.path) if m.path is not None else build_weighted(cfg, m.name, m.weights)
    swarm_names: list[str] = []
    ctx: dict[str, Any] = {}
    if cfg.swarm:
        avail = available_tokens(cfg)
        total = sum(avail.values())
        natural = {s: n / total for s, n in avail.items()}
        budget = (cfg.build.tokens if cfg.build and cfg.build.tokens else None) or cfg.training.tokens
        ctx = {"natural": natural, "available": avail, "budget": budget, "max_epochs": cfg.build.max_epochs}
        try:
            draws = reg.sample_swarm(
                natural,
                cfg.swarm.runs,
                concentration=cfg.swarm.concentration,
                min_weight=cfg.swarm.min_weight,
                available_tokens=avail,
                budget_tokens=budget,
                max_epochs=cfg.build.max_epochs,
                seed=cfg.swarm.seed,
            )
        except ValueError as e:
            raise ConfigError(f"swarm: {e}") from None
        for i, w in enumerate(draws):
            name = f"{SWARM_PREFIX}{i:03d}"
            paths[name] = build_weighted(cfg, name, w)
            swarm_names.append(name)
    return paths, swarm_names, ctx


def mixture_weights(m: Mixture) -> dict[str, float]:
    """Realised token share per source (manifest ``sources``), else the requested weights."""
    src = m.manifest.get("sources") or {}
    toks = {s: float(v.get("tokens", 0)) for s, v in src.items() if isinstance(v, dict)}
    if sum(toks.values()) > 0:
        t = sum(toks.values())
        return {s: v / t for s, v in toks.items()}
    req = m.manifest.get("weights_requested") or {}
    t = sum(req.values()) or 1.0
    return {s: float(v) / t for s, v in req.items()}


# ---------------------------------------------------------------------------------------------- eval sets


def eval_sets(cfg: AblationConfig, mixtures: dict[str, Mixture]) -> list[EvalSet]:
    """Held-out sets of every source (identical across mixtures, checked by hash) + external files."""
    sets: list[EvalSet] = []
    limit = cfg.eval.max_documents
    if cfg.eval.heldout:
        seen: dict[str, tuple[str, Path]] = {}
        for name, m in mixtures.items():
            for src, info in sorted((m.manifest.get("heldout") or {}).items()):
                p = Path(info["path"])
                p = p if p.is_absolute() else m.path / p
                h = str(info.get("hash", ""))
                if src in seen and seen[src][0] != h:
                    raise ConfigError(
                        f"mixture {name!r} has a different held-out set for source {src!r} than the others; "
                        "build every mixture of an ablation from the same corpus and held-out settings"
                    )
                seen.setdefault(src, (h, p))
        for src in sorted(seen):
            sets.append(load_jsonl_set(src, seen[src][1], limit))
    for name, p in sorted(cfg.eval.files.items()):
        path = cfg.resolve(p)
        if not path.exists():
            raise ConfigError(f"eval.files.{name}: {path} not found")
        loader = load_jsonl_set if path.suffix == ".jsonl" else load_text_set
        sets.append(loader(name, path, limit))
    cap = cfg.eval.max_document_bytes
    if cap:
        sets = [EvalSet(s.name, s.ids, [_head_bytes(t, cap) for t in s.texts]) for s in sets]
    sets = [s for s in sets if s.texts]
    if not sets:
        raise ConfigError("no eval documents: the mixtures have no held-out sets and eval.files is empty")
    return sets


def _head_bytes(text: str, n: int) -> str:
    """The first ``n`` UTF-8 bytes of ``text``, never cutting a character in half."""
    return text.encode("utf-8")[:n].decode("utf-8", errors="ignore")


# ---------------------------------------------------------------------------------------------- runs


def run_unit(
    trainer,
    mixture: Mixture,
    tokenizer,
    sets: list[EvalSet],
    unit: Unit,
    cfg: AblationConfig,
    on_step: Callable[[int, int, float], None] | None = None,
) -> list[SetScore]:
    """Train + evaluate one (mixture, seed), then write the marker last."""
    unit.directory.mkdir(parents=True, exist_ok=True)
    result = trainer.train(
        mixture,
        seed=unit.seed,
        init_seed=cfg.training.init_seed + unit.seed,
        curve_path=unit.directory / "curve.csv",
        on_step=on_step,
    )
    scores = evaluate(
        trainer.model,
        tokenizer,
        sets,
        trainer.model_cfg.context,
        device=trainer.device,
        batch_size=cfg.eval.batch_size,
    )
    atomic_write_json(unit.directory / "scores.json", {"sets": [s.to_json() for s in scores]})
    atomic_write_json(
        unit.marker,
        {
            "run_hash": cfg.run_hash(),
            "mixture": unit.mixture,
            "mixture_hash": mixture_hash(mixture),
            "seed": unit.seed,
            "steps": result.steps,
            "train_tokens": result.tokens,
            "final_loss": result.final_loss,
            "seconds": result.seconds,
            "tokens_per_second": result.tokens_per_second,
            "mfu": result.mfu,
            "device": str(trainer.device),
        },
    )
    return scores


def mixture_hash(m: Mixture) -> str:
    import hashlib

    blob = json.dumps({k: m.manifest.get(k) for k in ("format", "sources", "tokenizer")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_unit(unit: Unit, cfg: AblationConfig, mixture: Mixture) -> list[SetScore] | None:
    """Scores of a finished unit, None if unfinished; a marker from another config is an error."""
    if not unit.marker.exists():
        return None
    marker = json.loads(unit.marker.read_text())
    if marker.get("run_hash") != cfg.run_hash() or marker.get("mixture_hash") != mixture_hash(mixture):
        raise ConfigError(
            f"{unit.directory} holds a run made with a different model/training/eval config or mixture; "
            "use a new 'output' folder (or delete that run folder to retrain it)"
        )
    data = json.loads((unit.directory / "scores.json").read_text())
    return [SetScore.from_json(d) for d in data["sets"]]


# ---------------------------------------------------------------------------------------------- ablation


def run_ablation(
    cfg: AblationConfig,
    *,
    progress=None,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Everything ``corpuskit ablate`` does; returns the summary (also written to summary.json)."""
    from corpuskit.ablate.train import Trainer, TrainingDiverged

    out = cfg.resolve(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    paths, swarm_names, swarm_ctx = resolve_mixtures(cfg)
    mixtures = {}
    for name, p in paths.items():
        try:
            mixtures[name] = open_mixture(p)
        except FileNotFoundError as e:
            raise ConfigError(f"mixture {name!r}: {e}") from None
    hashes = {m.manifest["tokenizer"].get("hash") for m in mixtures.values()}
    if len(hashes) > 1:
        raise ConfigError(
            "the mixtures use different tokenizers; BPB is comparable, but one ablation must "
            "train one architecture: rebuild them with one tokenizer"
        )
    first = next(iter(mixtures.values()))
    tokenizer = first.tokenizer()
    model_cfg = cfg.model.build(first.vocab_size)
    sets = eval_sets(cfg, mixtures)
    baseline = cfg.baseline_name()

    seeds_of = {n: list(cfg.training.seeds) for n in paths}
    for n in swarm_names:
        seeds_of[n] = list(cfg.swarm.seeds or cfg.training.seeds[:1])
    units = [Unit(n, s, out / "runs" / n / f"seed-{s}") for n in paths for s in seeds_of[n]]

    scores: dict[tuple[str, int], list[SetScore]] = {}
    todo = []
    for u in units:
        got = load_unit(u, cfg, mixtures[u.mixture])
        if got is None:
            todo.append(u)
        else:
            scores[(u.mixture, u.seed)] = got
    log(
        f"{len(units)} runs ({len(units) - len(todo)} already done), {len(sets)} eval sets, "
        f"model {cfg.model.preset} {model_cfg.n_layer}×{model_cfg.n_embd} ctx {model_cfg.context}"
    )

    if todo:
        trainer = Trainer(model_cfg, cfg.training.train_config())
        steps = cfg.training.train_config().steps(model_cfg.context)
        task = progress.add_task("ablate", total=len(todo) * steps, rate="") if progress else None
        for i, u in enumerate(todo):
            base = i * steps

            def on_step(step: int, total: int, loss: float, base=base, u=u) -> None:
                if progress is not None:
                    progress.update(
                        task, completed=base + step, rate=f"{u.mixture}/s{u.seed} loss {loss:.3f}"
                    )

            try:
                scores[(u.mixture, u.seed)] = run_unit(
                    trainer, mixtures[u.mixture], tokenizer, sets, u, cfg, on_step
                )
            except TrainingDiverged as e:
                raise ConfigError(f"run {u.mixture} seed {u.seed}: {e}") from None
            if progress is not None:
                progress.update(task, completed=base + steps)

    summary = summarise(cfg, scores, sets, baseline, mixtures, swarm_names, swarm_ctx)
    write_outputs(out, cfg, scores, summary, units)
    return summary


def summarise(
    cfg: AblationConfig,
    scores: dict[tuple[str, int], list[SetScore]],
    sets: list[EvalSet],
    baseline: str,
    mixtures: dict[str, Mixture],
    swarm_names: list[str],
    swarm_ctx: dict[str, Any],
) -> dict[str, Any]:
    names = list(mixtures)
    set_names = [s.name for s in sets]
    per_mix: dict[str, Any] = {}
    macro_by: dict[str, list[float]] = {}
    docs_by: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for n in names:
        runs = sorted((s, sc) for (m, s), sc in scores.items() if m == n)
        macro_by[n] = [macro_bpb(sc) for _, sc in runs]
        sets_summary = {}
        for j, sn in enumerate(set_names):
            b = mean_std([sc[j].bpb for _, sc in runs])
            t = mean_std([sc[j].token_loss for _, sc in runs])
            sets_summary[sn] = {
                "bpb_mean": b.mean,
                "bpb_std": b.std,
                "token_loss_mean": t.mean,
                "perplexity_mean": float(np.mean([sc[j].perplexity for _, sc in runs])),
            }
        ms = mean_std(macro_by[n])
        per_mix[n] = {
            "seeds": [s for s, _ in runs],
            "macro_bpb_mean": ms.mean,
            "macro_bpb_std": ms.std,
            "macro_bpb_per_seed": macro_by[n],
            "sets": sets_summary,
            "weights": mixture_weights(mixtures[n]),
            "swarm": n in swarm_names,
        }
        docs_by[n] = (
            [np.mean([sc[j].nats for _, sc in runs], axis=0) for j in range(len(set_names))],
            [runs[0][1][j].bytes for j in range(len(set_names))],
        )
    compared = [n for n in names if n not in swarm_names or n == baseline]
    comps = compare_to_baseline(
        {n: macro_by[n] for n in compared},
        {n: docs_by[n] for n in compared},
        baseline,
        alpha=cfg.statistics.alpha,
        n_boot=cfg.statistics.bootstrap,
    )
    summary: dict[str, Any] = {
        "baseline": baseline,
        "eval_sets": {s.name: {"documents": len(s.texts), "bytes": s.bytes} for s in sets},
        "baseline_seed_sigma": per_mix[baseline]["macro_bpb_std"],
        "mixtures": per_mix,
        "comparisons": [c.to_dict() for c in comps],
        "config": cfg.model_dump(mode="json"),
    }
    if swarm_names and cfg.swarm:
        summary["regression"] = fit_swarm(cfg, per_mix, swarm_names, swarm_ctx)
    return summary


def fit_swarm(
    cfg: AblationConfig, per_mix: dict[str, Any], swarm_names: list[str], ctx: dict[str, Any]
) -> dict[str, Any]:
    sources = sorted(ctx["natural"])
    W = np.array([[per_mix[n]["weights"].get(s, 0.0) for s in sources] for n in swarm_names])
    y = np.array([per_mix[n]["macro_bpb_mean"] for n in swarm_names])
    f = reg.fit(W, y, sources, model=cfg.regression.model)
    prop = reg.propose(
        f,
        ctx["natural"],
        concentration=cfg.swarm.concentration,
        min_weight=cfg.swarm.min_weight,
        available_tokens=ctx["available"],
        budget_tokens=ctx["budget"],
        max_epochs=ctx["max_epochs"],
        n_candidates=cfg.regression.candidates,
        top_k=cfg.regression.top_k,
        seed=cfg.swarm.seed,
    )
    return {
        **f.to_dict(),
        "proposal": prop.to_dict(),
        "natural_weights": ctx["natural"],
        "points": [
            {"mixture": n, "measured": float(m), "predicted_out_of_fold": float(p)}
            for n, m, p in zip(swarm_names, f.measured, f.oof_pred, strict=True)
        ],
    }


# ---------------------------------------------------------------------------------------------- outputs


def write_outputs(
    out: Path,
    cfg: AblationConfig,
    scores: dict[tuple[str, int], list[SetScore]],
    summary: dict,
    units: list[Unit],
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["mixture", "seed", "eval_set", "bpb", "token_loss", "perplexity", "tokens", "bytes", "documents"]
    )
    for u in units:
        for sc in scores[(u.mixture, u.seed)]:
            w.writerow(
                [
                    u.mixture,
                    u.seed,
                    sc.name,
                    repr(sc.bpb),
                    repr(sc.token_loss),
                    repr(sc.perplexity),
                    int(sc.tokens.sum()),
                    int(sc.bytes.sum()),
                    int(sc.nats.size),
                ]
            )
    atomic_write_bytes(out / "results.csv", buf.getvalue().encode())
    atomic_write_json(out / "summary.json", _clean(summary))
    timings = {f"{u.mixture}/seed-{u.seed}": json.loads(u.marker.read_text()) for u in units}
    atomic_write_json(out / "timings.json", timings)
    plot_bpb(out / "bpb_per_set.png", summary)
    if "regression" in summary:
        plot_regression(out / "regression.png", summary["regression"])


def _clean(obj: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_bpb(path: Path, summary: dict) -> None:
    """Grouped bars: BPB per eval set (and macro) per mixture, error bars = std over seeds."""
    plt = _plt()
    mixes = [n for n, m in summary["mixtures"].items() if not m["swarm"] or n == summary["baseline"]]
    sets = [*summary["eval_sets"], "macro"]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(sets) * max(1, len(mixes)) / 2), 4))
    width = 0.8 / max(1, len(mixes))
    for i, n in enumerate(mixes):
        m = summary["mixtures"][n]
        means = [m["sets"][s]["bpb_mean"] for s in sets[:-1]] + [m["macro_bpb_mean"]]
        stds = [m["sets"][s]["bpb_std"] for s in sets[:-1]] + [m["macro_bpb_std"]]
        stds = [0.0 if (v is None or not math.isfinite(v)) else v for v in stds]
        xs = np.arange(len(sets)) + (i - (len(mixes) - 1) / 2) * width
        ax.bar(xs, means, width, yerr=stds, capsize=3, label=n)
    ax.set_xticks(np.arange(len(sets)), sets, rotation=20)
    ax.set_ylabel("bits per byte (lower is better)")
    ax.set_title("BPB per eval set (mean ± std over seeds)")
    lo = min(summary["mixtures"][n]["macro_bpb_mean"] for n in mixes)
    ax.set_ylim(bottom=max(0.0, lo * 0.8))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_regression(path: Path, r: dict) -> None:
    plt = _plt()
    meas = [p["measured"] for p in r["points"]]
    pred = [p["predicted_out_of_fold"] for p in r["points"]]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(meas, pred, s=18)
    lo, hi = min(meas + pred), max(meas + pred)
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel("measured macro BPB")
    ax.set_ylabel("predicted (held-out fold)")
    ax.set_title(f"{r['model']} fit, Spearman ρ = {r['spearman_rho_heldout']:.2f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _order(summary: dict) -> list[str]:
    return [summary["baseline"]] + [c["mixture"] for c in summary["comparisons"]]


def summary_rows(summary: dict) -> tuple[list[str], list[list[Any]]]:
    """The headline table: macro BPB per mixture, difference to the baseline and the verdict."""
    cols = ["mixture", "seeds", "macro BPB", "Δ vs base", "95% CI seeds", "p Holm", "95% CI docs", "verdict"]
    comps = {c["mixture"]: c for c in summary["comparisons"]}
    base = summary["baseline"]
    rows = []
    for n in _order(summary):
        m, c = summary["mixtures"][n], comps.get(n)
        rows.append(
            [
                n + (" (base)" if n == base else ""),
                len(m["seeds"]),
                _pm(m["macro_bpb_mean"], m["macro_bpb_std"]),
                f"{c['diff']:+.4f}" if c else "",
                _ci(c["welch_ci"]) if c else "",
                _p(c["p_holm"]) if c else "",
                _ci(c["boot_ci"]) if c else "",
                c["verdict"] if c else "",
            ]
        )
    return cols, rows


def per_set_rows(summary: dict) -> tuple[list[str], list[list[Any]]]:
    """BPB per eval set (mean ± std over seeds); per-token perplexity beside it, as a secondary number."""
    sets = list(summary["eval_sets"])
    cols = ["mixture", *[f"{s} BPB" for s in sets], *[f"{s} ppl/token" for s in sets]]
    rows = []
    for n in _order(summary):
        m = summary["mixtures"][n]["sets"]
        rows.append(
            [
                n,
                *[_pm(m[s]["bpb_mean"], m[s]["bpb_std"]) for s in sets],
                *[round(m[s]["perplexity_mean"], 3) for s in sets],
            ]
        )
    return cols, rows


def _pm(mean: float, std: float | None) -> str:
    return f"{mean:.4f}" if std is None or not math.isfinite(std) else f"{mean:.4f} ± {std:.4f}"


def _ci(ci) -> str:
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "—"
    return f"[{lo:+.4f}, {hi:+.4f}]"


def _p(p: float | None) -> str:
    return "—" if p is None or not math.isfinite(p) else f"{p:.3g}"
