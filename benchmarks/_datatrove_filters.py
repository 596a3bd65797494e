"""Runs INSIDE the datatrove peer venv (/tmp/dt): datatrove's LanguageFilter + the four quality filters.

Called by ``benchmarks/curate.py`` (never imported by corpuskit). Reads JSONL {id, text}, writes JSONL with
each filter's decision (null = kept, else the reason) made on the ORIGINAL text of the document (C4 rewrites
``doc.text`` in datatrove; each filter gets a fresh copy so decisions are per filter, as ours are), plus
timings: ``wall_s`` from the moment every worker is initialised (filters built, models loaded) to the last
result, ``cpu_s`` the CPU seconds of that work summed over workers, ``startup_s`` for the worker start and
initialisation before it. Filters run one after another per document, as in a datatrove pipeline, so the
spaCy word-split cache (``split_into_parts`` lru_cache) helps datatrove exactly as it does in real use.

usage: python _datatrove_filters.py IN.jsonl OUT.jsonl --model lid.176.ftz [--workers N] [--tokens]
"""

import argparse
import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

FILTERS = ["langid", "gopher_repetition", "gopher_quality", "c4", "fineweb"]


def _make_filters(model_path):
    import datatrove.utils.lid as lid
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )

    lid.cached_asset_path_or_download = lambda *a, **k: model_path  # offline: same model file as corpuskit
    return {
        "langid": LanguageFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "gopher_quality": GopherQualityFilter(),
        "c4": C4QualityFilter(),
        "fineweb": FineWebQualityFilter(),
    }


_FILTERS = {}
_BARRIER = None


def _init(model_path, barrier=None):
    """Per worker, before the timed region: build the filters and run one document through each, so the
    LID model and spaCy's tokenizer are loaded (as corpuskit's workers are warmed)."""
    global _BARRIER
    from datatrove.data import Document

    _FILTERS.update(_make_filters(model_path))
    _BARRIER = barrier
    for f in _FILTERS.values():
        try:
            f.filter(Document(text="Warm up the models once. " * 20, id="warm", metadata={}))
        except Exception:
            pass


def _ready(_):
    _BARRIER.wait(timeout=600)  # one call per worker: each holds here until all are initialised


def _run_chunk(args):
    rows, want_tokens = args
    from datatrove.data import Document
    from datatrove.utils.text import split_into_words

    filters = _FILTERS
    cpu0 = time.process_time()
    out, seconds = [], dict.fromkeys(FILTERS, 0.0)
    for r in rows:
        rec = {"id": r["id"]}
        for name, f in filters.items():
            doc = Document(text=r["text"], id=r["id"], metadata={})
            t0 = time.perf_counter()
            try:
                res = f.filter(doc)
            except Exception as e:  # datatrove raises on some inputs (e.g. zero words): count as a drop
                res = (False, f"error:{type(e).__name__}")
            seconds[name] += time.perf_counter() - t0
            keep, reason = (res, None) if not isinstance(res, tuple) else res
            rec[name] = None if keep else (reason or "dropped")
            if name == "langid":
                rec["lang"], rec["lang_score"] = doc.metadata["language"], doc.metadata["language_score"]
        if want_tokens:
            rec["words"] = split_into_words(r["text"])
        out.append(rec)
    return out, seconds, time.process_time() - cpu0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--model", required=True)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--tokens", action="store_true")
    a = ap.parse_args()
    with open(a.inp, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    n = max(1, a.workers)
    chunks = [(rows[i::n], a.tokens) for i in range(n)]
    t_start = time.perf_counter()
    if n == 1:
        _init(a.model)
        t0 = time.perf_counter()
        results = [_run_chunk(chunks[0])]
        wall = time.perf_counter() - t0
    else:
        barrier = multiprocessing.Barrier(n)
        with ProcessPoolExecutor(n, initializer=_init, initargs=(a.model, barrier)) as pool:
            list(pool.map(_ready, range(n)))
            t0 = time.perf_counter()
            results = list(pool.map(_run_chunk, chunks))
            wall = time.perf_counter() - t0
    startup = t0 - t_start
    seconds = dict.fromkeys(FILTERS, 0.0)
    with open(a.out, "w", encoding="utf-8") as f:
        for recs, secs, _ in results:
            for k, v in secs.items():
                seconds[k] += v
            for rec in recs:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {
                "documents": len(rows),
                "workers": n,
                "wall_s": wall,
                "startup_s": startup,
                "cpu_s": sum(r[2] for r in results),
                "filter_cpu_s": seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
