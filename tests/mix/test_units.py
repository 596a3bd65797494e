"""Drawing as units of work: the same bytes whatever the worker count; a unit that cannot read its source
is named and not committed, and the rerun redoes only it; a committed draw is reused only when intact and
drawn with the same settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpuskit.mix import (
    DecontamSettings,
    HeldoutSettings,
    MixtureConfig,
    build_mixtures,
    open_study,
    plan_study,
)
from corpuskit.mix.drawfiles import DONE, TOKENS, draws_dir
from corpuskit.store import doc_records
from corpuskit.store.layout import SourceStore
from corpuskit.store.units import UnitsFailed
from tests.support.mix_corpus import build_study, chunk, make_corpus, tree_bytes, write_source

HELDOUT = HeldoutSettings(bytes_per_source=40_000)
MIXES = [
    MixtureConfig(name="a", weights={"books": 0.5, "wiki": 0.3, "verse": 0.2}, tokens=300_000),
    MixtureConfig(name="rep", weights={"tiny": 0.5, "wiki": 0.5}, tokens=120_000, seed=4, allow_repeat=True),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp("unitcorpus") / "corpus"
    make_corpus(root, shared_data)
    de = chunk((shared_data / "books" / "de_carroll_alice_pg19778.txt").read_text(encoding="utf-8-sig"), 2000)
    write_source(root, "tiny", de[5:20], parts=1)  # ~30 KB: repeated
    return root


_files = tree_bytes


def _study(corpus: Path, out: Path, workers: int, mixes=MIXES, seed: int = 3) -> list:
    return build_study(corpus, mixes, out, heldout_bytes=HELDOUT.bytes_per_source, seed=seed, workers=workers)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref") / "study"
    _study(corpus, out, workers=1)
    return _files(out)


def test_two_and_three_workers_write_the_bytes_of_one(corpus, reference, tmp_path):
    for workers in (2, 3):
        built = _study(corpus, tmp_path / f"w{workers}", workers)
        assert _files(tmp_path / f"w{workers}") == reference, workers
        assert all(r.tokenize_seconds > 0 for _, r in built)
    assert not [p for p in tmp_path.rglob(".*.draws")]  # the units' files go once the mixture is in place


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """The keys of the units each build hands to the runner (what it draws, not what it reuses)."""
    from corpuskit.mix import drawunits

    keys: list[str] = []
    real = drawunits.run_units

    def spy(fn, units, **kw):
        keys.extend(u.key for u in units)
        return real(fn, units, **kw)

    monkeypatch.setattr(drawunits, "run_units", spy)
    return keys


def test_a_unit_that_cannot_read_its_source_is_named_and_only_it_is_redone(
    corpus, reference, tmp_path, drawn
):
    ctx = open_study(corpus, "bytes", HELDOUT, DecontamSettings())  # the driver has read every pool
    victim = SourceStore(corpus, "tiny").documents_dir / doc_records(corpus, "tiny")[0].name
    good = victim.read_bytes()
    out = tmp_path / "study"
    try:
        victim.write_bytes(good[: len(good) // 2])  # torn on disk: the worker that reads it again refuses
        with pytest.raises(UnitsFailed, match="rep/tiny: RuntimeError: source 'tiny' is not as") as err:
            build_mixtures(ctx, plan_study(ctx, MIXES, seed=3), out, workers=2)
    finally:
        victim.write_bytes(good)
    assert "a/books" not in str(err.value) and not (out / "rep").exists() and not (out / "a").exists()
    assert not (draws_dir(out / "rep") / f"tiny{DONE}").exists()
    assert (draws_dir(out / "rep") / f"wiki{DONE}").exists() and (
        draws_dir(out / "a") / f"books{DONE}"
    ).exists()
    drawn.clear()
    _study(corpus, out, workers=2)  # the rerun draws only the failed unit and reuses the committed ones
    assert drawn == ["rep/tiny"]
    assert _files(out) == reference


def test_a_committed_draw_is_reused_only_when_intact_and_for_the_same_settings(
    corpus, tmp_path, monkeypatch, drawn
):
    one = [MixtureConfig(name="m", weights={"books": 0.6, "verse": 0.4}, tokens=100_000)]
    _study(corpus, tmp_path / "ref3", 1, one, seed=3)
    _study(corpus, tmp_path / "ref5", 1, one, seed=5)
    out = tmp_path / "s"

    def stop(*args):
        raise KeyboardInterrupt  # the build is killed after both draws were committed, before the gather

    with monkeypatch.context() as m:
        m.setattr("corpuskit.mix.study.write_mixture", stop)
        with pytest.raises(KeyboardInterrupt):
            _study(corpus, out, 1, one, seed=3)
    tokens = draws_dir(out / "m") / f"verse{TOKENS}"
    tokens.write_bytes(tokens.read_bytes()[:-2])  # truncated since: not trusted
    drawn.clear()
    _study(corpus, out, 1, one, seed=3)
    assert drawn == ["m/verse"] and _files(out) == _files(tmp_path / "ref3")
    drawn.clear()
    _study(corpus, out, 2, one, seed=5)  # other settings: nothing reused
    assert sorted(drawn) == ["m/books", "m/verse"] and _files(out) == _files(tmp_path / "ref5")


def test_cli_workers_give_the_same_folder_and_executor_options_are_checked(corpus, tmp_path):
    from typer.testing import CliRunner

    from corpuskit.cli import app

    def mix(*extra: str, out: Path) -> tuple[int, str]:
        args = ["mix", "-w", "books=0.5,verse=0.3,tiny=0.2", "--tokens", "80k", "--corpus", str(corpus)]
        res = CliRunner().invoke(app, [*args, "--out", str(out), "--allow-repeat", *extra])
        return res.exit_code, " ".join(res.output.split())

    assert mix("--workers", "1", out=tmp_path / "one" / "m")[0] == 0
    assert mix("--workers", "2", out=tmp_path / "two" / "m")[0] == 0  # same name: same manifest
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    code, text = mix("--ray-address", "auto", out=tmp_path / "x")
    assert code == 2 and "--ray-address needs --executor ray" in text
    code, text = mix("--executor", "dask", out=tmp_path / "x")
    assert code == 2 and "use 'local' or 'ray'" in text and not (tmp_path / "x").exists()
