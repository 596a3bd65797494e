"""Language-ID accuracy and speed on the labelled lingua test data in ../shared/data/langid.

Prints accuracy per language and overall on sentences, on word pairs and on single words (where short
texts fail), accuracy by text length, documents/s, and checks that corpuskit's wrapper returns exactly
what a direct call of the fastText model returns (no loss from wrapping).

usage: .venv/bin/python benchmarks/langid.py [--model PATH]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

from corpuskit.curate.langid import LangId, _load

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "langid"
# lingua file names that lid.176 labels differently
ALIASES = {"nb": "no"}


def load(kind: str) -> dict[str, list[str]]:
    out = {}
    for p in sorted((DATA / kind).glob("*.txt")):
        out[p.stem] = [x for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=None)
    a = ap.parse_args()
    lid = LangId(a.model)
    direct = lid._f  # the fastText binding itself
    print(f"model: {lid.model_path} ({lid.model_path.stat().st_size / 1e6:.1f} MB)")
    known = {label.removeprefix("__label__") for label in _load(str(lid.model_path)).get_labels()}

    for kind in ["lingua_sentences", "lingua_word_pairs", "lingua_single_words"]:
        data = load(kind)
        n = sum(len(v) for v in data.values())
        correct, per_lang, mismatches = 0, {}, 0
        by_len: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        t0 = time.perf_counter()
        preds = {lang: [lid.predict(s, 1) for s in texts] for lang, texts in data.items()}
        secs = time.perf_counter() - t0
        for lang, texts in data.items():
            want = ALIASES.get(lang, lang)
            ok = 0
            for s, pred in zip(texts, preds[lang], strict=True):
                got = pred[0][0] if pred else None
                hit = got == want
                ok += hit
                bucket = (
                    "<20" if len(s) < 20 else "20-49" if len(s) < 50 else "50-99" if len(s) < 100 else ">=100"
                )
                by_len[bucket][0] += hit
                by_len[bucket][1] += 1
                if kind == "lingua_sentences":  # wrapper == direct model call, exactly
                    (p, label), *_ = direct.predict(s.replace("\n", " ") + "\n", 1, 0.0, "strict")
                    mismatches += (label.removeprefix("__label__"), p) != (pred[0][0], pred[0][1])
            per_lang[lang] = ok / len(texts)
            correct += ok
        sup = [la for la in data if ALIASES.get(la, la) in known]
        sup_acc = sum(per_lang[la] * len(data[la]) for la in sup) / sum(len(data[la]) for la in sup)
        rate = n / secs
        print(
            f"\n{kind}: {n:,} texts, {len(data)} languages; accuracy {correct / n:.2%}; {rate:,.0f} texts/s"
        )
        print(f"  accuracy on the {len(sup)} languages the model knows: {sup_acc:.2%}")
        print(
            "  by length (chars): "
            + ", ".join(f"{b} {c / t:.1%} (n={t})" for b, (c, t) in sorted(by_len.items()))
        )
        worst = sorted(((la, per_lang[la]) for la in sup), key=lambda kv: kv[1])[:8]
        print("  weakest known languages: " + ", ".join(f"{la} {acc:.0%}" for la, acc in worst))
        print("  not in the model's labels: " + ", ".join(sorted(set(data) - set(sup))))
        if kind == "lingua_sentences":
            print("  per language: " + ", ".join(f"{la} {acc:.0%}" for la, acc in sorted(per_lang.items())))
            print(f"  wrapper vs direct fastText call: {mismatches} differences in {n:,}")

    docs = [" ".join(v[i : i + 20]) for v in load("lingua_sentences").values() for i in range(0, len(v), 20)]
    t0 = time.perf_counter()
    lid.frame(docs)
    secs = time.perf_counter() - t0
    mb = sum(len(d.encode()) for d in docs) / 1e6
    rate = len(docs) / secs
    print(f"\ndocuments (20 sentences each): {len(docs):,} docs, {mb:.1f} MB: {rate:,.0f} docs/s, 1 process")


if __name__ == "__main__":
    main()
