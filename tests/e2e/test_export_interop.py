"""Exports other tools read as written: one Parquet schema for every source; Dolma's layout, no nulls."""

from __future__ import annotations

import gzip
import json
import shutil

import pyarrow.dataset as ds
from typer.testing import CliRunner

from corpuskit.cli import app


def test_parquet_export_has_one_schema_across_sources_and_dolma_no_nulls(tmp_path, shared_data):
    (tmp_path / "books").mkdir()
    shutil.copy(shared_data / "books/en_carroll_alice_pg11.txt", tmp_path / "books")
    (tmp_path / "books.yaml").write_text(
        "name: books\nkind: gutenberg\ninputs: ['books/*.txt']\noutput: corpus\n"
    )
    (tmp_path / "web").mkdir()
    shutil.copy(shared_data / "web/commoncrawl_ccnet_jsonl/cc_en_head-0174.jsonl.gz", tmp_path / "web")
    (tmp_path / "web.yaml").write_text(
        "name: web\nkind: jsonl\ninputs: ['web/*.jsonl.gz']\noutput: corpus\n"
        "options: {metadata_fields: all_other, created_field: created}\n"
    )
    run = CliRunner().invoke
    for cfg in ("books.yaml", "web.yaml"):
        assert run(app, ["ingest", str(tmp_path / cfg), "--workers", "1"]).exit_code == 0
        assert run(app, ["curate", str(tmp_path / cfg)]).exit_code == 0
    corpus = tmp_path / "corpus"
    assert (
        run(app, ["export", str(corpus), "--out", str(tmp_path / "pq"), "--format", "parquet"]).exit_code == 0
    )
    books = ds.dataset(tmp_path / "pq/books", format="parquet")
    web = ds.dataset(tmp_path / "pq/web", format="parquet")
    assert books.schema == web.schema
    both = ds.dataset([ds.dataset(tmp_path / "pq" / s, format="parquet") for s in ("books", "web")])
    assert both.count_rows() == books.count_rows() + web.count_rows() > 1

    assert run(app, ["export", str(corpus), "--out", str(tmp_path / "dolma")]).exit_code == 0
    for source in ("books", "web"):
        files = sorted((tmp_path / "dolma" / source / "documents").glob("*.jsonl.gz"))
        assert files
        for f in files:
            for line in gzip.open(f, "rt"):
                doc = json.loads(line)
                assert {"id", "text", "source", "added", "metadata"} <= set(doc)
                assert all(v is not None for k, v in doc.items() if k != "metadata")
                assert "created" not in doc or isinstance(doc["created"], str)


def test_mixture_shards_carry_their_dtype_in_the_name(tmp_path):
    import numpy as np

    from corpuskit.mix.shards import ShardWriter

    for vocab, dtype in ((32_000, "uint16"), (100_000, "uint32")):
        w = ShardWriter(tmp_path / dtype, vocab, shard_tokens=100)
        w.write(np.arange(250) % vocab)
        fmt = w.finish()
        assert fmt["shards"] and all(n.endswith(f".{dtype}.bin") for n in fmt["shards"])
        # a loader that only knows the file name reads the right values
        name = fmt["shards"][0]
        back = np.fromfile(tmp_path / dtype / name, dtype=name.split(".")[-2])
        assert back[:5].tolist() == [0, 1, 2, 3, 4]


def test_a_trained_tokenizer_is_a_hugging_face_tokenizer_folder(tmp_path):
    from corpuskit.mix.tokenizer import EOT, train_bpe

    texts = [f"the river and the town number {i} near the old mill" for i in range(300)]
    (tmp_path / "tok").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "tokenizer_config.json").write_text('{"hand": "made"}')
    train_bpe(texts, 300, tmp_path / "tok" / "tokenizer.json")
    train_bpe(texts, 300, tmp_path / "mine" / "tokenizer.json")
    config = json.loads((tmp_path / "tok" / "tokenizer_config.json").read_text())
    special = json.loads((tmp_path / "tok" / "special_tokens_map.json").read_text())
    assert config["eos_token"] == special["eos_token"] == EOT
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert json.loads((tmp_path / "mine" / "tokenizer_config.json").read_text()) == {
        "hand": "made"
    }  # not ours
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return  # transformers is not a dependency; the files follow its folder layout
    tok = AutoTokenizer.from_pretrained(tmp_path / "tok")
    assert tok.eos_token == EOT and tok.decode(tok.encode("the river")) == "the river"


