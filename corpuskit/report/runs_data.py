"""What the report shows of mixtures and ablations, read from their folders: each mixture's
``manifest.json``; an ablation's ``summary.json``, ``timings.json`` and ``runs/<mixture>/seed-<s>/curve.csv``.

Read tolerantly: a field added later is ignored, a missing optional one leaves its part of the page out,
so the report keeps working while those outputs grow.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from corpuskit.store import read_json


def mixture_folders(paths: list[Path]) -> list[Path]:
    """Each path is a mixture folder (has ``manifest.json``) or a study folder holding mixture folders."""
    out: list[Path] = []
    for p in paths:
        if (p / "manifest.json").is_file():
            out.append(p)
        elif p.is_dir():
            out += sorted(c for c in p.iterdir() if c.is_dir() and (c / "manifest.json").is_file())
    return out


def gather_mixtures(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for folder in mixture_folders(paths):
        m = read_json(folder / "manifest.json")
        if not isinstance(m, dict) or not isinstance(m.get("sources"), dict):
            continue
        asked = _normalised(m.get("weights_requested") or m.get("weights") or {})
        total = sum(int(s.get("tokens", 0) or 0) for s in m["sources"].values())
        rows = []
        for name in sorted(set(asked) | set(m["sources"])):
            s = m["sources"].get(name, {})
            tokens = int(s.get("tokens", 0) or 0)
            rows.append(
                {
                    "source": name,
                    "asked": asked.get(name, 0.0),
                    "realised": tokens / total if total else 0.0,
                    "tokens": tokens,
                    "available_tokens": s.get("available_tokens"),
                    "epochs": s.get("epochs"),
                    "documents": s.get("documents"),
                    "unique_documents": s.get("unique_documents"),
                    "decontaminated_documents": s.get("decontaminated_documents"),
                }
            )
        heldout = m.get("heldout") if isinstance(m.get("heldout"), dict) else {}
        decon = m.get("decontamination") if isinstance(m.get("decontamination"), dict) else {}
        out.append(
            {
                "name": str(m.get("name") or folder.name),
                "folder": str(folder),
                "tokens_requested": m.get("tokens_requested"),
                "tokens": total,
                "tokenizer": (m.get("tokenizer") or {}).get("path")
                if isinstance(m.get("tokenizer"), dict)
                else None,
                "sources": rows,
                "heldout": {k: v for k, v in heldout.items() if isinstance(v, dict)},
                "decontamination": decon,
                "warnings": [str(w) for w in m.get("warnings", []) if w],
            }
        )
    return out


def _normalised(weights: dict[str, Any]) -> dict[str, float]:
    w = {k: float(v) for k, v in weights.items() if isinstance(v, int | float) and v >= 0}
    total = sum(w.values())
    return {k: v / total for k, v in w.items()} if total else w


def gather_ablations(paths: list[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """Ablations with a ``summary.json``; notes for folders without one."""
    out, notes = [], []
    for folder in paths:
        summary = read_json(folder / "summary.json")
        if not isinstance(summary, dict) or not isinstance(summary.get("mixtures"), dict):
            notes.append(f"{folder}: no summary.json (has `corpuskit ablate` finished there?)")
            continue
        timings = read_json(folder / "timings.json")
        out.append(
            {
                "folder": str(folder),
                "summary": summary,
                "timings": timings if isinstance(timings, dict) else {},
                "curves": _curves(folder, summary),
            }
        )
    return out, notes


def _curves(folder: Path, summary: dict[str, Any]) -> dict[str, tuple[list[float], list[float]]]:
    """Run label ``mixture/seed-s`` -> (tokens, loss), for every run whose curve.csv is there."""
    out = {}
    for name, m in summary["mixtures"].items():
        for seed in m.get("seeds", []) if isinstance(m, dict) else []:
            path = folder / "runs" / str(name) / f"seed-{seed}" / "curve.csv"
            if not path.is_file():
                continue
            xs, ys = [], []
            with path.open(newline="") as f:
                for row in csv.DictReader(f):
                    try:
                        x, y = float(row.get("tokens") or row["step"]), float(row["loss"])
                    except (KeyError, TypeError, ValueError):
                        continue
                    if math.isfinite(x) and math.isfinite(y):
                        xs.append(x)
                        ys.append(y)
            if xs:
                out[f"{name}/seed-{seed}"] = (xs, ys)
    return out
