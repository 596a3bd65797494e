"""The whole chain, top to bottom, through the Python API: the map of the pipeline.

    ingest -> curate -> dedup -> mix -> ablate -> report

Everything lands in one folder (``sources/``, ``corpus/``, ``mixes/``, ``ablation/``, ``report/``) next
to the YAML configs each stage would read from the command line, so any step can be rerun by hand
(``corpuskit curate <out>/sources/web.yaml``). Every stage resumes: a second run redoes nothing and
reports the same numbers.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from corpuskit.ablate.commands import run_and_report  # trains, scores and prints `corpuskit ablate`'s tables
from corpuskit.ablate.config import load_ablation_config
from corpuskit.config import load_source_config
from corpuskit.curate.pipeline import curate_source
from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.pipeline import dedup_sources
from corpuskit.demo.sources import demo_sources
from corpuskit.ingest import ingest
from corpuskit.mix import build_mixtures, open_study, plan_study
from corpuskit.mix.config import load_study_config
from corpuskit.progress import SILENT, Reporter, console, results, summary_table
from corpuskit.report import build_report
from corpuskit.store.units import UnitsFailed

MIXTURES = {
    "balanced": {"books": 1 / 3, "forums": 1 / 3, "web": 1 / 3},
    "books-heavy": {"books": 0.7, "forums": 0.15, "web": 0.15},
    "web-heavy": {"books": 0.15, "forums": 0.15, "web": 0.7},
}


def run_demo(
    out: Path,
    data: Path | None = None,
    *,
    tokens: int = 300_000,
    seeds: int = 3,
    workers: int = 2,
    threads: int = 0,
    scale: float = 1.0,
    progress: Reporter = SILENT,
) -> dict[str, Any]:
    """Run every stage into ``out``; returns the ablation summary (``summary["report"]``: the HTML page)."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    laps = Laps()

    # 1. sources: one YAML config per source, all writing into the same corpus folder
    specs, what = demo_sources(data, out, scale)
    console.print(f"[bold]corpuskit demo[/bold]: {what} → {out}")
    corpus = out / "corpus"
    configs = [
        write_yaml(out / "sources" / f"{n}.yaml", {"name": n, "output": str(corpus), **s})
        for n, s in specs.items()
    ]
    sources = [load_source_config(c) for c in configs]
    laps.done("inputs")

    # 2. ingest: each source's inputs -> documents (Parquet parts), one committed unit per input
    console.print("[bold]── ingest[/bold]")
    for cfg in sources:
        done = ingest(cfg, workers=workers, progress=progress)
        if done.failed:
            raise UnitsFailed("ingest", [f"{cfg.name}: {r.uri}: {r.failed}" for r in done.failed])
        console.print(f"{cfg.name}: {done.documents:,} documents")
    laps.done("ingest")

    console.print("[bold]── curate[/bold]")
    # 3. curate: signals once per document file, then keep/drop decisions from the source's rules
    for cfg in sources:
        funnel = curate_source(cfg, progress=progress)
        if funnel["run"]["failed"]:
            raise UnitsFailed("curate", [f"{cfg.name}: {line}" for line in funnel["run"]["failed"]])
        console.print(f"{cfg.name}: kept {funnel['documents_kept']:,} of {funnel['documents_in']:,}")
    laps.done("curate")

    console.print("[bold]── dedup[/bold]")
    # 4. dedup: exact and MinHash-LSH near duplicates within and across sources; writes the overlap matrix
    dedup_cfg = load_dedup_config(sources[0].dedup, configs[0])
    result = dedup_sources(corpus, [c.name for c in sources], dedup_cfg, progress=progress)
    console.print(f"{result.clusters:,} duplicate clusters")
    laps.done("dedup")

    console.print("[bold]── mix[/bold]")
    # 5. mix: three mixtures of the kept documents by token share, with shared held-out eval sets
    mix_tokens = max(tokens, 20_000)  # training draws random windows; a smaller mixture is just repeated
    mixes_yaml = write_yaml(
        out / "mixes.yaml",
        {
            "corpus": "corpus",
            "out": "mixes",
            "tokenizer": "bytes",
            "heldout": {"bytes_per_source": 60_000},
            # the generated sample repeats template sentences, so every 13-gram recurs across documents
            # and decontamination would empty the pools; real text keeps it on
            "decontam": {"enabled": data is not None},
            "max_epochs": 8,
            "mixtures": [{"name": n, "weights": w, "tokens": mix_tokens} for n, w in MIXTURES.items()],
        },
    )
    study = load_study_config(mixes_yaml)
    ctx = open_study(study.corpus, study.tokenizer, study.heldout, study.decontam)  # pools + held-out, once
    plans = plan_study(
        ctx, study.mixtures, seed=study.seed, max_epochs=study.max_epochs, allow_repeat=study.allow_repeat
    )
    for manifest, built in build_mixtures(ctx, plans, study.out, progress=progress):
        shares = ", ".join(f"{s} {e['share']:.0%}" for s, e in sorted(manifest["sources"].items()))
        console.print(f"{built.name}: {built.total_tokens:,} tokens ({shares}) → {built.out}")
    laps.done("mix")

    console.print("[bold]── ablate[/bold]")
    # 6. ablate: a small GPT per mixture and seed, bits per byte on every held-out set, ranked with noise
    ablation_yaml = write_yaml(
        out / "ablation.yaml",
        {
            "output": "ablation",
            "model": {"preset": "smoke"},
            "training": dict(
                tokens=tokens, batch_size=16, lr=3e-3, seeds=list(range(seeds)), threads=threads
            ),
            "mixtures": [{"name": n, "path": f"mixes/{n}"} for n in MIXTURES],
            "baseline": "balanced",
            "eval": {"max_documents": 40, "max_document_bytes": 16_000},
        },
    )
    summary = run_and_report(load_ablation_config(ablation_yaml))
    laps.done("ablate")

    # 7. report: one offline HTML page of everything above, from what the stages stored
    page = build_report(corpus, mixes=[out / "mixes"], ablations=[out / "ablation"], out=out / "report")
    laps.done("report")

    rows = [[k, round(v, 1)] for k, v in laps.seconds.items()]
    results.print(summary_table(f"demo finished in {laps.total():.0f} s", ["stage", "seconds"], rows))
    results.print(f"report: {page}")
    failed = summary.get("failed_runs") or []  # in the tables and on the page; then exit 1, naming them
    if failed:
        raise UnitsFailed("ablate", [f"{f['mixture']} seed {f['seed']}: {f['error']}" for f in failed])
    return {**summary, "report": str(page)}


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    """A config as the command line would read it (kept, so every step can be rerun by hand)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Laps:
    """Seconds per stage, for the closing table."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage], self.last = now - self.last, now

    def total(self) -> float:
        return time.perf_counter() - self.start
