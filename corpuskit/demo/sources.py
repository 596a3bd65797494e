"""The demo's three sources (books, forums, web): their configs for the generated sample or for real files,
with the curation rules each kind of text needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpuskit.configs import ConfigError
from corpuskit.demo.data import write_demo_inputs


def demo_sources(data: Path | None, out: Path, scale: float = 1.0) -> tuple[dict[str, dict[str, Any]], str]:
    """Source configs (name -> kind, inputs, curate rules) for real files in ``data`` or, without it, for a
    sample generated into ``out/inputs``; and a line saying which."""
    if data is None:
        paths = write_demo_inputs(out / "inputs", scale=scale)
        # Generated text repeats its templates by construction, which the Gopher repetition and FineWeb
        # duplicate-line rules rightly flag as low quality; its numbers and quotes also sit just under
        # Gopher's 80% alphabetic-word ratio. Real data (--data) keeps every published default.
        generated_curate = {
            "filters": ["gopher_quality", "c4"],
            "gopher_quality": {"max_non_alpha_words_ratio": 0.7},
        }
        return {
            "books": {
                "kind": "gutenberg",
                "inputs": [str(paths["books"] / "*.txt")],
                "curate": generated_curate,
            },
            "forums": {
                "kind": "stackexchange",
                "inputs": [str(paths["forums"] / "coffee.example.com_Posts.xml")],
                "curate": generated_curate,
            },
            "web": {"kind": "html", "inputs": [str(paths["web"])], "curate": generated_curate},
        }, "generated sample (offline)"
    data = data.resolve()
    need = {
        "books": data / "books",
        "forums": data / "forums" / "stackexchange",
        "web": data / "web" / "extraction_scrapinghub" / "html",
    }
    missing = [str(p) for p in need.values() if not p.exists()]
    if missing:
        raise ConfigError(f"--data {data}: expected the shared sample layout; missing {', '.join(missing)}")
    # Per-source rules as in sources/books.yaml and sources/forums.yaml: books are long, multilingual and
    # dialogue-heavy (Gopher's 100k-word cap and alphabetic-word ratio drop whole novels), threads are
    # short; web pages get every published default.
    return {
        "books": {
            "kind": "gutenberg",
            "inputs": [str(need["books"] / "*.txt")],
            "curate": {"langid": {"languages": None, "min_score": 0.5}, "filters": ["gopher_repetition"]},
        },
        "forums": {
            "kind": "stackexchange",
            "inputs": [str(need["forums"] / "*Posts.xml")],
            "curate": {
                "filters": ["gopher_repetition", "gopher_quality"],
                "gopher_quality": {"min_doc_words": 30},
            },
        },
        "web": {"kind": "html", "inputs": [str(need["web"])]},
    }, f"real samples from {data}"
