"""Curation throughput and parity: corpuskit vs datatrove on the same ~10k real documents.

Both sides run language ID (lid.176.ftz, the same file) + Gopher repetition + Gopher quality + C4 + FineWeb
with datatrove's default thresholds, with the same number of worker processes. datatrove runs in its own
throwaway venv (/tmp/dt, created here if missing, see ../shared/peers/README.md) through
``benchmarks/_datatrove_filters.py``. Parity = share of documents where both tools make the same keep/drop
decision, per filter and for the four quality filters combined.

Timing, both tools alike: the worker processes (spawned for corpuskit, forked by datatrove's script) are
started and warmed first (imports, LID model, spaCy / numba kernels, one tiny document each), a barrier
makes sure every worker is ready, then the clock runs from handing out the documents to the last result.
The start-up is printed separately, with the ratio including it.

usage: .venv/bin/python benchmarks/curate.py [--workers 1] [--limit N] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realdocs  # noqa: E402

DT = Path(os.environ.get("DATATROVE_VENV", "/tmp/dt"))
FILTERS = ["gopher_repetition", "gopher_quality", "c4", "fineweb"]


def ensure_datatrove() -> Path:
    py = DT / "bin" / "python"
    if (
        py.exists()
        and subprocess.run([py, "-c", "import datatrove, spacy"], capture_output=True).returncode == 0
    ):
        return py
    print(f"creating datatrove venv in {DT} (one-off)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(DT)], check=True)
    pkgs = ["datatrove[processing]", "faust-cchardet", "python-magic", "warcio", "orjson", "spacy"]
    subprocess.run([str(py), "-m", "pip", "install", "-q", *pkgs], check=True)
    return py


_BARRIER = None


def _ours_init(barrier=None) -> None:
    """Per worker, before the timed region: import, load the LID model and numba's compiled kernels by
    curating two tiny documents (datatrove's workers are warmed the same way)."""
    global _BARRIER
    from corpuskit.curate.config import CurateConfig
    from corpuskit.curate.pipeline import signal_frame

    _BARRIER = barrier
    signal_frame(["Warm up the models once. " * 20, "x"], CurateConfig())


def _ready(_: int) -> None:
    _BARRIER.wait(timeout=600)  # one call per worker: each holds here until all are initialised


def _ours_chunk(texts: list[str]) -> tuple[pl.DataFrame, float]:
    """Decisions and the CPU seconds they took in this process."""
    from corpuskit.curate.config import CurateConfig
    from corpuskit.curate.pipeline import signal_frame
    from corpuskit.curate.rules import decide

    cpu0 = time.process_time()
    cc = CurateConfig()  # langid on (no language restriction, min score 0.65) + the four filters
    dec = decide(signal_frame(texts, cc), cc.rules())
    cols = dec.select("lang", "lang_score", *[f"{n}_reason" for n in ["langid", *FILTERS]])
    return cols, time.process_time() - cpu0


def run_ours(texts: list[str], workers: int) -> tuple[pl.DataFrame, float, float, float]:
    """Decisions, seconds from all workers ready to the last result, CPU seconds of that work (all
    workers), seconds of worker start-up before."""
    t_start = time.perf_counter()
    if workers <= 1:
        _ours_init()
        t0 = time.perf_counter()
        dec, cpu = _ours_chunk(texts)
        return dec, time.perf_counter() - t0, cpu, t0 - t_start
    chunks = [texts[i::workers] for i in range(workers)]
    # spawn: the parent has run polars (threads); a forked child can deadlock on its locks
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_ours_init, initargs=(barrier,)) as pool:
        list(pool.map(_ready, range(workers)))
        t0 = time.perf_counter()
        res = list(pool.map(_ours_chunk, chunks))
        wall = time.perf_counter() - t0
    parts = [p for p, _ in res]
    order = [i for w in range(workers) for i in range(w, len(texts), workers)]
    dec = pl.concat(parts).with_columns(pl.Series("_i", order)).sort("_i").drop("_i")
    return dec, wall, sum(c for _, c in res), t0 - t_start


