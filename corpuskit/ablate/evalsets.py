"""Which text an ablation scores: every source's held-out set from the mixtures plus external files, each
capped by a byte budget sized to the model preset, so evaluation stays a small share of a run.

Held-out sets must be identical across the mixtures (checked by hash); a plain-text file is cut into
documents at blank lines (:func:`corpuskit.text.split_documents`) rather than scored as one giant document.
A budget keeps documents in their order and cuts the last one at a character boundary.
"""

from __future__ import annotations

import json
from pathlib import Path

from corpuskit.ablate.config import AblationConfig
from corpuskit.ablate.evaluate import EvalSet
from corpuskit.config import ConfigError
from corpuskit.mix import Mixture
from corpuskit.text import split_documents


def load_jsonl_set(name: str, path: Path, max_documents: int | None = None) -> EvalSet:
    """An eval set from a JSONL file of ``{"id", "text"}`` (the mixture's held-out format)."""
    ids, texts = [], []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            row = json.loads(line)
            if not row.get("text"):
                continue
            ids.append(str(row.get("id", i)))
            texts.append(row["text"])
            if max_documents and len(texts) >= max_documents:
                break
    return EvalSet(name, ids, texts)


def load_text_set(name: str, path: Path, max_documents: int | None = None, doc_bytes: int = 4096) -> EvalSet:
    """An external plain-text file as an eval set: documents of ~``doc_bytes`` cut at blank lines."""
    docs = split_documents(Path(path).read_text(encoding="utf-8", errors="replace"), doc_bytes)
    if max_documents:
        docs = docs[:max_documents]
    return EvalSet(name, [f"{name}-{i}" for i in range(len(docs))], docs)


def head_bytes(text: str, n: int) -> str:
    """The first ``n`` UTF-8 bytes of ``text``, never cutting a character in half."""
    return text.encode("utf-8")[:n].decode("utf-8", errors="ignore")


def within_budget(s: EvalSet, budget: int | None) -> EvalSet:
    """The documents of ``s`` in order up to ``budget`` UTF-8 bytes in all (the last one cut to fit)."""
    if budget is None or s.bytes <= budget:
        return s
    ids, texts, used = [], [], 0
    for i, t in zip(s.ids, s.texts, strict=True):
        if used >= budget:
            break
        t = head_bytes(t, budget - used)
        if t:
            ids.append(i)
            texts.append(t)
            used += len(t.encode("utf-8"))
    return EvalSet(s.name, ids, texts)


def heldout_sets(mixtures: dict[str, Mixture], limit: int | None) -> list[EvalSet]:
    seen: dict[str, tuple[str, Path]] = {}
    for name, m in mixtures.items():
        for src, info in sorted((m.manifest.get("heldout") or {}).items()):
            p = Path(info["path"])
            p = p if p.is_absolute() else m.path / p
            h = str(info.get("hash", ""))
            if src in seen and seen[src][0] != h:
                raise ConfigError(
                    f"mixture {name!r} has a different held-out set for source {src!r} than the others; "
                    "build every mixture of an ablation from the same corpus and held-out settings"
                )
            seen.setdefault(src, (h, p))
    return [load_jsonl_set(src, seen[src][1], limit) for src in sorted(seen)]


def eval_sets(cfg: AblationConfig, mixtures: dict[str, Mixture]) -> list[EvalSet]:
    """Held-out sets of every source + external files, each within the eval byte budget."""
    ev = cfg.eval
    sets = heldout_sets(mixtures, ev.max_documents) if ev.heldout else []
    for name, p in sorted(ev.files.items()):
        path = cfg.resolve(p)
        if not path.exists():
            raise ConfigError(f"eval.files.{name}: {path} not found")
        if path.suffix == ".jsonl":
            sets.append(load_jsonl_set(name, path, ev.max_documents))
        else:
            sets.append(load_text_set(name, path, ev.max_documents, ev.text_document_bytes))
    if ev.max_document_bytes:
        sets = [EvalSet(s.name, s.ids, [head_bytes(t, ev.max_document_bytes) for t in s.texts]) for s in sets]
    budget = ev.bytes_per_set(cfg.model.preset)
    sets = [within_budget(s, budget) for s in sets]
    sets = [s for s in sets if s.texts]
    if not sets:
        raise ConfigError("no eval documents: the mixtures have no held-out sets and eval.files is empty")
    return sets
