"""Dedup benchmark: accuracy on real text, real near-duplicate clusters, throughput vs peers, scale.

Sections (``--sections``, default all but ``scale``):
  quality    pair precision/recall at Jaccard 0.8 vs brute-force truth, on real documents from
             ../shared/data plus synthetic near-duplicates (edits, insertions, boilerplate, shuffles, ...)
  truth      ../shared/data/dedup/GROUND_TRUTH.json: Gutenberg edition clusters and e-mail clusters
  speed      signatures/s and end-to-end time: corpuskit vs datasketch (in-process) and datatrove
             (its MinHash pipeline in the /tmp/dt venv, via subprocess) on the same documents
  scale      ``--docs N`` short synthetic documents made from real text (10% near-duplicates):
             dedup_sources wall time and peak memory (run each N in its own process)

Usage: python benchmarks/dedup.py [--sections quality,truth,speed] [--docs 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from corpuskit.dedup.config import load_dedup_config
from corpuskit.dedup.evaluation import build_test_set, evaluate, real_texts
from corpuskit.dedup.minhash import minhash_flat, oph_flat
from corpuskit.dedup.pipeline import cluster_rows, dedup_sources, shingle_table
from corpuskit.dedup.shingles import (
    ShingleSpec,
    fold,
    normalize,
    shingle_texts,
    text_shingle_hashes,
)
from corpuskit.documents import SCHEMA
from corpuskit.store import SourceStore, atomic_write_parquet
from corpuskit.store.commits import FileRecord, commit_part

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DT_PY = Path("/tmp/dt/bin/python")


def _peak_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


# ---------------------------------------------------------------------------------------------- quality


def section_quality() -> None:
    texts = real_texts(SHARED, limit=400)
    ts = build_test_set(texts, seed=0)
    kinds = dict(ts.group_by("kind").len().sort("kind").iter_rows())
    print(f"\n## quality: {len(texts)} real documents + variants = {ts.height} docs; variants {kinds}")
    print("   truth: all pairs with word-5-gram Jaccard >= 0.8 by brute force (sparse product)")
    for label, ov in [
        ("default (verify=exact, high-recall bands)", {}),
        ("verify=estimate", {"verify": "estimate"}),
        ("verify=none (datasketch optimal_param)", {"verify": "none"}),
        ("fineweb preset, verify=none", {"preset": "fineweb", "verify": "none"}),
        ("fineweb preset, verify=exact", {"preset": "fineweb"}),
        ("hash=oph, verify=exact", {"hash": "oph"}),
        ("hash=oph, verify=none", {"hash": "oph", "verify": "none"}),
    ]:
        cfg = load_dedup_config({}, overrides=ov)
        t0 = time.perf_counter()
        pairs, clus = evaluate(ts["text"].to_list(), cfg)
        b = cfg.banding()
        print(
            f"   {label:44s} {b.bands:2d}x{b.rows:<2d} pairs P={pairs.precision:.3f} R={pairs.recall:.3f} "
            f"(truth {pairs.truth}, predicted {pairs.predicted}); cluster pairs P={clus.precision:.3f} "
            f"R={clus.recall:.3f}; {time.perf_counter() - t0:.2f} s"
        )


# ---------------------------------------------------------------------------------------------- truth


def _read(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _mail_body(raw: str) -> str:
    """What a mail connector keeps: the text/plain body without headers, quoted lines and signature."""
    msg = email.message_from_string(raw)
    parts = [p for p in msg.walk() if p.get_content_type() == "text/plain"] or [msg]
    body = "\n".join(str(p.get_payload(decode=True) or b"", "utf-8", "replace") for p in parts)
    body = body.split("\n-- \n")[0]
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith(">"))


def _clusters(files: list[str], texts: pl.Series, cfg) -> dict[str, int]:
    sig, th, counts = cfg.hasher().signatures(texts)
    c = cluster_rows(th, counts, sig, cfg, lambda rows: shingle_table(texts.gather(rows), cfg.hasher().spec))
    return dict(zip(files, c.labels.tolist(), strict=True))


def section_truth() -> None:
    root = SHARED / "dedup"
    truth = json.loads((root / "GROUND_TRUTH.json").read_text())
    members = sorted({m for c in truth["clusters"] for m in c["members"]})
    others = sorted(f"../books/{p.name}" for p in (SHARED / "books").glob("*.txt"))
    files = sorted(set(members) | set(others))
    texts = pl.Series([_read(root / f) for f in files])
    mb = texts.str.len_bytes().sum() / 1e6
    cfg = load_dedup_config({})
    t0 = time.perf_counter()
    label = _clusters(files, texts, cfg)
    dt = time.perf_counter() - t0
    print(f"\n## truth: {len(files)} files, {mb:.1f} MB (GROUND_TRUTH members + other books/ as distractors)")
    print(
        f"   default config: signatures + clustering + exact verification in {dt:.2f} s ({mb / dt:.1f} MB/s)"
    )
    groups: dict[int, set[str]] = {}
    for f, lab in label.items():
        groups.setdefault(lab, set()).add(f)
    found = {frozenset(g) for g in groups.values() if len(g) > 1}
    books = [c for c in truth["clusters"] if c["id"].startswith("book:")]
    for c in books:
        print(f"   {c['id']:28s} {len(c['members'])} editions -> exact: {frozenset(c['members']) in found}")
    extra = [sorted(g) for g in found if g not in {frozenset(c["members"]) for c in books}]
    print(f"   cross-cluster merges / extra clusters: {extra or 'none'}")
    mails = [c for c in truth["clusters"] if c["id"].startswith("email:")]
    mail_files = [m for c in mails for m in c["members"]]
    spec = ShingleSpec()
    for label_txt, fn in [
        ("raw .eml (headers)", lambda s: s),
        ("body only (headers/quotes stripped)", _mail_body),
    ]:
        mt = pl.Series([fn(_read(root / f)) for f in mail_files])
        lab = _clusters(mail_files, mt, cfg)
        sets = [set(shingle_texts(t, spec)) for t in normalize(mt).to_list()]
        idx = {f: i for i, f in enumerate(mail_files)}
        print(f"   e-mail, {label_txt}:")
        for c in mails:
            js = [
                len(sets[idx[a]] & sets[idx[b]]) / max(1, len(sets[idx[a]] | sets[idx[b]]))
                for k, a in enumerate(c["members"])
                for b in c["members"][k + 1 :]
            ]
            n_clusters = len({lab[m] for m in c["members"]})
            print(
                f"     {c['id']:12s} {len(c['members'])} copies, Jaccard {min(js):.2f}-{max(js):.2f}, "
                f"found as {n_clusters} cluster(s) at 0.8"
            )


# ---------------------------------------------------------------------------------------------- speed

DT_SCRIPT = r"""
import sys, time, json
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupSignature, MinhashDedupBuckets,
    MinhashDedupCluster, MinhashDedupFilter)