def run_datatrove(py: Path, jsonl: Path, out: Path, workers: int) -> dict:
    from corpuskit.curate.langid import default_model_path

    script = Path(__file__).resolve().parent / "_datatrove_filters.py"
    cmd = [
        str(py),
        str(script),
        str(jsonl),
        str(out),
        "--model",
        str(default_model_path()),
        "--workers",
        str(workers),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="first N documents only")
    ap.add_argument("--repeats", type=int, default=1, help="runs per tool; medians are reported")
    a = ap.parse_args()

    docs = realdocs.load(a.limit)
    texts = docs["text"].to_list()
    n, mb = docs.height, docs["text"].str.len_bytes().sum() / 1e6
    work = realdocs.CACHE.parent
    jsonl = work / f"bench_{n}.jsonl"
    if not jsonl.exists():
        jsonl.write_text(
            "".join(
                json.dumps(r, ensure_ascii=False) + "\n"
                for r in docs.select("id", "text").iter_rows(named=True)
            )
        )
    py = ensure_datatrove()
    kinds = ", ".join(f"{k} {v}" for k, v in docs["kind"].value_counts(sort=True).iter_rows())
    print(f"input: {n:,} documents, {mb:.1f} MB text ({kinds})")
    print(
        f"workers: {a.workers} (both tools); {os.cpu_count()} cores shared with other jobs "
        f"(timings are noisy), load average {os.getloadavg()[0]:.1f}"
    )

    ours_s, ours_up, ours_cpu, dt_s, dt_up, dt_cpu, dt_total_cpu = [], [], [], [], [], [], []
    for _ in range(a.repeats):
        dec, s, cpu, up = run_ours(texts, a.workers)
        ours_s.append(s)
        ours_cpu.append(cpu)
        ours_up.append(up)
        stats = run_datatrove(py, jsonl, work / "dt_out.jsonl", a.workers)
        dt_s.append(stats["wall_s"])
        dt_total_cpu.append(stats["cpu_s"])
        dt_up.append(stats["startup_s"])
        dt_cpu.append(stats["filter_cpu_s"])
    o, d = statistics.median(ours_s), statistics.median(dt_s)
    ou, du = statistics.median(ours_up), statistics.median(dt_up)
    print(f"\nworkers ready -> last result ({a.workers} worker(s), median of {a.repeats}):")
    print(f"corpuskit: {n / o:,.0f} docs/s ({mb / o:.2f} MB/s), langid + 4 filters, {o:.2f} s")
    print(f"datatrove: {n / d:,.0f} docs/s ({mb / d:.2f} MB/s), LanguageFilter + 4 filters, {d:.2f} s")
    per = {k: statistics.median(c[k] for c in dt_cpu) for k in dt_cpu[0]}
    print(
        "datatrove per filter (time inside it, summed over workers): "
        + ", ".join(f"{k} {n / v:,.0f} docs/s" for k, v in per.items())
    )
    print(f"ratio corpuskit / datatrove: {d / o:.1f}x (load average now {os.getloadavg()[0]:.1f})")
    oc, dc = statistics.median(ours_cpu), statistics.median(dt_total_cpu)
    print(
        f"CPU seconds of that work (all workers; steadier than wall time on a shared machine): "
        f"corpuskit {oc:.2f} s ({n / oc:,.0f} docs per CPU-s), datatrove {dc:.2f} s ({n / dc:,.0f}); "
        f"ratio {dc / oc:.1f}x"
    )
    print(
        f"worker start-up before that (spawned and warmed, once per run): corpuskit {ou:.2f} s, "
        f"datatrove {du:.2f} s; including it: ratio {(d + du) / (o + ou):.1f}x"
    )

    ref = pl.read_ndjson(work / "dt_out.jsonl", infer_schema_length=None)
    both = pl.concat([docs.select("id", "kind"), dec], how="horizontal").join(ref, on="id", suffix="_dt")
    print(f"\nparity on {both.height:,} documents (same keep/drop decision):")
    for name in ["langid", *FILTERS]:
        ours_keep = pl.col(f"{name}_reason").is_null()
        dt_keep = pl.col(name).is_null()
        agree = both.select((ours_keep == dt_keep).mean()).item()
        print(f"  {name:18s} {agree:.4%}")
    ours_all = pl.all_horizontal([pl.col(f"{f}_reason").is_null() for f in FILTERS])
    dt_all = pl.all_horizontal([pl.col(f).is_null() for f in FILTERS])
    agree = both.select((ours_all == dt_all).mean()).item()
    kept = both.select(ours_all.mean()).item()
    print(f"  {'4 filters combined':18s} {agree:.4%}   (kept by corpuskit: {kept:.1%})")
    lang_same = both.select((pl.col("lang") == pl.col("lang_dt")).mean()).item()
    print(f"  {'language label':18s} {lang_same:.4%}")
    diff = both.filter(ours_all != dt_all)
    if diff.height:
        print("  disagreements by kind:", dict(diff["kind"].value_counts().iter_rows()))


if __name__ == "__main__":
    main()
