"""Do other tools read corpuskit's outputs as written? Runs the real tools in a throwaway venv and prints
one line per check (pass/fail).

    python benchmarks/interop.py --corpus corpuskit-demo/corpus [--mixture DIR] [--venv /tmp/interop]

Checks: ``dolma tag``, ``dolma dedupe`` and ``dolma mix`` on ``corpuskit export --format dolma``;
datatrove's ``JsonlReader`` (defaults) on ``export --format datatrove`` and on the Dolma export;
Hugging Face ``datasets.load_dataset("parquet")`` on ``export --format parquet`` for all sources at once;
``transformers.AutoTokenizer.from_pretrained`` on a tokenizer folder trained by corpuskit; with
``--mixture``, the Megatron export's ``.idx`` header. Three throwaway venvs (``<venv>-dolma`` with ``dolma``,
``<venv>-hf`` with ``datasets`` and ``transformers``: dolma pins an older numpy/tokenizers;
``<venv>-datatrove``) are filled from
PyPI on the first run (a few minutes); corpuskit itself runs from this checkout's environment.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}  {detail}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--mixture", type=Path)
    ap.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "corpuskit-interop")
    args = ap.parse_args()
    # two venvs: dolma pins old numpy/tokenizers that the Hugging Face libraries no longer accept
    dolma_venv, hf_venv = Path(f"{args.venv}-dolma"), Path(f"{args.venv}-hf")
    dt_venv = Path(f"{args.venv}-datatrove")
    venvs = (
        (dolma_venv, ["dolma"]),
        (hf_venv, ["datasets", "transformers"]),
        (dt_venv, ["datatrove", "orjson"]),
    )
    for venv, pkgs in venvs:
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pkgs], check=True)
    py = hf_venv / "bin" / "python"
    work = Path(tempfile.mkdtemp(prefix="interop-"))
    cli = [sys.executable, "-m", "corpuskit.cli", "-q"]

    # Dolma: export as written, then tag, dedupe and mix with the real dolma CLI
    r = run([*cli, "export", str(args.corpus), "--out", str(work / "dolma")])
    check("corpuskit export --format dolma", r.returncode == 0, r.stderr.strip()[-200:])
    dolma = str(dolma_venv / "bin" / "dolma")
    sources = sorted(p.parent.name for p in (work / "dolma").glob("*/documents"))
    for s in sources:
        docs = f"{work}/dolma/{s}/documents/*.jsonl.gz"
        r = run([dolma, "tag", "--documents", docs, "--experiment", "t", "--taggers", "random_number_v1",
                 "--processes", "1"], cwd=work)  # fmt: skip
        check(
            f"dolma tag ({s})", r.returncode == 0, r.stderr.strip().splitlines()[-1][:200] if r.stderr else ""
        )
    r = run([dolma, "dedupe", "--documents", f"{work}/dolma/*/documents/*.jsonl.gz", "--dedupe.name", "dups",
             "--dedupe.paragraphs.attribute_name", "bff_duplicate_paragraph_spans", "--dedupe.skip_empty",
             "--bloom_filter.file", str(work / "bloom.bin"), "--no-bloom_filter.read_only",
             "--bloom_filter.estimated_doc_count", "1000000", "--bloom_filter.desired_false_positive_rate",
             "0.0001", "--processes", "1"], cwd=work)  # fmt: skip
    check("dolma dedupe (all sources)", r.returncode == 0, r.stderr.strip()[-200:] if r.returncode else "")
    (work / "mix.yaml").write_text(
        textwrap.dedent(f"""\
        streams:
          - name: corpuskit
            documents: [{", ".join(f"'{work}/dolma/{s}/documents/*.jsonl.gz'" for s in sources)}]
            attributes: [dups]
            output: {{path: '{work}/mixed', max_size_in_bytes: 1000000000}}
            filter:
              exclude: ["$.attributes[?(@.bff_duplicate_paragraph_spans && @.bff_duplicate_paragraph_spans[0]
                         && @.bff_duplicate_paragraph_spans[0][2] >= 1.0)]"]
        processes: 1
        """)
    )
    r = run([dolma, "-c", str(work / "mix.yaml"), "mix"], cwd=work)
    mixed = sum(1 for f in glob.glob(f"{work}/mixed/*.gz") for _ in gzip.open(f))
    check("dolma mix", r.returncode == 0 and mixed > 0, f"{mixed} documents mixed")

    # Hugging Face datasets: the Parquet export of every source in one load
    r = run([*cli, "export", str(args.corpus), "--out", str(work / "pq"), "--format", "parquet"])
    code = (
        "import datasets; ds = datasets.load_dataset('parquet', data_files={'train': '"
        f"{work}/pq/*/*.parquet'}}, split='train'); print(len(ds), sorted(set(ds['source'])))"
    )
    r = run(
        [str(py), "-c", code], env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PATH": "/usr/bin"}
    )
    check("datasets.load_dataset(parquet, all sources)", r.returncode == 0, r.stdout.strip()[-200:])

    # datatrove: JsonlReader with its defaults on `export --format datatrove` (and on the Dolma export)
    r = run([*cli, "export", str(args.corpus), "--out", str(work / "dt"), "--format", "datatrove"])
    check("corpuskit export --format datatrove", r.returncode == 0, r.stderr.strip()[-200:])
    for name, folder, pattern in (
        ("datatrove", "dt", "*/*.jsonl.gz"),
        ("dolma", "dolma", "*/documents/*.gz"),
    ):
        code = (
            "from datatrove.pipeline.readers import JsonlReader\n"
            f"docs = list(JsonlReader('{work}/{folder}', glob_pattern='{pattern}')())\n"
            "assert docs and all(d.text and d.id and isinstance(d.metadata, dict) for d in docs)\n"
            "print(len(docs), 'documents', sorted({d.metadata['source'] for d in docs}))"
        )
        r = run([str(dt_venv / "bin" / "python"), "-c", code])
        check(
            f"datatrove JsonlReader ({name} export)", r.returncode == 0, (r.stdout or r.stderr).strip()[-200:]
        )

    # transformers: a tokenizer folder trained by corpuskit
    tok = work / "tok" / "tokenizer.json"
    r = run([*cli, "tokenizer", "train", "--corpus", str(args.corpus), "--out", str(tok),
             "--vocab-size", "1000", "--sample-bytes", "2M"])  # fmt: skip
    check("corpuskit tokenizer train", r.returncode == 0, r.stderr.strip()[-200:])
    code = (
        "from transformers import AutoTokenizer; t = AutoTokenizer.from_pretrained('"
        f"{work}/tok'); assert t.eos_token == '<|endoftext|>'; print(t.decode(t.encode('the river')))"
    )
    r = run([str(py), "-c", code], env={**os.environ, "HF_HUB_OFFLINE": "1"})
    check(
        "transformers AutoTokenizer.from_pretrained(folder)", r.returncode == 0, (r.stdout or r.stderr)[-200:]
    )

    if args.mixture:
        r = run([*cli, "export-tokens", str(args.mixture), "--out", str(work / "meg/mix")])
        ok = r.returncode == 0 and (work / "meg/mix.idx").read_bytes()[:9] == b"MMIDIDX\x00\x00"
        check("export-tokens --format megatron (.idx header)", ok, r.stderr.strip()[-200:])

    failed = [n for n, ok, _ in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} interop checks passed; outputs in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
