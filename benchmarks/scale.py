"""Dedup at scale: wall time, peak memory of the driver and of the workers, and quality, at 1M-10M docs.

The corpus: ``--docs N`` short documents (40-160 words) of real text, 10% of them edited copies, written as
ingest would, 20,000 per file. ``--corpus mosaic`` (default) builds each original from fragments of 8-20
consecutive words taken at random places of the real-text pool, so two originals share at most a fragment
and the near-duplicates stay the designed 10% at any N. ``--corpus windows`` cuts each original as one
window of the pool (``benchmarks/dedup.py --sections scale``): the pool has only ~340k words, so at N
documents every word position is covered ~N/340k times, overlapping windows become near-duplicates of
each other and LSH candidates grow as N^2 (2.0M at 1M documents, 14.6M at 3M), which measures the data,
not the method, beyond ~1M. Each dedup runs in a child
process (so its peak RSS is its own) that samples the peak RSS (VmHWM) of every process below it: local
pool workers, or the raylet's Ray workers. Reported per run: wall time and its stages, driver peak,
largest worker peak, partitions and the memory bound of :mod:`corpuskit.dedup.partitioned`.

``--executors local ray`` runs the same corpus on both (Ray: a local cluster with ``--workers`` CPUs,
started by the child; its start-up is reported apart) and checks that the decisions and the overlap
matrix are byte-identical. ``--quality`` scores pair precision/recall on a random sample of documents
against brute force: the exact shingle-set Jaccard of every sampled document with *every* document of the
corpus (an inverted index streamed file by file).

The machine is shared (2 cores, other jobs running): timings are noisy; compare runs of the same session.

    python benchmarks/scale.py --docs 1000000 3000000 --workers 2 --executors local ray --quality
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_corpus import SOURCE, write_scale_corpus  # noqa: E402  (benchmarks/scale_corpus.py)

from corpuskit.dedup.config import load_dedup_config  # noqa: E402
from corpuskit.dedup.pipeline import dedup_sources, shingle_table  # noqa: E402
from corpuskit.store import SourceStore, scan_documents  # noqa: E402

# ---------------------------------------------------------------------------------------------- child


def _descendants(root: int) -> list[int]:
    parent: dict[int, int] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                parent[int(p)] = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out, frontier = [], {root}
    while frontier:
        frontier = {c for c, pp in parent.items() if pp in frontier}
        out += frontier
    return out


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


class WorkerPeaks(threading.Thread):
    """Samples the peak RSS of every process below this one (workers), every ``every`` seconds."""

    def __init__(self, every: float = 0.5):
        super().__init__(daemon=True)
        self.every, self.stop, self.peak = every, threading.Event(), {}

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in _descendants(os.getpid()):
                name = _name(pid)
                if "raylet" in name or "gcs_server" in name or "dashboard" in name.lower():
                    continue  # Ray's own daemons, not units of work
                self.peak[pid] = max(self.peak.get(pid, 0.0), _hwm_mb(pid))
            time.sleep(self.every)


def child(corpus: Path, executor: str, workers: int, partition_mb: int, out: Path) -> None:
    startup = 0.0
    if executor == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, address="local")
        startup = time.perf_counter() - t0
    store = SourceStore(corpus, SOURCE)
    for s in ("minhash", "dedup"):
        shutil.rmtree(store.attributes_dir(s), ignore_errors=True)
    cfg = load_dedup_config({}, overrides={"workers": workers, "partition_mb": partition_mb})
    peaks = WorkerPeaks()
    peaks.start()
    t0 = time.perf_counter()
    res = dedup_sources(corpus, [SOURCE], cfg, executor=executor)
    wall = time.perf_counter() - t0
    peaks.stop.set()
    peaks.join()
    n = res.per_source[SOURCE]["documents"]
    from corpuskit.dedup.bands import partitions_for
    from corpuskit.dedup.partitioned import partition_load

    reps = res.stats.representatives
    shingles = pl.scan_parquet(store.attributes_dir("minhash") / "*.parquet").select(
        pl.col("n_shingles").sum()
    )
    parts = cfg.partitions or partitions_for(
        partition_load(cfg, reps, shingles.collect().item()), partition_mb
    )
    digest = hashlib.sha256()
    for p in sorted(store.attributes_dir("dedup").glob("*.parquet")):
        digest.update(p.read_bytes())
    digest.update((corpus / "_dedup" / "overlap.json").read_bytes())
    result = {
        "executor": executor,
        "workers": workers,
        "documents": n,
        "wall_s": round(wall, 1),
        "ray_startup_s": round(startup, 1),
        "seconds": {k: round(v, 1) for k, v in res.seconds.items()},
        "cluster_seconds": {k: round(v, 1) for k, v in res.stats.seconds.items()},
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would report the parent's
        # RSS at the spawn (the windows generator's texts) as the driver's
        "driver_peak_mb": round(_hwm_mb(os.getpid())),
        "worker_peak_mb": round(max(peaks.peak.values(), default=0.0)),
        "workers_seen": len(peaks.peak),
        "partitions": parts,
        "partition_mb": partition_mb,
        "representatives": reps,
        "candidate_pairs": res.stats.candidate_pairs,
        "verified_pairs": res.stats.verified_pairs,
        "exact_duplicate": res.per_source[SOURCE]["exact_duplicate"],
        "near_duplicate": res.per_source[SOURCE]["near_duplicate"],
        "clusters": res.clusters,
        "output_sha256": digest.hexdigest(),
    }
    out.write_text(json.dumps(result))


# ---------------------------------------------------------------------------------------------- quality


def brute_force_quality(corpus: Path, sample: int, seed: int = 0) -> dict[str, float]:
    """Pair precision/recall of the stored decisions for ``sample`` random documents against all others."""
    cfg = load_dedup_config({})
    spec = cfg.hasher().spec
    clusters = scan_documents(corpus, SOURCE, attributes=["dedup"]).select("id", "dup_cluster").collect()
    lf = scan_documents(corpus, SOURCE, attributes=[])  # texts: read 50,000 at a time, never all
    assert lf.select("id").collect()["id"].equals(clusters["id"]), "rows out of order"
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(clusters.height, size=min(sample, clusters.height), replace=False))
    sampled = lf.with_row_index("r").filter(pl.col("r").is_in(pick)).select("text").collect()
    sampled = sampled.with_columns(clusters["dup_cluster"].gather(pick))
    sh = shingle_table(sampled["text"], spec).unique()
    s_tab = sh.select(pl.col("d").alias("s"), "h")
    s_size = s_tab.group_by("s").agg(pl.len().alias("ns"))
    truth = []
    step = 50_000
    for lo in range(0, clusters.height, step):
        chunk = lf.slice(lo, step).select("text").collect()["text"]
        t = shingle_table(chunk, spec).unique()
        size = t.group_by("d").agg(pl.len().alias("nd"))
        inter = t.join(s_tab, on="h").group_by("s", "d").agg(pl.len().alias("i"))
        j = inter.join(size, on="d").join(s_size, on="s")
        j = j.with_columns((pl.col("i") / (pl.col("ns") + pl.col("nd") - pl.col("i"))).alias("jac"))
        j = j.filter(pl.col("jac") >= cfg.threshold - 1e-9).with_columns((pl.col("d") + lo).alias("d"))
        truth.append(j.select("s", pl.col("d").cast(pl.Int64)))
    tr = pl.concat(truth).join(
        pl.DataFrame({"s": np.arange(len(pick), dtype=np.uint32), "srow": pick.astype(np.int64)}), on="s"
    )
    tr = tr.filter(pl.col("d") != pl.col("srow")).select("srow", "d")
    clusters = clusters.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("d"), "dup_cluster")
    sc = pl.DataFrame({"srow": pick.astype(np.int64), "dup_cluster": sampled["dup_cluster"]})
    pred = sc.join(clusters, on="dup_cluster").filter(pl.col("d") != pl.col("srow")).select("srow", "d")
    hit = pred.join(tr, on=["srow", "d"]).height
    return {
        "sample": len(pick),
        "true_pairs": tr.height,
        "predicted_pairs": pred.height,
        "precision": round(hit / max(pred.height, 1), 4),
        "recall": round(hit / max(tr.height, 1), 4),
    }


# ---------------------------------------------------------------------------------------------- main


def run_child(corpus: Path, executor: str, workers: int, partition_mb: int) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            str(corpus),
            executor,
            str(workers),
            str(partition_mb),
            f.name,
        ]
        subprocess.run(cmd, check=True)
        return json.loads(Path(f.name).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--corpus", choices=["mosaic", "windows"], default="mosaic", help="see the module doc")
    ap.add_argument("--executors", nargs="+", default=["local"], choices=["local", "ray"])
    ap.add_argument("--partition-mb", type=int, default=256)
    ap.add_argument("--quality", action="store_true", help="P/R vs brute force on a sample (local run)")
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--tmp", default=None, help="folder for the corpora (default: the system temp dir)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        c, ex, w, mb, out = args.child
        child(Path(c), ex, int(w), int(mb), Path(out))
        return
    print("# dedup at scale (shared 2-core machine: timings are noisy)")
    for n in args.docs:
        with tempfile.TemporaryDirectory(prefix="dedup-scale-", dir=args.tmp) as tmp:
            corpus = Path(tmp) / "corpus"
            t0 = time.perf_counter()
            mb = write_scale_corpus(corpus, n, args.corpus)
            took = time.perf_counter() - t0
            print(f"\n## {n:,} {args.corpus} docs ({mb:,.0f} MB of text), written in {took:.0f} s")
            outs = {}
            for ex in args.executors:
                r = run_child(corpus, ex, args.workers, args.partition_mb)
                outs[ex] = r
                print(json.dumps(r))
                if ex == "local" and args.quality:
                    print("quality:", json.dumps(brute_force_quality(corpus, args.sample)))
            if len(outs) > 1:
                same = len({r["output_sha256"] for r in outs.values()}) == 1
                print(f"identical decisions and overlap across {', '.join(outs)}: {same}")


if __name__ == "__main__":
    main()