inp, work = sys.argv[1], sys.argv[2]
cfg = MinhashConfig()
t = {}
def run(name, steps, tasks=1):
    t0 = time.perf_counter()
    LocalPipelineExecutor(pipeline=steps, tasks=tasks, workers=1, logging_dir=f"{work}/logs/{name}",
                          skip_completed=False).run()
    t[name] = time.perf_counter() - t0
run("signatures", [JsonlReader(inp), MinhashDedupSignature(output_folder=f"{work}/sigs", config=cfg)])
run("buckets", [MinhashDedupBuckets(input_folder=f"{work}/sigs", output_folder=f"{work}/buckets",
                                    config=cfg)], tasks=cfg.num_buckets)
run("cluster", [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove",
                                    config=cfg)])
run("filter", [JsonlReader(inp), MinhashDedupFilter(input_folder=f"{work}/remove"),
               JsonlWriter(f"{work}/out")])
print("DTRESULT " + json.dumps(t))
"""


def _ensure_datatrove() -> bool:
    if DT_PY.exists():
        return True
    print("   creating /tmp/dt (datatrove peer venv) ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", "/tmp/dt"], check=True)
        subprocess.run(
            [str(DT_PY), "-m", "pip", "install", "-q", "datatrove[processing]", "orjson", "spacy"], check=True
        )
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"   datatrove unavailable: {e}")
        return False
    return True


def write_corpus(
    corpus: Path, source: str, texts: list[str], rows_per_file: int = 20_000, start: int = 0
) -> None:
    """Write and commit documents as ingest would (parts + commit records), without per-row Python dicts;
    ``start``: the number of documents written before (a corpus written in pieces of whole files)."""
    store = SourceStore(corpus, source)
    ids = [f"{source}-{start + i:09d}" for i in range(len(texts))]
    for n, lo in enumerate(range(0, len(texts), rows_per_file), start=start // rows_per_file):
        hi = min(lo + rows_per_file, len(texts))
        df = pl.DataFrame(
            {
                "id": ids[lo:hi],
                "source": [source] * (hi - lo),
                "text": texts[lo:hi],
                "url": [None] * (hi - lo),
                "locator": ids[lo:hi],
                "created": [None] * (hi - lo),
                "metadata": ["{}"] * (hi - lo),
            },
            schema=SCHEMA,
        )
        key = f"{n:05d}"
        path = store.part_file(key, 0)
        atomic_write_parquet(path, df)
        commit_part(
            store, key, uri=key, identity={}, settings="", files=[FileRecord.of(path, hi - lo)], info={}
        )


def _datasketch_end_to_end(norm: list[str], threshold: float, num_perm: int) -> tuple[float, float]:
    from datasketch import MinHash, MinHashLSH

    spec = ShingleSpec()
    t0 = time.perf_counter()
    sigs = []
    for t in norm:
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch(shingle_texts(t, spec))
        sigs.append(m)
    t_sig = time.perf_counter() - t0
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    parent = list(range(len(norm)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, m in enumerate(sigs):
        for j in lsh.query(m):
            parent[find(i)] = find(j)
        lsh.insert(i, m)
    return t_sig, time.perf_counter() - t0


def _fast_breakdown(hasher, docs: list[str], median) -> None:
    """Where fast signature time goes: fold (NFKC + lowercase), shingle hashing, permutations + min."""
    t_fold = median(lambda: fold(docs))
    t_hash = median(lambda: text_shingle_hashes(docs, hasher.spec)) - t_fold
    h64, offsets, _ = text_shingle_hashes(docs, hasher.spec)
    h32 = (h64 >> np.uint64(32)).astype(np.uint32)
    t_perm = median(lambda: minhash_flat(h32, offsets, hasher._a, hasher._b))
    t_oph = median(lambda: oph_flat(h32, offsets, hasher.num_perm, hasher.seed))
    print(
        f"     fast breakdown: fold (NFKC + lowercase) {t_fold * 1e3:.0f} ms, shingle hashes "
        f"{t_hash * 1e3:.0f} ms, {hasher.num_perm} permutations + min over {len(h32):,} shingles "
        f"{t_perm * 1e3:.0f} ms (oph instead: bins + min + densification {t_oph * 1e3:.0f} ms)"
    )


def section_speed(n_docs: int, workers: int) -> None:
    texts = real_texts(SHARED, limit=1000)
    base = build_test_set(texts, seed=3)["text"].to_list()
    rng = random.Random(0)
    docs = (base * (n_docs // len(base) + 1))[:n_docs]
    rng.shuffle(docs)
    mb = sum(len(t.encode()) for t in docs) / 1e6
    print(
        f"\n## speed: {len(docs):,} documents, {mb:.1f} MB (real texts + variants), 128 perms, word 5-grams"
    )
    print("   (busy shared 2-core machine; medians of 3 runs for in-process timings)")
    series = pl.Series("text", docs)
    norm = normalize(series).to_list()

    def median(fn, k=3):
        ts = []
        for _ in range(k):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return float(np.median(ts))

    fast = load_dedup_config({}).hasher()
    compat = load_dedup_config({"hash": "datasketch"}).hasher()
    oph = load_dedup_config({"hash": "oph"}).hasher()
    t_fast = median(lambda: fast.signatures(series))
    t_oph = median(lambda: oph.signatures(series))
    t_compat = median(lambda: compat.signatures(series), 1)
    t_ds_sig, t_ds_e2e = _datasketch_end_to_end(norm, 0.8, 128)
    n = len(docs)
    print(
        f"   corpuskit fast signatures (raw text in, 1 process): {n / t_fast:9,.0f} docs/s ({t_fast:.2f} s)"
    )
    print(f"   corpuskit oph signatures (raw text in, 1 process):  {n / t_oph:9,.0f} docs/s ({t_oph:.2f} s)")
    print(f"   corpuskit datasketch-compatible signatures: {n / t_compat:9,.0f} docs/s ({t_compat:.2f} s)")
    _fast_breakdown(fast, docs, median)
    print(f"   datasketch MinHash per doc (normalised text): {n / t_ds_sig:9,.0f} docs/s ({t_ds_sig:.2f} s)")
    print(f"   ratio corpuskit fast / datasketch:                    {t_ds_sig / t_fast:10.1f} x")
    print(f"   ratio corpuskit oph / datasketch:                     {t_ds_sig / t_oph:10.1f} x")
    print(f"   ratio corpuskit datasketch-mode / datasketch:         {t_ds_sig / t_compat:10.1f} x")

    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(corpus, "bench", docs, rows_per_file=5000)
        for label, ov in [
            ("default (verify=exact)", {}),
            ("fineweb preset, verify=none", {"preset": "fineweb", "verify": "none"}),
        ]:
            cfg = load_dedup_config({}, overrides={**ov, "workers": workers})
            for s in (corpus / "bench" / "attributes").glob("*"):
                shutil.rmtree(s)
            t0 = time.perf_counter()
            res = dedup_sources(corpus, ["bench"], cfg)
            t_e2e = time.perf_counter() - t0
            d = res.per_source["bench"]
            print(
                f"   corpuskit end to end, {label}, {workers} worker(s): {t_e2e:.2f} s "
                f"(signatures {res.seconds['signatures']:.2f} s); dropped exact {d['exact_duplicate']:,}, "
                f"near {d['near_duplicate']:,}"
            )
            if "fineweb" in label:
                t_ck_fw = t_e2e
        print(f"   datasketch end to end (MinHash + MinHashLSH insert/query + union-find): {t_ds_e2e:.2f} s")
        print(f"   ratio corpuskit fineweb-preset e2e / datasketch e2e: {t_ds_e2e / t_ck_fw:.1f} x faster")
        if not _ensure_datatrove():
            return
        inp = Path(tmp) / "dt_in"
        inp.mkdir()
        with open(inp / "docs.jsonl", "w") as f:
            for i, t in enumerate(docs):
                f.write(json.dumps({"id": str(i), "text": t}) + "\n")
        script = Path(tmp) / "dt_run.py"
        script.write_text(DT_SCRIPT)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(DT_PY), str(script), str(inp), str(Path(tmp) / "dt_work")], capture_output=True, text=True
        )
        wall = time.perf_counter() - t0
        line = next((x for x in proc.stdout.splitlines() if x.startswith("DTRESULT ")), None)
        if line is None:
            print(f"   datatrove failed: {proc.stderr[-800:]}")
            return
        dt = json.loads(line[len("DTRESULT ") :])
        total = sum(dt.values())
        print(
            f"   datatrove MinHash (5-gram 14x8, 1 task): signatures {n / dt['signatures']:,.0f} docs/s "
            f"({dt['signatures']:.2f} s); 4 stages {total:.2f} s (process wall incl. start-up {wall:.2f} s)"
        )
        print(f"   ratio corpuskit fast signatures / datatrove signatures: {dt['signatures'] / t_fast:.1f} x")
        print(f"   ratio corpuskit fineweb e2e / datatrove 4 stages:       {total / t_ck_fw:.1f} x faster")


# ---------------------------------------------------------------------------------------------- scale


def synthetic_short_docs(n: int, seed: int = 0, dup_frac: float = 0.1) -> list[str]:
    """``n`` short documents (40-160 words) cut from real text; ``dup_frac`` of them are edited copies."""
    words = np.array(" ".join(real_texts(SHARED, limit=2000, min_words=20)).split())
    rng = np.random.default_rng(seed)
    n_orig = n - int(n * dup_frac)
    lens = rng.integers(40, 160, n_orig)
    starts = rng.integers(0, len(words) - 160, n_orig)
    # random word substitutions make every cut unique even though the source text repeats
    docs = []
    for s, ln in zip(starts.tolist(), lens.tolist(), strict=True):
        w = words[s : s + ln].copy()
        k = rng.integers(0, ln, 6)
        w[k] = words[rng.integers(0, len(words), 6)]
        docs.append(" ".join(w))
    src = rng.integers(0, n_orig, n - n_orig)
    for i in src.tolist():
        w = docs[i].split()
        j = int(rng.integers(0, len(w)))
        w[j] = "edited"
        docs.append(" ".join(w))
    return docs


def section_scale(n_docs: int, workers: int) -> None:
    t0 = time.perf_counter()
    docs = synthetic_short_docs(n_docs)
    gen = time.perf_counter() - t0
    mb = sum(len(t) for t in docs) / 1e6
    with tempfile.TemporaryDirectory(prefix="dedup-scale-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(corpus, "synthetic", docs)
        del docs
        print(f"\n## scale: {n_docs:,} short docs ({mb:.0f} MB, 10% edited copies), {workers} worker(s)")
        print(f"   generated + written in {gen:.1f} s + I/O; peak RSS so far {_peak_mb():,.0f} MB")
        for label, ov in [
            ("default (128 perms, verify=exact)", {}),
            ("fineweb preset (112 perms, verify=none)", {"preset": "fineweb", "verify": "none"}),
        ]:
            for s in (corpus / "synthetic" / "attributes").glob("*"):
                shutil.rmtree(s)
            cfg = load_dedup_config({}, overrides={**ov, "workers": workers})
            t0 = time.perf_counter()
            res = dedup_sources(corpus, ["synthetic"], cfg)
            wall = time.perf_counter() - t0
            d = res.per_source["synthetic"]
            secs = ", ".join(f"{k} {v:.1f}" for k, v in res.seconds.items())
            print(
                f"   {label}: {wall:.1f} s wall ({n_docs / wall:,.0f} docs/s; {secs}); "
                f"dropped exact {d['exact_duplicate']:,} near {d['near_duplicate']:,}; "
                f"{res.stats.candidate_pairs:,} candidate pairs; peak RSS {_peak_mb():,.0f} MB"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default="quality,truth,speed")
    ap.add_argument("--docs", type=int, default=100_000, help="documents for the scale section")
    ap.add_argument("--speed-docs", type=int, default=5_000, help="documents for the speed section")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    sections = args.sections.split(",")
    if "quality" in sections:
        section_quality()
    if "truth" in sections:
        section_truth()
    if "speed" in sections:
        section_speed(args.speed_docs, args.workers)
    if "scale" in sections:
        section_scale(args.docs, args.workers)


if __name__ == "__main__":
    main()
