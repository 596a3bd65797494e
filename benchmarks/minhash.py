"""MinHash signature throughput from raw text: corpuskit vs datasketch and rensa (Rust), same run.

    python benchmarks/minhash.py [--workers 1] [--docs 20000] [--words 400] [--runs 3]

Input: ``--docs`` documents of ``--words`` words, windows cut from the real texts of ../shared/data.
Every tool starts from the raw strings, 128 permutations, word 5-grams, seed 1:

- corpuskit ``fast`` (default) and ``datasketch`` (exact datasketch values) modes, normalisation included
  (NFKC, lower case, punctuation to spaces: more work than the peers' lower-case + split);
- datasketch ``MinHash.update_batch`` and rensa ``RMinHash.update`` in the /tmp/dt peer venv (see
  ../shared/peers/README.md), shingles built in Python from ``text.lower().split()``.

Tools run interleaved, ``--runs`` times each, best run reported (the 2-core machine is shared: noisy).
With ``--workers N`` every tool splits the documents over N processes. A parity line checks that
corpuskit's datasketch mode equals datasketch's own hashvalues on the same normalised texts. The limits
line relates the kernel to the machine: memory copy bandwidth and the permutation-minimum rate alone.
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
    return len(docs)

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
t0, c0 = time.perf_counter(), time.process_time()
if workers == 1:
    run((tool, docs))
else:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(run, [(tool, docs[i::workers]) for i in range(workers)]))
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def make_docs(n: int, words: int, seed: int = 0) -> list[str]:
    from corpuskit.dedup.evaluation import real_texts

    pool = " ".join(real_texts(SHARED, limit=1000)).split(" ")
    rng = random.Random(seed)
    return [" ".join(pool[i : i + words]) for i in (rng.randrange(len(pool) - words) for _ in range(n))]


def _ours(args: tuple[str, list[str]]) -> int:
    from corpuskit.dedup.minhash import MinHasher

    mode, docs = args
    MinHasher(128, 1, mode=mode).signatures(docs)
    return len(docs)


def run_ours(
    mode: str, docs: list[str], workers: int, pool: ProcessPoolExecutor | None
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: meaningful with one worker)."""
    _ours((mode, docs[:50]))  # JIT cache load / warm-up outside the timed region
    t0, c0 = time.perf_counter(), time.process_time()
    if pool is None:
        _ours((mode, docs))
    else:
        list(pool.map(_ours, [(mode, docs[i::workers]) for i in range(workers)]))
    return time.perf_counter() - t0, time.process_time() - c0


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


def limits(docs: list[str]) -> str:
    """Machine references on one core: memory copy bandwidth, and the permutation minimum alone."""
    from corpuskit.dedup.minhash import MinHasher, minhash_flat
    from corpuskit.dedup.shingles import ShingleSpec, text_shingle_hashes

    big = np.ones(1 << 27, dtype=np.uint8)  # 128 MiB: far beyond the caches
    dst = np.empty_like(big)
    copy = min(_timed(lambda: np.copyto(dst, big)) for _ in range(3))
    h64, offsets, _ = text_shingle_hashes(docs, ShingleSpec())
    h32 = (h64 >> np.uint64(32)).astype(np.uint32)
    m = MinHasher(128, 1)
    perm = min(_timed(lambda: minhash_flat(h32, offsets, m._a, m._b)) for _ in range(3))
    return (
        f"memory copy {2 * big.nbytes / copy / 1e9:.1f} GB/s (read + write); permutation minimum alone "
        f"{len(h32) * 128 / perm / 1e9:.1f} G (permutation x shingle)/s = {len(h32) / perm / 1e6:.1f} M "
        f"shingles/s = {len(docs) / perm:,.0f} docs/s"
    )


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--words", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-peers", action="store_true")
    a = ap.parse_args()
    docs = make_docs(a.docs, a.words)
    mb = sum(len(t.encode()) for t in docs) / 1e6
    print(
        f"input: {len(docs):,} documents x {a.words} words, {mb:.1f} MB UTF-8; 128 permutations, word "
        f"5-grams; workers={a.workers}; best of {a.runs} interleaved runs; {os.cpu_count()} cores shared "
        "with other jobs (noisy)"
    )
    if not a.skip_peers:
        ensure_peers()
    tools = ["corpuskit fast", "corpuskit datasketch-mode"] + (
        [] if a.skip_peers else ["datasketch", "rensa"]
    )
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="ck-minhash-") as tmp:
        path = Path(tmp) / "docs.json"
        path.write_text(json.dumps(docs))
        # spawn: the parent has run polars and numba (threads); a forked child can deadlock on their locks
        spawn = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(a.workers, mp_context=spawn) if a.workers > 1 else None
        try:
            for r in range(a.runs):
                for tool in tools:
                    if tool == "corpuskit datasketch-mode" and r:  # slow and exact: one run is enough
                        continue
                    if tool.startswith("corpuskit"):
                        s, c = run_ours(tool.split()[1].removesuffix("-mode"), docs, a.workers, pool)
                    else:
                        s, c = run_peer(tool, path, a.workers)
                    best[tool] = min(best.get(tool, s), s)
                    best_cpu[tool] = min(best_cpu.get(tool, c), c)
        finally:
            if pool is not None:
                pool.shutdown()
        par = None if a.skip_peers else parity(docs[:500], Path(tmp))
    one = a.workers == 1
    cpu_head = f"{'docs/CPU-s':>12}{'MB/CPU-s':>10}" if one else ""
    print(f"\n{'tool':<28}{'docs/s':>10}{'MB/s':>8}{'docs/s/worker':>15}{'MB/s/worker':>13}{cpu_head}")
    for tool, s in best.items():
        n = len(docs) / s
        row = f"{tool:<28}{n:>10,.0f}{mb / s:>8.1f}{n / a.workers:>15,.0f}{mb / s / a.workers:>13.1f}"
        if one:
            row += f"{len(docs) / best_cpu[tool]:>12,.0f}{mb / best_cpu[tool]:>10.1f}"
        print(row)
    for peer in ("datasketch", "rensa"):
        if peer in best:
            ratio = f"ratio corpuskit fast / {peer}: {best[peer] / best['corpuskit fast']:.1f}x wall"
            if one:
                ratio += f", {best_cpu[peer] / best_cpu['corpuskit fast']:.1f}x CPU time"
            print(ratio)
    if one:
        print("CPU-s: process CPU time (this process or the peer's); a busy core's wait does not count")
    if par:
        print(f"parity: corpuskit datasketch-mode == datasketch hashvalues on {par} documents")
    print("limits (1 core): " + limits(docs[:5000]))


if __name__ == "__main__":
    main()
