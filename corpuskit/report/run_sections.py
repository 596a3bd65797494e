"""The runs part of the page: mixtures (asked vs realised) and ablations (BPB, ranking, curves, swarm).

The ablation tables are the terminal's own (:mod:`corpuskit.ablate.report`), so the page and
``corpuskit ablate`` never disagree on a number or a verdict.
"""

from __future__ import annotations

import math
from typing import Any

from corpuskit.ablate.report import failed_rows, per_set_rows, summary_rows, sweep_rows
from corpuskit.report import charts as ch
from corpuskit.report.html import cell, charts, figure, note, pct, section, sub, table


def mixtures_section(mixtures: list[dict[str, Any]], asked: bool) -> str:
    if not mixtures:
        text = "No mixture folder found in --mixes." if asked else "No mixtures given (--mixes DIR)."
        return section("mixtures", "Mixtures", note(text))
    return section("mixtures", "Mixtures", *[_mixture(m) for m in mixtures])


def _mixture(m: dict[str, Any]) -> str:
    name = m["name"]
    srcs = [r["source"] for r in m["sources"]]
    fig = figure(
        ch.grouped_bars(
            f"mix-{name}",
            f"Token shares: {name}",
            "share of tokens",
            srcs,
            {"asked": [r["asked"] for r in m["sources"]], "realised": [r["realised"] for r in m["sources"]]},
        ),
        f"Weights asked (normalised) vs tokens drawn; {m['tokens']:,} tokens"
        + (f" ({m['tokenizer']} tokenizer)." if m.get("tokenizer") else "."),
    )
    rows = [
        [
            r["source"],
            pct(r["asked"]),
            pct(r["realised"]),
            cell(r["tokens"]),
            cell(r["available_tokens"]),
            cell(r["epochs"], 3),
            cell(r["documents"]),
            cell(r["unique_documents"]),
            cell(r["decontaminated_documents"]),
        ]
        for r in m["sources"]
    ]
    cols = [
        "source",
        "asked",
        "realised",
        "tokens",
        "tokens available",
        "epochs",
        "documents drawn",
        "unique documents",
        "decontaminated docs",
    ]
    parts = [
        charts([fig]),
        table(cols, rows, f"{name}: {m['tokens']:,} tokens (asked {m.get('tokens_requested') or '—'})"),
    ]
    if m["heldout"]:
        parts.append(
            table(
                ["eval set", "documents", "bytes"],
                [
                    [s, cell(h.get("documents")), cell(h.get("bytes"), unit="B")]
                    for s, h in sorted(m["heldout"].items())
                ],
                "Held-out sets (split off before mixing)",
            )
        )
    d = m.get("decontamination") or {}
    if d:
        state = "on" if d.get("enabled") else "off"
        parts.append(
            note(
                f"Decontamination {state}: {d.get('ngram', '—')}-grams, "
                f"{d.get('removed_documents', 0):,} training documents removed."
            )
        )
    parts += [note(f"warning: {w}") for w in m.get("warnings", [])]
    return sub(name, *parts)


def ablation_section(ablations: list[dict[str, Any]], notes: list[str], asked: bool) -> str:
    parts = [note(n) for n in notes]
    if not ablations and not parts:
        parts.append(note("No ablation given (--ablation DIR)." if not asked else "No ablation found."))
    parts += [_ablation(a, i) for i, a in enumerate(ablations)]
    return section("ablation", "Ablation", *parts)


