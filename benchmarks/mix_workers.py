"""Mix on more than one worker: the time of ``corpuskit mix`` for a 5-source mixture at ``--workers 1`` and
``2`` locally and on a local Ray cluster, and the check that every run writes the same bytes.

Input: the corpus of ``benchmarks/mix.py`` (real text from ../shared/data: books, forums, wiki, verse,
multi; ~16 MB) and a BPE trained on a balanced sample of it. Each configuration runs ``corpuskit mix
--weights ... --tokens N --allow-repeat`` as its own process (best of ``--repeats`` wall times; the
command's own draw/gather figures from ``--json`` beside them). Ray: a 2-CPU cluster started once here
(``ray.init(num_cpus=2)`` in a helper process) and reached through ``RAY_ADDRESS``, so the cluster's
start is not counted, but each command's connection and its workers' start are. ``RAYON_NUM_THREADS``
is fixed at 1 so the BPE's own threads do not hide what the units add (``--threads 0``: leave it unset).

    python benchmarks/mix_workers.py [--workdir /tmp/mixw] [--tokens 10M] [--repeats 3] [--no-ray]

No peer is named for this: the figures are the ratios between configurations, measured in the same run.
On a machine shared with other jobs they are indicative only (the load average is printed): the CPU
seconds of the command and its pool workers show what the units cost beyond one process.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("mix_bench", ROOT / "benchmarks" / "mix.py")
mix_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mix_bench)


CLI = "import sys; from corpuskit.cli import main; sys.argv[0] = 'corpuskit'; main()"
HEAD = """
import time, ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
print(ray.get_runtime_context().gcs_address, flush=True)
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    ray.shutdown()
"""


def _digest(folder: Path) -> str:
    """One hash of every file of a mixture folder (names and bytes)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command and the pool workers it waited for
    return r.ru_utime + r.ru_stime


def run_mix(args: list[str], out: Path, env: dict[str, str]) -> tuple[float, dict]:
    t0, c0 = time.perf_counter(), _cpu()
    subprocess.run(
        [sys.executable, "-c", CLI, "mix", *args, "--out", str(out), "--json", str(out.parent / "m.json")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    rep = json.loads((out.parent / "m.json").read_text())["mixtures"][0]
    return wall, {**rep, "cpu": _cpu() - c0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--tokens", default="10M")
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="RAYON_NUM_THREADS (0: leave unset)")
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    from corpuskit.mix.heldout import HeldoutSettings
    from corpuskit.mix.pools import balanced_sample, load_pools
    from corpuskit.mix.tokenizer import train_bpe

    work = args.workdir or Path(tempfile.mkdtemp(prefix="mixw-"))
    corpus = work / "corpus"
    if not corpus.exists():
        mix_bench.make_bench_corpus(corpus)
    tok = work / "tokenizer.json"
    if not tok.exists():
        texts = balanced_sample(load_pools(corpus, HeldoutSettings()), 4_000_000, 0)
        train_bpe((t for s in sorted(texts) for t in texts[s]), args.vocab, tok)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled"}  # a cluster of this machine
    if args.threads:
        env["RAYON_NUM_THREADS"] = str(args.threads)
    print(
        f"machine: {os.cpu_count()} CPU cores, shared with other jobs (load {os.getloadavg()[0]:.1f}); "
        f"RAYON_NUM_THREADS={args.threads or '-'}"
    )
    configs = [("local", 1), ("local", 2)] + ([] if args.no_ray else [("ray", 1), ("ray", 2)])
    head = None
    if not args.no_ray:  # a 2-CPU cluster owned by a helper process of ours (stopped by its pid at the end)
        head = subprocess.Popen([sys.executable, "-c", HEAD], env=env, stdout=subprocess.PIPE, text=True)
        env["RAY_ADDRESS"] = head.stdout.readline().strip()
    weights = ",".join(f"{s}={w}" for s, w in mix_bench.WEIGHTS.items())
    try:
        for spec, label in [(str(tok), f"BPE-{args.vocab // 1000}k"), ("bytes", "bytes")]:
            base = [
                "--weights",
                weights,
                "--tokens",
                args.tokens,
                "--corpus",
                str(corpus),
                "--tokenizer",
                spec,
            ]
            base += ["--allow-repeat"]
            digests, best = {}, {}
            for executor, workers in configs:
                runs = []
                for i in range(args.repeats):
                    out = work / f"{label}-{executor}-{workers}-{i}" / "m"  # one name: one manifest
                    wall, rep = run_mix([*base, "--workers", str(workers), "--executor", executor], out, env)
                    runs.append((wall, rep))
                    digests[(executor, workers, i)] = _digest(out)
                wall, rep = min(runs, key=lambda r: r[0])
                best[(executor, workers)] = wall
                print(
                    f"mix {label:8s} {args.tokens} tokens, 5 sources, "
                    f"--executor {executor:5s} --workers {workers}: wall {wall:6.1f} s "
                    f"(best of {args.repeats}; all: {', '.join(f'{r[0]:.1f}' for r in runs)}); "
                    f"draw units {rep['tokenize_seconds']:.1f} s summed, build {rep['seconds']:.1f} s, "
                    f"CPU {rep['cpu']:.1f} s"
                    + (" (driver only; Ray workers not counted)" if executor == "ray" else "")
                )
            ratio = ", ".join(f"{e} w{w}: x{best[('local', 1)] / t:.2f}" for (e, w), t in best.items())
            same = len(set(digests.values())) == 1
            print(
                f"  speed vs local --workers 1: {ratio}; identical bytes in all runs: {same} "
                f"({next(iter(digests.values()))})"
            )
    finally:
        if head is not None:
            head.send_signal(signal.SIGINT)  # ray.shutdown() in the helper stops the processes it started
            try:
                head.wait(120)
            except subprocess.TimeoutExpired:
                head.kill()


if __name__ == "__main__":
    main()
