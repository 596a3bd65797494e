"""Mixture benchmark: BPE tokenization throughput and the time to build a 50M-token mixture.

Input: a corpus made from the shared real samples (../shared/data): ``books`` (12 Project Gutenberg books,
8 languages), ``forums`` (Stack Exchange post bodies: beer, coffee, conlang), ``wiki`` (WikiText-2 valid),
``verse`` (Tiny Shakespeare), ``multi`` (lingua-py sentences, 75 languages). ~16 MB of text in all.

1. Trains a byte-level BPE (vocab 32k) on a sample balanced across sources (``corpuskit tokenizer train``).
2. Tokenization throughput of the whole training pool with RAYON_NUM_THREADS=1 and 2 (tokens/s, MB/s),
   each in a fresh process, median of ``--repeats`` runs; the byte tokenizer for reference.
3. Builds a 50M-token mixture end to end (read, held-out split, decontamination, tokenize, sample, write)
   with the BPE and with the byte tokenizer. The corpus has ~5M BPE tokens, so sources repeat
   (--allow-repeat); epochs per source are printed.

    .venv/bin/python benchmarks/mix.py [--workdir /tmp/mixbench] [--tokens 50M] [--repeats 3]

No peer is named for this stage in the issue, so figures are absolute. Run on a shared, busy machine,
the figures are indicative.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

WEIGHTS = {"books": 0.4, "forums": 0.2, "wiki": 0.15, "verse": 0.1, "multi": 0.15}


def forum_posts() -> list[str]:
    files = sorted((DATA / "forums" / "stackexchange").glob("*Posts.xml"))
    files.append(DATA / "forums" / "stackexchange" / "conlang_full_dump" / "Posts.xml")
    out = []
    for f in files:
        for _, el in ET.iterparse(f):
            if el.tag == "row" and el.get("Body"):
                text = html.unescape(re.sub(r"<[^>]+>", " ", el.get("Body", "")))
                title = el.get("Title")
                out.append(((title + "\n\n") if title else "") + re.sub(r"[ \t]+", " ", text).strip())
            el.clear()
    return [t for t in out if len(t) > 100]


def make_bench_corpus(corpus: Path) -> dict[str, int]:
    from tests.support.mix_corpus import chunk, wiki_articles, write_source

    books = []
    for f in sorted((DATA / "books").glob("*.txt")):
        raw = f.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        books += chunk(text, 8000)
    multi = []
    for f in sorted((DATA / "langid" / "lingua_sentences").glob("*.txt")):
        multi += chunk(f.read_text(encoding="utf-8").replace("\n", "\n\n"), 4000)
    sources = {
        "books": books,
        "forums": forum_posts(),
        "wiki": wiki_articles(
            (DATA / "lm" / "wikitext-2_tokenized" / "valid.txt").read_text(encoding="utf-8")
        ),
        "verse": chunk((DATA / "lm" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8"), 2000),
        "multi": multi,
    }
    for name, docs in sources.items():
        write_source(corpus, name, docs, parts=4)
    return {name: sum(len(t.encode()) for t in docs) for name, docs in sources.items()}


THROUGHPUT = r"""
import json, sys, time
import polars as pl
from corpuskit.mix.draw import BATCH_BYTES
from corpuskit.mix.tokenizer import load_tokenizer
from corpuskit.documents import list_sources, scan_documents
corpus, spec = sys.argv[1], sys.argv[2]
tok = load_tokenizer(spec)
texts = []
for s in list_sources(corpus):
    texts += scan_documents(corpus, s).select("text").collect()["text"].to_list()
batches, cur, size = [], [], 0
for t in texts:
    cur.append(t); size += len(t.encode())
    if size >= BATCH_BYTES:
        batches.append(cur); cur, size = [], 0
batches.append(cur)
t0 = time.perf_counter(); n = 0
for b in batches:
    flat, lengths = tok.encode_concat(b); n += int(lengths.sum())
dt = time.perf_counter() - t0
nbytes = sum(len(t.encode()) for t in texts)
print(json.dumps({"tokens": n, "bytes": nbytes, "docs": len(texts), "seconds": dt}))
"""


def throughput(corpus: Path, spec: str, threads: int, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        env = {**os.environ, "RAYON_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "true"}
        out = subprocess.run(
            [sys.executable, "-c", THROUGHPUT, str(corpus), spec],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    secs = statistics.median(r["seconds"] for r in runs)
    r = runs[0]
    return {**r, "seconds": secs, "tok_s": r["tokens"] / secs, "mb_s": r["bytes"] / secs / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--tokens", default="50M")
    ap.add_argument("--vocab", type=int, default=32_000)
    ap.add_argument("--sample-bytes", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared data not found at {DATA}")
    from corpuskit.mix import build_mixture
    from corpuskit.mix.heldout import HeldoutSettings
    from corpuskit.mix.pools import balanced_sample, load_pools
    from corpuskit.mix.tokenizer import train_bpe

    work = args.workdir or Path(tempfile.mkdtemp(prefix="mixbench-"))
    corpus = work / "corpus"
    if not corpus.exists():
        sizes = make_bench_corpus(corpus)
    else:
        sizes = {p.name: None for p in sorted(corpus.iterdir())}
    print(f"machine: {os.cpu_count()} CPU cores, shared with other jobs (busy); figures are indicative")
    print(f"input: {corpus}  sources (bytes): {json.dumps(sizes)}")

    tok_path = work / "tokenizer.json"
    t0 = time.perf_counter()
    texts = balanced_sample(load_pools(corpus, HeldoutSettings()), args.sample_bytes, 0)
    tok = train_bpe((t for s in sorted(texts) for t in texts[s]), args.vocab, tok_path)
    n_sample = sum(len(t.encode()) for ts in texts.values() for t in ts)
    print(
        f"BPE training: vocab {tok.vocab_size:,}, {n_sample / 1e6:.1f} MB balanced sample, "
        f"{time.perf_counter() - t0:.1f} s (hash {tok.hash})"
    )

    for spec, label in [(str(tok_path), "BPE-32k"), ("bytes", "bytes")]:
        for threads in (1, 2):
            r = throughput(corpus, spec, threads, args.repeats)
            print(
                f"tokenize {label:8s} threads={threads}: {r['tok_s']:>12,.0f} tokens/s "
                f"{r['mb_s']:6.2f} MB/s  "
                f"({r['tokens']:,} tokens, {r['bytes'] / 1e6:.1f} MB, {r['docs']:,} docs, median of "
                f"{args.repeats}: {r['seconds']:.2f} s; {r['bytes'] / r['tokens']:.2f} bytes/token)"
            )

    for spec, label in [(str(tok_path), "BPE-32k"), ("bytes", "bytes")]:
        out = work / f"mix-{label}"
        t0 = time.perf_counter()
        man = build_mixture(
            weights=WEIGHTS, corpus=corpus, output=out, tokens=args.tokens, tokenizer=spec, allow_repeat=True
        )
        dt = time.perf_counter() - t0
        total = man["format"]["total_tokens"]
        epochs = ", ".join(f"{s} {e['epochs']:.2f}" for s, e in sorted(man["sources"].items()))
        removed = man["decontamination"]["removed_documents"]
        print(
            f"build {total:,}-token mixture ({label}, 2 cores): {dt:.1f} s = "
            f"{total / dt:,.0f} tokens/s end to end; "
            f"shards {sum((out / s).stat().st_size for s in man['format']['shards']) / 1e6:.0f} MB; "
            f"epochs: {epochs}; decontaminated docs: {removed}"
        )


if __name__ == "__main__":
    main()
