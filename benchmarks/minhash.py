"""MinHash signature throughput from raw text: corpuskit vs datasketch and rensa (Rust), same run.

    python benchmarks/minhash.py [--workers 1 2] [--docs 20000] [--words 400] [--runs 3]

Input: ``--docs`` documents of ``--words`` words, windows cut from the real texts of ../shared/data.
Every tool starts from the raw strings, 128 permutations, word 5-grams, seed 1:

- corpuskit ``fast`` (default) and ``datasketch`` (exact datasketch values) modes, normalisation included
  (NFKC, lower case, punctuation to spaces: more work than the peers' lower-case + split);
- datasketch ``MinHash.update_batch`` and rensa ``RMinHash.update`` in the /tmp/dt peer venv (see
  ../shared/peers/README.md), shingles built in Python from ``text.lower().split()``.

Tools run interleaved, ``--runs`` times each, best run reported (the 2-core machine is shared: noisy).
``--workers 1 2`` (the default) measures every tool at each worker count in this one run, the documents
split over N processes, and prints each count's table and ratios. A parity line checks that corpuskit's
datasketch mode equals datasketch's own hashvalues on the same normalised texts. Then
``_minhash_limits.py`` times the kernel's stages and measures this core's limits (memory bandwidth, the
permutation minimum's L1-resident ceiling), and says how far the kernel is from them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PEER_PY = Path(os.environ.get("DATATROVE_VENV", "/tmp/dt")) / "bin" / "python"

PEER_SCRIPT = r"""
import json, sys, time
from concurrent.futures import ProcessPoolExecutor

def shingles(t):
    w = t.lower().split()
    return [" ".join(w[i:i + 5]) for i in range(max(len(w) - 4, 1))]

def run(args):
    tool, docs = args
    c0 = time.process_time()
    if tool == "datasketch":
        from datasketch import MinHash
        for t in docs:
            m = MinHash(num_perm=128, seed=1)
            m.update_batch([s.encode() for s in shingles(t)])
            m.hashvalues
    else:
        from rensa import RMinHash
        for t in docs:
            m = RMinHash(num_perm=128, seed=1)
            m.update(shingles(t))
            m.digest()
    return time.process_time() - c0

def warm(args):
    run(args)
    time.sleep(0.3)  # busy, so each worker of the pool gets one warm-up

def part(i):  # a forked worker has the documents already: only the index travels
    return run((tool, docs[i::workers]))

tool, path, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = json.load(open(path))
if tool == "parity":  # datasketch hashvalues of normalised texts, for corpuskit's exact mode
    from datasketch import MinHash
    out = []
    for t in docs:
        w = t.split()
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([" ".join(w[i:i + 5]).encode() for i in range(max(len(w) - 4, 1))] if w else [])
        out.append([int(x) for x in m.hashvalues])
    print(json.dumps(out))
    sys.exit()
run((tool, docs[:50]))  # import and warm up outside the timed region
pool = ProcessPoolExecutor(workers) if workers > 1 else None
if pool is not None:  # the workers too: started, imported and warm before the clock starts
    list(pool.map(warm, [(tool, docs[:50])] * workers))
t0 = time.perf_counter()
if pool is None:
    cpu = run((tool, docs))
else:
    cpu = sum(pool.map(part, range(workers)))
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": cpu}))
"""


def make_docs(n: int, words: int, seed: int = 0) -> list[str]:
    from corpuskit.dedup.evaluation import real_texts

    pool = " ".join(real_texts(SHARED, limit=1000)).split(" ")
    rng = random.Random(seed)
    return [" ".join(pool[i : i + words]) for i in (rng.randrange(len(pool) - words) for _ in range(n))]


def _ours(args: tuple[str, list[str]]) -> float:
    """CPU seconds this process spent on the signatures of ``docs``."""
    from corpuskit.dedup.minhash import MinHasher

    mode, docs = args
    c0 = time.process_time()
    MinHasher(128, 1, mode=mode).signatures(docs)
    return time.process_time() - c0


_DOCS: dict[str, list[str]] = {}


def _load(path: str) -> list[str]:
    """The documents, read once per worker process (before the clock starts), so only indices travel."""
    if path not in _DOCS:
        _DOCS[path] = json.loads(Path(path).read_text())
    return _DOCS[path]


def _part(args: tuple[str, str, int, int]) -> float:
    mode, path, i, workers = args
    return _ours((mode, _load(path)[i::workers]))


def _warm(args: tuple[str, str]) -> None:
    mode, path = args
    _ours((mode, _load(path)[:50]))
    time.sleep(0.3)  # busy, so each worker of the pool gets one warm-up


def run_ours(
    mode: str, docs: list[str], path: Path, workers: int, pool: ProcessPoolExecutor | None
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all processes working), imports, JIT cache loads and reading the
    documents done before."""
    if pool is None:
        _ours((mode, docs[:50]))
    else:
        list(pool.map(_warm, [(mode, str(path))] * workers))
    t0 = time.perf_counter()
    if pool is None:
        cpu = _ours((mode, docs))
    else:
        cpu = sum(pool.map(_part, [(mode, str(path), i, workers) for i in range(workers)]))
    return time.perf_counter() - t0, cpu


