"""Web ingest benchmark: throughput against datatrove, and extraction quality against ground truth.

    python benchmarks/ingest_web.py [--workers 2] [--repeat 1] [--runs 3] [--skip-quality]

Throughput. The shared WARC samples are tiny, so the real pages of ../shared/data/web (the ScrapingHub
and trafilatura evaluation sets) are written into temporary per-record-gzip WARCs (one file per shard,
``2 x workers`` files), optionally repeated. The same files, with the same worker count, are ingested by
``corpuskit ingest`` (trafilatura and resiliparse; writes Parquet) and by datatrove's ``WarcReader`` ->
``Trafilatura(favour_precision=True)`` -> ``JsonlWriter`` in the /tmp/dt venv (made if missing, as
../shared/peers/README.md says). Figures: documents/s, MB/s of HTML payload and CPU time (of the run's
worker processes too), the best of ``--runs`` interleaved runs, at the given worker count for both tools;
the floor (``trafilatura.extract`` alone, on the string and on corpuskit's pre-parsed tree); and equal
work: which pages each tool emitted, and whether their texts agree.

Quality. Per page, token-level precision / recall / F1 of the extracted text against the ScrapingHub
human ``articleBody`` (181 pages; tokens are ``\\w+`` lower-cased, bag-of-words overlap, averaged over
pages as that benchmark does), and snippet-level precision / recall on the trafilatura evaluation subset
(260 pages; "with" snippets must be found, "without" snippets must not). Rows: the corpuskit connector,
trafilatura called directly with the same settings on the same bytes in the same order, and resiliparse.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "web"
DT_VENV = Path("/tmp/dt")
DT_PACKAGES = [
    "datatrove[processing]",
    "faust-cchardet",
    "python-magic",
    "warcio",
    "orjson",
    "lxml_html_clean",
]


def pages() -> list[tuple[str, bytes]]:
    """(url, html bytes) of every evaluation page, in a fixed order."""
    out = []
    gt = json.loads((DATA / "extraction_scrapinghub/ground-truth.json").read_text())
    for key in sorted(gt):
        out.append(
            (
                gt[key]["url"],
                gzip.decompress((DATA / f"extraction_scrapinghub/html/{key}.html.gz").read_bytes()),
            )
        )
    ev = json.loads((DATA / "extraction_trafilatura/evaldata_subset.json").read_text())
    for url in sorted(ev):
        f = DATA / "extraction_trafilatura/eval" / (ev[url]["file"] + ".gz")
        if f.exists():
            out.append((url, gzip.decompress(f.read_bytes())))
    return out


def build_warcs(folder: Path, n_files: int, repeat: int) -> tuple[int, int]:
    """Write the pages into ``n_files`` WARCs (round robin); returns (documents, HTML payload bytes)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    items = [(f"{url}#r{r}" if r else url, body) for r in range(repeat) for url, body in pages()]
    handles = [open(folder / f"pages-{i:03d}.warc.gz", "wb") for i in range(n_files)]  # noqa: SIM115
    writers = [WARCWriter(h, gzip=True) for h in handles]
    for i, (url, body) in enumerate(items):
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        # Common Crawl's records carry the sniffed type; without it datatrove's WarcReader runs libmagic,
        # which calls 128 of these 441 HTML pages application/javascript or text/plain and drops them
        rec = writers[i % n_files].create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"},
        )
        writers[i % n_files].write_record(rec)
    for h in handles:
        h.close()
    return len(items), sum(len(b) for _, b in items)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker pool, once it has shut down)."""
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def run_corpuskit(warc_dir: Path, out_dir: Path, workers: int, extractor: str) -> tuple[float, int, float]:
    """(wall seconds, documents written, CPU seconds of this process and its workers, start-ups included)."""
    from corpuskit.config import SourceConfig
    from corpuskit.ingest import ingest

    shutil.rmtree(out_dir, ignore_errors=True)
    cfg = SourceConfig(
        name="bench",
        kind="warc",
        inputs=[str(warc_dir / "*.warc.gz")],
        output=out_dir,
        options={"extractor": extractor},
    )
    t0, c0 = time.perf_counter(), cpu_seconds()
    summary = ingest(cfg, workers=workers, force=True)
    wall = time.perf_counter() - t0
    # the pool's workers are the fork server's children: stop (and reap) it, which has reaped them, so their
    # CPU time is counted; the next run starts its own, as a fresh `corpuskit ingest` does
    import multiprocessing.forkserver

    multiprocessing.forkserver._forkserver._stop()
    _SKIPS[extractor] = dict(sorted(summary.errors.items()))
    return wall, sum(r.documents for r in summary.results), cpu_seconds() - c0


_SKIPS: dict[str, dict[str, int]] = {}  # extractor -> skip reasons of its last run


DT_SCRIPT = r"""
import json, sys, time
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.writers import JsonlWriter