def _finite(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else None


def _ablation(a: dict[str, Any], i: int) -> str:
    s = a["summary"]
    mixes = [n for n, m in s["mixtures"].items() if not m.get("swarm") or n == s.get("baseline")]
    sets = list(s.get("eval_sets", {}))
    groups = [*sets, "macro"]
    means = {
        n: [_finite(s["mixtures"][n].get("sets", {}).get(x, {}).get("bpb_mean")) for x in sets]
        + [_finite(s["mixtures"][n].get("macro_bpb_mean"))]
        for n in mixes
    }
    stds = {
        n: [_finite(s["mixtures"][n].get("sets", {}).get(x, {}).get("bpb_std")) for x in sets]
        + [_finite(s["mixtures"][n].get("macro_bpb_std"))]
        for n in mixes
    }
    figs = [
        figure(
            ch.grouped_bars(
                f"bpb-{i}",
                "Bits per byte per eval set",
                "bits per byte (lower is better)",
                groups,
                {n: [v if v is not None else math.nan for v in means[n]] for n in mixes},
                stds,
                ylim_from_data=True,
            ),
            "Mean over seeds; error bars: standard deviation over seeds. The axis does not start at zero.",
        )
    ]
    if a["curves"]:
        figs.append(
            figure(
                ch.line_chart(
                    f"curves-{i}",
                    "Training loss per run",
                    "training tokens",
                    "loss (nats per token)",
                    a["curves"],
                ),
                "One line per (mixture, seed); colour = mixture.",
            )
        )
    r = s.get("regression")
    if isinstance(r, dict) and r.get("points"):
        rho = _finite(r.get("spearman_rho_heldout"))
        figs.append(
            figure(
                ch.scatter_chart(
                    f"swarm-{i}",
                    f"Swarm: predicted vs measured (ρ = {rho:.2f})"
                    if rho is not None
                    else "Swarm: predicted vs measured",
                    "measured macro BPB",
                    "predicted macro BPB (held-out fold)",
                    [p["measured"] for p in r["points"]],
                    [p["predicted_out_of_fold"] for p in r["points"]],
                ),
                f"{len(r['points'])} swarm runs, {r.get('model', 'regression')} fit; "
                "Spearman ρ on held-out folds.",
            )
        )
    eval_rows = [
        [n, cell(e.get("documents")), cell(e.get("bytes"), unit="B")]
        for n, e in s.get("eval_sets", {}).items()
    ]
    parts = [
        charts(figs),
        table(
            *summary_rows(s),
            "Ranking: macro bits per byte (lower is better), as `corpuskit ablate` prints it",
        ),
        note(
            "Verdict: better/worse only when the Welch test over seeds (Holm-corrected) and the paired "
            "bootstrap over documents both exclude zero; otherwise tie."
        ),
        table(*per_set_rows(s), "Bits per byte per eval set (mean ± std over seeds)"),
        table(["eval set", "documents", "bytes"], eval_rows, "Eval sets"),
    ]
    sigma = _finite(s.get("baseline_seed_sigma"))
    base = s.get("baseline")
    parts.append(
        note(
            f"Seed noise: σ of macro BPB over the seeds of {base!r} = {sigma:.4f} bits/byte."
            if sigma is not None
            else f"Seed noise: {base!r} has one seed; use ≥ 3 seeds to measure it."
        )
    )
    if isinstance(r, dict) and isinstance(r.get("proposal"), dict):
        parts.append(_proposal(r))
    if s.get("failed_runs"):
        parts.append(table(*failed_rows(s), "Failed runs (not in the statistics above)"))
    sweep = s.get("lr_sweep")
    if isinstance(sweep, dict) and sweep.get("runs"):
        parts.append(table(*sweep_rows(sweep), f"Learning-rate sweep on {sweep.get('baseline')!r}"))
    if a["timings"]:
        rows = [
            [
                k,
                cell(_finite(t.get("seconds")), 1, "s"),
                cell(t.get("train_tokens")),
                cell(_finite(t.get("tokens_per_second")), 0, "tok/s"),
                cell(_finite(t.get("final_loss")), 3),
                str(t.get("device", "—")),
            ]
            for k, t in sorted(a["timings"].items())
            if isinstance(t, dict)
        ]
        parts.append(
            table(
                ["run", "wall time", "training tokens", "throughput", "final loss", "device"],
                rows,
                "Runs (wall time is not reproducible)",
            )
        )
    return sub(f"Ablation {a['folder']}", *parts)


def _proposal(r: dict[str, Any]) -> str:
    p = r["proposal"]
    weights = p.get("weights", {})
    rows = [
        [
            src,
            cell(_finite(r.get("natural_weights", {}).get(src)), 4),
            cell(_finite(w), 4),
            cell(_finite(r.get("coefficients", {}).get(src)), 4),
        ]
        for src, w in sorted(weights.items())
    ]
    lo, hi = (p.get("interval_95") or [None, None])[:2]
    pred = _finite(p.get("predicted_bpb"))
    text = "Proposed mixture" + (f": predicted macro BPB {pred:.4f}" if pred is not None else "")
    if _finite(lo) is not None and _finite(hi) is not None:
        text += f" (95 % interval {lo:.4f}–{hi:.4f})"
    return table(["source", "natural weight", "proposed weight", "coefficient"], rows, text)
