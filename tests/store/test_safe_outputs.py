"""No command deletes what it did not create: `mix --out` never replaces a corpus, a project, the current
directory or a folder it did not write."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpuskit.cli import app
from corpuskit.documents import document_id
from tests.support.store import commit_rows

VOCAB = "the river ran past old town and mill light of morning was on water she he walked with a to".split()


def text(seed: int) -> str:
    import random

    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(400)) + "."


@pytest.fixture()
def project(tmp_path: Path, monkeypatch) -> Path:
    for source in ("books", "forums"):
        rows = [
            {
                "id": document_id(source, f"{i}"),
                "source": source,
                "text": text(i + 1000 * len(source)),
                "locator": f"{i}",
            }
            for i in range(40)
        ]
        commit_rows(tmp_path / "proj" / "corpus", source, "k", rows)
    monkeypatch.chdir(tmp_path / "proj")
    return tmp_path / "proj"


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def mix(*out: str) -> tuple[int, str]:
    args = [
        "mix",
        "--weights",
        "books=0.6,forums=0.4",
        "--tokens",
        "20k",
        "--corpus",
        "corpus",
        "--tokenizer",
        "bytes",
        "--heldout-bytes",
        "2000",
        "--out",
        *out,
    ]
    res = CliRunner(env={"COLUMNS": "300"}).invoke(app, args)
    return res.exit_code, " ".join(res.output.split())


@pytest.mark.parametrize(
    ("out", "says"),
    [
        ("corpus", "is the corpus"),
        ("corpus/books", "is inside the corpus"),
        (".", "contains the corpus"),
        ("..", "contains the"),
    ],
)
def test_mix_refuses_outputs_that_would_replace_data(project, out, says):
    before = tree_digest(project.parent)
    code, output = mix(out)
    assert code == 2, output
    assert says in output
    assert tree_digest(project.parent) == before  # byte-identical: nothing written, nothing removed


def test_mix_refuses_a_folder_it_did_not_write_and_replaces_one_it_did(project):
    (project / "notes").mkdir()
    (project / "notes" / "todo.txt").write_text("mine")
    code, output = mix("notes")
    assert code == 2 and "not empty" in output
    assert (project / "notes" / "todo.txt").read_text() == "mine"
    assert mix("mixes/a")[0] == 0
    assert mix("mixes/a")[0] == 0  # its own mixture folder may be rebuilt
    assert (project / "mixes" / "a" / "manifest.json").exists()


def test_source_name_dotdot_cannot_touch_another_source(project):
    (project / "bad.yaml").write_text("name: '..'\nkind: jsonl\ninputs: ['x.jsonl']\noutput: corpus/web\n")
    before = tree_digest(project)
    res = CliRunner().invoke(app, ["ingest", "bad.yaml"])
    assert res.exit_code == 2
    assert tree_digest(project) == before
