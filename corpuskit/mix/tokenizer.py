"""Tokenizers shared by every mixture of a study: byte-level (256 + special) or HF `tokenizers` BPE.

All mixtures compared in one ablation must use one tokenizer; its ``hash`` goes into every manifest.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

EOT = "<|endoftext|>"


class Tokenizer(Protocol):
    eot_id: int
    vocab_size: int
    hash: str

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...

    def decode(self, ids: list[int]) -> str: ...

    def save(self, path: Path) -> None: ...


class ByteTokenizer:
    """UTF-8 bytes as tokens 0..255 and ``<|endoftext|>`` as 256: no training, exact byte accounting."""

    eot_id = 256
    vocab_size = 257
    hash = hashlib.sha256(b"corpuskit-byte-tokenizer-v1").hexdigest()[:16]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [list(t.encode("utf-8")) for t in texts]

    def encode_array(self, text: str) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)

    def encode_concat(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All texts' tokens in one flat array plus each text's token count (no per-token Python)."""
        data = "".join(texts).encode("utf-8")
        lengths = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts))
        return np.frombuffer(data, dtype=np.uint8).astype(np.uint32), lengths

    def decode(self, ids: list[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"type": "corpuskit-bytes", "version": 1}) + "\n")


class HFTokenizer:
    """A `tokenizers` tokenizer.json; the end-of-text token must be in its vocabulary."""

    def __init__(self, path: Path | str):
        from tokenizers import Tokenizer as _Tok

        self.path = Path(path)
        raw = self.path.read_bytes()
        self._tok = _Tok.from_str(raw.decode("utf-8"))
        eot = self._tok.token_to_id(EOT)
        if eot is None:
            raise ValueError(f"{self.path}: tokenizer has no {EOT} token; add it as a special token")
        self.eot_id = int(eot)
        self.vocab_size = int(self._tok.get_vocab_size(with_added_tokens=True))
        self.hash = hashlib.sha256(raw).hexdigest()[:16]

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch_fast(texts, add_special_tokens=False)]

    def encode_concat(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """All texts' tokens in one flat array plus each text's token count (batch runs on all cores)."""
        ids = self.encode_batch(texts)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.uint32, count=int(lengths.sum()))
        return flat, lengths

    def decode(self, ids: list[int]) -> str:
        return self._tok.decode(ids, skip_special_tokens=True)

    def save(self, path: Path) -> None:
        Path(path).write_bytes(self.path.read_bytes())


def load_tokenizer(spec: str | Path) -> ByteTokenizer | HFTokenizer:
    """``"bytes"`` or a path to a tokenizer.json (or a corpuskit byte-tokenizer marker file)."""
    if str(spec) == "bytes":
        return ByteTokenizer()
    p = Path(spec)
    if not p.exists():
        raise FileNotFoundError(f"tokenizer {spec!r} not found: give 'bytes' or a tokenizer.json path")
    head = p.read_text(encoding="utf-8")[:200]
    if '"corpuskit-bytes"' in head:
        return ByteTokenizer()
    return HFTokenizer(p)


# ---------------------------------------------------------------------------------------------- training


def train_bpe(
    texts: Iterable[str], vocab_size: int, out_path: Path, *, min_frequency: int = 2
) -> HFTokenizer:
    """Train a GPT-2 style byte-level BPE (all 256 bytes in the base alphabet, so nothing is unknown).

    ``<|endoftext|>`` is the only special token (id 0). The tokenizer.json is written atomically and
    its SHA-256 prefix is the tokenizer's ``hash``, recorded by every mixture that uses it.
    """
    from tokenizers import Tokenizer as _Tok
    from tokenizers import decoders, models, pre_tokenizers, trainers

    from corpuskit.store.atomic import atomic_write_bytes

    if vocab_size < 257 + 1:
        raise ValueError(f"vocab_size must be >= 258 (256 bytes, end-of-text, merges), got {vocab_size}")
    tok = _Tok(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    out_path = Path(out_path)
    atomic_write_bytes(out_path, tok.to_str().encode("utf-8"))
    write_hf_folder_files(out_path)
    return HFTokenizer(out_path)


HF_CONFIG = "tokenizer_config.json"
HF_SPECIAL = "special_tokens_map.json"


def write_hf_folder_files(tokenizer_json: Path) -> None:
    """``tokenizer_config.json`` and ``special_tokens_map.json`` beside ``tokenizer.json``, so the folder
    loads with ``AutoTokenizer.from_pretrained(folder)`` with ``<|endoftext|>`` as eos/bos/pad. Files of
    those names that corpuskit did not write are left alone."""
    from corpuskit.store.atomic import atomic_write_json, read_json

    specials = {"bos_token": EOT, "eos_token": EOT, "unk_token": EOT, "pad_token": EOT}
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **specials,
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 2**60,
        "written_by": "corpuskit",
    }
    folder = Path(tokenizer_json).parent
    for name, data in ((HF_CONFIG, config), (HF_SPECIAL, {**specials, "written_by": "corpuskit"})):
        path = folder / name
        old = read_json(path) if path.exists() else {"written_by": "corpuskit"}
        if isinstance(old, dict) and old.get("written_by") == "corpuskit":
            atomic_write_json(path, data)