warc_dir, out_dir, workers, n_files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pipeline = [
    WarcReader(warc_dir, glob_pattern="*.warc.gz"),
    Trafilatura(favour_precision=True, timeout=5.0),  # our timeout_s default, instead of datatrove's 1 s
    JsonlWriter(out_dir + "/out"),
]
ex = LocalPipelineExecutor(pipeline, tasks=n_files, workers=workers, logging_dir=out_dir + "/logs")
t0 = time.perf_counter()
ex.run()
wall = time.perf_counter() - t0
import resource
import multiprocess.forkserver
# workers=1 runs the tasks in this process; with more, the pool's workers are the forkserver's children:
# stop (and reap) the forkserver, which has reaped them, so their CPU time is counted here
multiprocess.forkserver._forkserver._stop()
ch = resource.getrusage(resource.RUSAGE_CHILDREN)
me = resource.getrusage(resource.RUSAGE_SELF)
cpu = ch.ru_utime + ch.ru_stime + me.ru_utime + me.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu}))
"""


def ensure_datatrove() -> Path:
    py = DT_VENV / "bin/python"
    if not py.exists():
        print(
            f"creating the datatrove venv in {DT_VENV} (a peer, not a corpuskit dependency) ...", flush=True
        )
        subprocess.run([sys.executable, "-m", "venv", str(DT_VENV)], check=True)
    check = "import datatrove, trafilatura, warcio, cchardet, magic, orjson"
    if subprocess.run([str(py), "-c", check], capture_output=True).returncode != 0:
        subprocess.run([str(py), "-m", "pip", "install", "-q", *DT_PACKAGES], check=True)
    return py


def run_datatrove(
    py: Path, warc_dir: Path, out_dir: Path, workers: int, n_files: int
) -> tuple[float, int, float, dict]:
    """(wall seconds, documents written, CPU seconds of the run, reader/extractor counters)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    r = subprocess.run(
        [str(py), "-c", DT_SCRIPT, str(warc_dir), str(out_dir), str(workers), str(n_files)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"datatrove run failed:\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    docs = sum(1 for f in (out_dir / "out").glob("*.jsonl.gz") for _ in gzip.open(f, "rt", encoding="utf-8"))
    stats = json.loads((out_dir / "logs" / "stats.json").read_text())
    counters = {
        "read": stats[0]["stats"].get("documents", {}).get("total", 0),
        **{k: v for k, v in stats[1]["stats"].items() if isinstance(v, int)},
    }
    return out["wall"], docs, out["cpu"] - startup_cpu(py), counters


def startup_cpu(py: Path) -> float:
    """CPU seconds of a datatrove process that imports the pipeline and runs nothing."""
    code = (
        "import resource, datatrove.executor, datatrove.pipeline.readers, datatrove.pipeline.extractors;"
        "u = resource.getrusage(resource.RUSAGE_SELF); print(u.ru_utime + u.ru_stime)"
    )
    return float(subprocess.run([str(py), "-c", code], capture_output=True, text=True).stdout)


def trafilatura_alone(n_files: int, repeat: int) -> tuple[float, float]:
    """CPU seconds of ``trafilatura.extract`` alone on the same pages, decoded as the connector decodes
    them, one dedup cache per WARC file as in the run: given the string (what datatrove calls, and the
    floor of any pipeline that does), and given corpuskit's pre-parsed tree (what corpuskit calls)."""
    from trafilatura import extract
    from trafilatura.deduplication import LRUCache
    from trafilatura.settings import LRU_SIZE

    from corpuskit.connectors.pagetext import Extractor, WebOptions, decode_html
    from corpuskit.connectors.pagetree import load_tree, owned

    def tree(html: str) -> Any:  # as the connector hands it over: trafilatura need not copy it
        t = load_tree(html)
        return owned(t) if t is not None else None

    settings = Extractor(WebOptions()).settings()
    html = [d[0] for _ in range(repeat) for _, body in pages() if (d := decode_html(body, None))]
    out = []
    for load in (str, tree):
        caches = [LRUCache(maxsize=LRU_SIZE) for _ in range(n_files)]
        c0 = time.process_time()
        for i, d in enumerate(html):
            page = load(d)
            if page is not None:
                extract(page, **{**settings, "deduplicate": caches[i % n_files]})
        out.append(time.process_time() - c0)
    return out[0], out[1]


DT = "datatrove WarcReader+Trafilatura"
ALONE = ("trafilatura.extract(str) alone", "trafilatura.extract(tree) alone")


def throughput(args: argparse.Namespace) -> None:
    n_files = 2 * args.workers
    with tempfile.TemporaryDirectory(prefix="ck-bench-") as tmp:
        tmp_p = Path(tmp)
        warc_dir = tmp_p / "warc"
        warc_dir.mkdir()
        n_docs, html_bytes = build_warcs(warc_dir, n_files, args.repeat)
        warc_bytes = sum(f.stat().st_size for f in warc_dir.glob("*.warc.gz"))
        print(
            f"input: {n_docs} HTML pages in {n_files} WARC files, {html_bytes / 1e6:.1f} MB HTML payload "
            f"({warc_bytes / 1e6:.1f} MB gzip WARC); workers={args.workers}; best of {args.runs} runs; "
            f"cpu cores={os.cpu_count()}"
        )
        rows: dict[str, tuple[float, int, float]] = {}  # name -> best (wall, docs, cpu)
        alone = [float("inf"), float("inf")]
        py = None if args.skip_datatrove else ensure_datatrove()
        counters: dict = {}
        for _ in range(args.runs):  # interleaved, so every tool sees the same machine load
            for extractor in ("trafilatura", "resiliparse"):
                name = f"corpuskit ingest, {extractor}"
                run = run_corpuskit(warc_dir, tmp_p / f"ck-{extractor}", args.workers, extractor)
                rows[name] = _best(rows.get(name), run)
            if py is not None:
                wall, docs, cpu, counters = run_datatrove(py, warc_dir, tmp_p / "dt", args.workers, n_files)
                rows[DT] = _best(rows.get(DT), (wall, docs, cpu))
            alone = [min(a, b) for a, b in zip(alone, trafilatura_alone(n_files, args.repeat), strict=True)]
        print(
            f"\n{'pipeline':<36}{'wall s':>8}{'docs out':>9}{'pages/s':>9}{'MB/s':>7}{'CPU s':>8}"
            f"{'pages/CPU-s':>13}"
        )
        for name, (wall, docs, cpu) in rows.items():
            line = f"{name:<36}{wall:>8.2f}{docs:>9}{n_docs / wall:>9.1f}{html_bytes / 1e6 / wall:>7.2f}"
            print(line + f"{cpu:>8.2f}{n_docs / cpu:>13.1f}")
        for name, cpu in zip(ALONE, alone, strict=True):
            print(f"{name + ' (no I/O, 1 process)':<69}{cpu:>8.2f}{n_docs / cpu:>13.1f}")
        print(f"corpuskit skip reasons (last run): {_SKIPS}")
        ck = rows["corpuskit ingest, trafilatura"][2]
        if DT in rows:
            print(f"datatrove counters (last run): {counters}")
            print(equal_work(tmp_p / "ck-trafilatura", tmp_p / "dt"))
            dt = rows[DT]
            for name, (wall, _, cpu) in rows.items():
                if name.startswith("corpuskit"):
                    print(
                        f"ratio {name} / datatrove (pages/s) at {args.workers} worker(s): "
                        f"{dt[0] / wall:.2f}x wall, {dt[2] / cpu:.2f}x CPU time"
                    )
            print(
                f"ceiling for any pipeline calling trafilatura.extract(str): {dt[2] / alone[0]:.2f}x "
                f"datatrove CPU; calling it on corpuskit's tree: {dt[2] / alone[1]:.2f}x"
            )
        print(
            f"trafilatura.extract(tree) is {alone[1] / ck:.0%} of corpuskit's trafilatura CPU time (the "
            "rest: WARC parsing, gunzip, decoding, writing Parquet, worker start-up)"
        )
        print(
            "pages/s and MB/s count input pages and HTML bytes per second (all records read); best of "
            f"{args.runs} interleaved runs; CPU s: CPU time of the run and its worker processes, worker "
            "start-ups included (datatrove's less its main-process import start-up; corpuskit runs in the "
            f"warm benchmark process); {os.cpu_count()} cores shared with other jobs (noisy)"
        )


def equal_work(ck_dir: Path, dt_dir: Path) -> str:
    """Which pages each tool emitted, and whether the texts agree, from the last runs' outputs."""
    import polars as pl

    ck = pl.concat([pl.read_parquet(f, columns=["url", "text"]) for f in ck_dir.rglob("part-*.parquet")])
    ck_text = dict(zip(ck["url"], ck["text"], strict=True))
    dt_text = {}
    for f in (dt_dir / "out").glob("*.jsonl.gz"):
        for line in gzip.open(f, "rt", encoding="utf-8"):
            d = json.loads(line)
            dt_text[d["metadata"]["url"]] = d["text"]
    both = ck_text.keys() & dt_text.keys()
    same = sum(ck_text[u].strip() == dt_text[u].strip() for u in both)
    only_ck, only_dt = sorted(ck_text.keys() - dt_text.keys()), sorted(dt_text.keys() - ck_text.keys())
    return (
        f"equal work: {len(both)} pages emitted by both tools, text identical on {same}/{len(both)}; "
        f"only corpuskit: {len(only_ck)} {only_ck[:5]}; only datatrove: {len(only_dt)} {only_dt[:5]}"
    )


def _best(old: tuple[float, int, float] | None, new: tuple[float, int, float]) -> tuple[float, int, float]:
    """Best wall and best CPU time over runs (each is a lower bound of the same work)."""
    return new if old is None else (min(old[0], new[0]), new[1], min(old[2], new[2]))


# ------------------------------------------------------------------------------------------------ quality

_TOKEN = re.compile(r"\w+")


def prf(pred: str, truth: str) -> tuple[float, float, float]:
    p, t = Counter(_TOKEN.findall(pred.lower())), Counter(_TOKEN.findall(truth.lower()))
    common = sum((p & t).values())
    precision = common / sum(p.values()) if p else (1.0 if not t else 0.0)
    recall = common / sum(t.values()) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def snippets(pred: str, with_: list[str], without: list[str]) -> tuple[int, int, int, int]:
    norm = " ".join(pred.split())
    tp = sum(1 for s in with_ if " ".join(s.split()) in norm)
    fp = sum(1 for s in without if " ".join(s.split()) in norm)
    return tp, len(with_) - tp, fp, len(without) - fp


def extract_folder(folder: Path, mode: str) -> dict[str, str]:
    """file name -> text, in the connector's file order, for one extraction mode."""
    from trafilatura import extract
    from trafilatura.deduplication import LRUCache
    from trafilatura.settings import LRU_SIZE

    from corpuskit.connectors.base import Record
    from corpuskit.connectors.html import HtmlConnector
    from corpuskit.connectors.pagetext import Extractor, WebOptions, decode_html

    if mode.startswith("corpuskit"):
        extractor = mode.split(":", 1)[1]
        out = HtmlConnector(WebOptions(extractor=extractor)).read(folder, str(folder))
        return {r.locator.removeprefix("file="): (r.text if isinstance(r, Record) else "") for r in out}
    # trafilatura directly: same settings, same order, one dedup cache as in one input shard; given the
    # page decoded as the connector decodes it, or the raw bytes (trafilatura's own charset guess)
    settings = Extractor(WebOptions()).settings()
    settings["deduplicate"] = LRUCache(maxsize=LRU_SIZE)
    out = {}
    for f in sorted(folder.glob("*.html.gz")):
        body = gzip.decompress(f.read_bytes())
        decoded = decode_html(body) if mode == "trafilatura direct" else (body, "")
        out[f.name] = (extract(decoded[0], **settings) or "") if decoded else ""
    return out


def quality() -> None:
    gt = json.loads((DATA / "extraction_scrapinghub/ground-truth.json").read_text())
    ev = json.loads((DATA / "extraction_trafilatura/evaldata_subset.json").read_text())
    modes = [
        "corpuskit:trafilatura",
        "trafilatura direct",
        "trafilatura on raw bytes",
        "corpuskit:resiliparse",
    ]
    texts_sh = {m: extract_folder(DATA / "extraction_scrapinghub/html", m) for m in modes}
    texts_ev = {m: extract_folder(DATA / "extraction_trafilatura/eval", m) for m in modes}
    print(f"\nextraction quality ({len(gt)} ScrapingHub pages: token P/R/F1 vs articleBody, mean over pages;")
    print(f" {len(ev)} trafilatura-eval pages: snippet P/R/F1 over all 'with'/'without' snippets)")
    print(f"{'extraction':<26}{'SH prec':>8}{'SH rec':>8}{'SH F1':>8}{'TE prec':>9}{'TE rec':>8}{'TE F1':>8}")
    for m in modes:
        scores = [prf(texts_sh[m].get(f"{k}.html.gz", ""), gt[k]["articleBody"]) for k in sorted(gt)]
        p, r, f = (statistics.mean(x) for x in zip(*scores, strict=True))
        tp = fn = fp = 0
        for e in ev.values():
            a, b, c, _ = snippets(texts_ev[m].get(e["file"] + ".gz", ""), e["with"], e["without"])
            tp, fn, fp = tp + a, fn + b, fp + c
        tp_p, tp_r = tp / (tp + fp), tp / (tp + fn)
        tf = 2 * tp_p * tp_r / (tp_p + tp_r)
        print(f"{m:<26}{p:>8.3f}{r:>8.3f}{f:>8.3f}{tp_p:>9.3f}{tp_r:>8.3f}{tf:>8.3f}")
    total = len(texts_sh[modes[0]]) + len(texts_ev[modes[0]])
    for other, note in [
        ("trafilatura direct", "the same decoded page"),
        (
            "trafilatura on raw bytes",
            "the page bytes, decoded by trafilatura (differs where a page declares "
            "ISO-8859-1 and uses bytes 0x80-0x9F: corpuskit decodes those as windows-1252, as browsers do)",
        ),
    ]:
        same = sum(
            texts["corpuskit:trafilatura"].get(k) == texts[other].get(k)
            for texts in (texts_sh, texts_ev)
            for k in texts["corpuskit:trafilatura"]
        )
        print(
            f"corpuskit:trafilatura output identical to trafilatura.extract on {note}: {same}/{total} pages"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=1, help="times each page appears in the input")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"sample data not found at {DATA}")
    if not args.skip_throughput:
        throughput(args)
    if not args.skip_quality:
        quality()


if __name__ == "__main__":
    main()
