"""Remote corpus benchmark: the chain ingest -> curate -> dedup -> mix on a local corpus and on an s3://
corpus (moto's S3 server on 127.0.0.1, never a real cloud), stage by stage, and what a rerun costs.

Input: the demo's generated sources (``corpuskit.demo.sources``, ``--scale``), the same for both corpora.
Each command runs as its own ``corpuskit`` process; local and s3 runs alternate, ``--repeats`` times, and
the best time per stage is printed. Then, on the finished s3 corpus:

- a rerun of every stage with the working copy in place (all units done: the cost is listing the corpus,
  reading every record and checking the local files against them);
- a rerun from an empty cache (a fresh machine): every committed object is downloaded and verified.

    .venv/bin/python benchmarks/remote_corpus.py [--scale 0.1] [--repeats 2] [--workdir /tmp/rcbench]

moto keeps objects in memory in this process: network and server latency are loopback's, so the figures
are the working copy's own overhead (listing, hashing, copying), not a cloud's. The machine is shared:
the figures are indicative.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STAGES = ("ingest", "curate", "dedup", "mix")


def write_configs(work: Path, corpus: str, scale: float) -> list[Path]:
    from corpuskit.demo.sources import demo_sources

    work.mkdir(parents=True, exist_ok=True)
    specs, _ = demo_sources(None, work, scale=scale)
    configs = []
    for name, spec in specs.items():
        path = work / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "output": corpus, **spec}))
        configs.append(path)
    mixes = {
        "corpus": corpus,
        "out": "mix",
        "tokenizer": "bytes",
        "heldout": {"bytes_per_source": 5000},
        "decontam": {"enabled": False},
        "mixtures": [{"name": "m", "weights": {"books": 0.4, "forums": 0.3, "web": 0.3}, "tokens": 30000}],
    }
    (work / "mixes.yaml").write_text(yaml.safe_dump(mixes))
    return configs


def run_chain(work: Path, configs: list[Path], env: dict[str, str]) -> dict[str, float]:
    cmds = {
        "ingest": ["ingest", *map(str, configs), "--workers", "2"],
        "curate": ["curate", *map(str, configs), "--workers", "2"],
        "dedup": ["dedup", *map(str, configs), "--workers", "2"],
        "mix": ["mix", "--config", str(work / "mixes.yaml")],
    }
    out = {}
    for stage in STAGES:
        t0 = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-m", "corpuskit.cli", "-q", *cmds[stage]],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if res.returncode != 0:
            raise SystemExit(f"{stage} failed ({res.returncode}): {res.stderr[-2000:]}")
        out[stage] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request

    work = args.workdir or Path(tempfile.mkdtemp(prefix="rcbench-"))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
    }
    s3 = boto3.client(
        "s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )  # fmt: skip
    best: dict[str, dict[str, float]] = {"local": {}, "s3": {}}
    try:
        for r in range(args.repeats):
            for kind in ("local", "s3"):
                run = work / f"{kind}-{r}"
                shutil.rmtree(run, ignore_errors=True)
                if kind == "s3":
                    s3.create_bucket(Bucket=f"bench-{r}")
                corpus = str(run / "corpus") if kind == "local" else f"s3://bench-{r}/corpus"
                cfgs = write_configs(run, corpus, args.scale)
                times = run_chain(run, cfgs, {**env, "CORPUSKIT_CACHE_DIR": str(run / "cache")})
                for s, t in times.items():
                    best[kind][s] = min(best[kind].get(s, t), t)
        last = work / f"s3-{args.repeats - 1}"
        cfgs = sorted(last.glob("*.yaml"))
        cfgs = [c for c in cfgs if c.name != "mixes.yaml"]
        warm = run_chain(last, cfgs, {**env, "CORPUSKIT_CACHE_DIR": str(last / "cache")})
        cold = run_chain(last, cfgs, {**env, "CORPUSKIT_CACHE_DIR": str(last / "fresh-cache")})
        objects = s3.list_objects_v2(Bucket=f"bench-{args.repeats - 1}").get("Contents", [])
    finally:
        server.stop()
    print(f"demo sources, scale {args.scale}; best of {args.repeats} (seconds, whole `corpuskit` process)")
    print(
        f"{'stage':<8}{'local':>9}{'s3 (moto)':>11}{'ratio':>7}{'s3 rerun, warm':>16}{'s3 rerun, cold':>16}"
    )
    for s in STAGES:
        lo, re_ = best["local"][s], best["s3"][s]
        print(f"{s:<8}{lo:>9.1f}{re_:>11.1f}{re_ / lo:>7.2f}{warm[s]:>16.1f}{cold[s]:>16.1f}")
    tl, ts, tw, tc = (sum(d.values()) for d in (best["local"], best["s3"], warm, cold))
    print(f"{'chain':<8}{tl:>9.1f}{ts:>11.1f}{ts / tl:>7.2f}{tw:>16.1f}{tc:>16.1f}")
    print(f"s3 corpus: {len(objects)} objects, {sum(o['Size'] for o in objects) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