def run_peer(tool: str, path: Path, workers: int) -> tuple[float, float]:
    r = subprocess.run([str(PEER_PY), "-c", PEER_SCRIPT, tool, str(path), str(workers)], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"{tool} failed: {r.stderr.decode()[-2000:]}")
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    return out["seconds"], out["cpu"]


def ensure_peers() -> None:
    if not PEER_PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_PY.parents[1])], check=True)
    check = "import datasketch, rensa"
    if subprocess.run([str(PEER_PY), "-c", check], capture_output=True).returncode != 0:
        subprocess.run([str(PEER_PY), "-m", "pip", "install", "-q", "datasketch", "rensa"], check=True)


def parity(docs: list[str], tmp: Path) -> str:
    from corpuskit.dedup.minhash import MinHasher
    from corpuskit.dedup.shingles import normalize

    norm = normalize(docs).to_list()
    p = tmp / "norm.json"
    p.write_text(json.dumps(norm))
    r = subprocess.run(
        [str(PEER_PY), "-c", PEER_SCRIPT, "parity", str(p), "1"], capture_output=True, check=True
    )
    want = np.array(json.loads(r.stdout), dtype=np.uint32)
    got = MinHasher(128, 1, mode="datasketch").signatures(docs)[0]
    return f"{int((got == want).all(axis=1).sum())}/{len(docs)}"


def run_all(docs: list[str], path: Path, workers: int, runs: int, peers: bool) -> tuple[dict, dict]:
    """Best wall and CPU seconds per tool at ``workers``, the tools interleaved run by run."""
    tools = ["corpuskit fast", "corpuskit datasketch-mode"] + (["datasketch", "rensa"] if peers else [])
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    # spawn: the parent has run polars and numba (threads); a forked child can deadlock on their locks
    spawn = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=spawn) if workers > 1 else None
    try:
        for r in range(runs):
            for tool in tools:
                if tool == "corpuskit datasketch-mode" and r:  # slow and exact: one run is enough
                    continue
                if tool.startswith("corpuskit"):
                    s, c = run_ours(tool.split()[1].removesuffix("-mode"), docs, path, workers, pool)
                else:
                    s, c = run_peer(tool, path, workers)
                best[tool] = min(best.get(tool, s), s)
                best_cpu[tool] = min(best_cpu.get(tool, c), c)
    finally:
        if pool is not None:
            pool.shutdown()
    return best, best_cpu


def print_table(best: dict, best_cpu: dict, ndocs: int, mb: float, workers: int) -> list[str]:
    """The figures at one worker count; returns the ratio lines (printed again in the summary)."""
    cpu_head = f"{'docs/CPU-s':>12}{'MB/CPU-s':>10}"
    print(f"\nworkers={workers}")
    print(f"{'tool':<28}{'docs/s':>10}{'MB/s':>8}{'docs/s/worker':>15}{'MB/s/worker':>13}{cpu_head}")
    for tool, s in best.items():
        n = ndocs / s
        row = f"{tool:<28}{n:>10,.0f}{mb / s:>8.1f}{n / workers:>15,.0f}{mb / s / workers:>13.1f}"
        row += f"{ndocs / best_cpu[tool]:>12,.0f}{mb / best_cpu[tool]:>10.1f}"
        print(row)
    ratios = []
    for peer in ("datasketch", "rensa"):
        if peer in best:
            wall = best[peer] / best["corpuskit fast"]
            cpu = best_cpu[peer] / best_cpu["corpuskit fast"]
            ratio = f"workers={workers}: corpuskit fast / {peer} {wall:.1f}x wall, {cpu:.1f}x CPU time"
            ratios.append(ratio)
            print(ratio)
    return ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts, all in this run")
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--words", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--skip-limits", action="store_true")
    a = ap.parse_args()
    docs = make_docs(a.docs, a.words)
    mb = sum(len(t.encode()) for t in docs) / 1e6
    print(
        f"input: {len(docs):,} documents x {a.words} words, {mb:.1f} MB UTF-8; 128 permutations, word "
        f"5-grams; workers={a.workers}; best of {a.runs} interleaved runs; {os.cpu_count()} cores shared "
        "with other jobs (noisy: the CPU-time figures at 1 worker are the steadier ones)"
    )
    if not a.skip_peers:
        ensure_peers()
    ratios = []
    with tempfile.TemporaryDirectory(prefix="ck-minhash-") as tmp:
        path = Path(tmp) / "docs.json"
        path.write_text(json.dumps(docs))
        for w in a.workers:
            best, best_cpu = run_all(docs, path, w, a.runs, not a.skip_peers)
            ratios += print_table(best, best_cpu, len(docs), mb, w)
        par = None if a.skip_peers else parity(docs[:500], Path(tmp))
    print("\nCPU-s: CPU time of the working processes, summed over workers (waiting for a busy core is not)")
    if par:
        print(f"parity: corpuskit datasketch-mode == datasketch hashvalues on {par} documents")
    if ratios:
        print("ratios: " + "; ".join(ratios))
    if not a.skip_limits:
        from _minhash_limits import measure, report

        sample = docs[:5000]
        print("\n".join(report(measure(sample, a.runs + 2), len(sample))))


if __name__ == "__main__":
    main()