def _read_megatron(prefix):
    """An independent reader of Megatron core's IndexedDataset index (version 1) and data files."""
    import struct

    import numpy as np

    with open(f"{prefix}.idx", "rb") as f:
        assert f.read(9) == b"MMIDIDX\x00\x00"
        (version,) = struct.unpack("<Q", f.read(8))
        (code,) = struct.unpack("<B", f.read(1))
        (n_seq,) = struct.unpack("<Q", f.read(8))
        (n_doc,) = struct.unpack("<Q", f.read(8))
        sizes = np.frombuffer(f.read(4 * n_seq), dtype=np.int32)
        pointers = np.frombuffer(f.read(8 * n_seq), dtype=np.int64)
        doc_idx = np.frombuffer(f.read(8 * n_doc), dtype=np.int64)
        assert f.read() == b""
    dtype = {8: np.uint16, 4: np.int32}[code]
    data = np.memmap(f"{prefix}.bin", dtype=dtype, mode="r")
    item = np.dtype(dtype).itemsize
    docs = [data[p // item : p // item + s] for p, s in zip(pointers, sizes, strict=True)]
    return version, doc_idx, docs


def test_megatron_export_reads_back_document_by_document(tmp_path):
    import numpy as np

    from corpuskit.documents import document_id
    from corpuskit.mix import build_mixture
    from corpuskit.mix.shards import open_mixture
    from tests.support.store import commit_rows

    words = "the river ran past the old town and the mill while light fell on water".split()
    rows = [
        {"id": document_id("s", str(i)), "source": "s", "locator": str(i),
         "text": " ".join(words[(i + j) % len(words)] for j in range(40 + i)) + f" {i}."}
        for i in range(60)
    ]  # fmt: skip
    commit_rows(tmp_path / "corpus", "s", "k", rows)
    build_mixture(weights={"s": 1}, corpus=tmp_path / "corpus", output=tmp_path / "mix", tokens=3000,
                  heldout_bytes=300, decontaminate=False)  # fmt: skip
    res = CliRunner().invoke(
        app, ["export-tokens", str(tmp_path / "mix"), "--out", str(tmp_path / "meg/mix")]
    )
    assert res.exit_code == 0, res.output
    version, doc_idx, docs = _read_megatron(tmp_path / "meg/mix")
    mix = open_mixture(tmp_path / "mix")
    stream = np.concatenate([np.asarray(s) for s in mix.shards])
    assert version == 1 and doc_idx.tolist() == list(range(len(docs) + 1))
    assert np.array_equal(np.concatenate(docs), stream)  # every token, in order
    assert all(d[-1] == mix.eot_id and (d[:-1] != mix.eot_id).all() for d in docs)  # one document each
    (tmp_path / "other.bin").write_text("not ours")
    res = CliRunner().invoke(app, ["export-tokens", str(tmp_path / "mix"), "--out", str(tmp_path / "other")])
    assert res.exit_code == 2 and (tmp_path / "other.bin").read_text() == "not ours"


def test_datatrove_export_is_what_datatrove_readers_take(tmp_path):
    """The shape datatrove's JsonlWriter writes; its readers' default adapter merges ``metadata`` with
    ``|``, which a JSON string (the store's column) would crash. The real JsonlReader runs in
    benchmarks/interop.py."""
    from corpuskit.documents import document_id
    from tests.support.store import commit_rows

    rows = [
        {"id": document_id("s", f"l{i}"), "source": "s", "text": f"document {i} about rivers", "url": f"u{i}",
         "locator": f"l{i}"}
        for i in range(4)
    ]  # fmt: skip
    commit_rows(tmp_path / "corpus", "s", "in-0", rows)
    r = CliRunner().invoke(
        app, ["export", str(tmp_path / "corpus"), "--out", str(tmp_path / "dt"), "--format", "datatrove"]
    )
    assert r.exit_code == 0, r.output
    docs = [
        json.loads(line)
        for f in sorted((tmp_path / "dt/s").glob("*.jsonl.gz"))
        for line in gzip.open(f, "rt")
    ]
    assert len(docs) == 4
    for d in docs:
        assert set(d) == {"text", "id", "media", "metadata"}
        merged = {} | d["metadata"]  # datatrove: default_metadata | data.pop("metadata", {}) | data
        assert merged["source"] == "s" and merged["url"].startswith("u") and isinstance(merged["added"], str)
