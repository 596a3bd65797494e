"""One study context, many mixtures: same bytes as one-at-a-time builds, manifests as written, progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpuskit.mix import (
    DecontamSettings,
    HeldoutSettings,
    MixError,
    MixtureConfig,
    build_in_study,
    build_mixture,
    build_mixtures,
    open_study,
    plan_study,
)
from corpuskit.progress import Meter, Reporter
from tests.support.mix_corpus import chunk, make_corpus, write_source

HELDOUT = HeldoutSettings(bytes_per_source=40_000)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data) -> Path:
    root = tmp_path_factory.mktemp("studycorpus") / "corpus"
    make_corpus(root, shared_data)
    de = chunk((shared_data / "books" / "de_carroll_alice_pg19778.txt").read_text(encoding="utf-8-sig"), 2000)
    write_source(root, "tiny", de[5:20], parts=1)  # ~30 KB: repeated by any sizeable share
    return root


MIXES = [
    MixtureConfig(name="a", weights={"books": 0.8, "wiki": 0.2}, tokens=150_000),
    MixtureConfig(name="rep", weights={"tiny": 0.5, "verse": 0.5}, tokens=200_000, seed=4, allow_repeat=True),
]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class Recorder(Reporter):
    def __init__(self):
        self.meters: list[tuple[str, str, float | None, list[float]]] = []

    def meter(self, description: str, unit: str = "docs", total: float | None = None) -> Meter:
        counts: list[float] = []
        self.meters.append((description, unit, total, counts))

        class _M(Meter):
            def advance(self, n: float = 1) -> None:
                counts.append(n)

        return _M()


def test_study_from_one_context_is_deterministic_and_reports(corpus, tmp_path):
    ctx = open_study(corpus, "bytes", HELDOUT, DecontamSettings())
    plans = plan_study(ctx, MIXES, seed=3)
    assert [(p.name, p.seed, p.allow_repeat) for p in plans] == [("a", 3, False), ("rep", 4, True)]
    rec = Recorder()
    built = build_mixtures(ctx, plans, tmp_path / "s1", progress=rec)
    assert [(d, u, t, sum(c)) for d, u, t, c in rec.meters] == [
        ("a", "tokens", 150_000, 150_000),
        ("rep", "tokens", 200_000, 200_000),
    ]
    for manifest, report in built:
        on_disk = json.loads((tmp_path / "s1" / report.name / "manifest.json").read_text())
        assert manifest == on_disk and not any(k.startswith("_") for k in manifest)
        assert (
            report.out == tmp_path / "s1" / report.name
            and report.total_tokens == manifest["format"]["total_tokens"]
        )
        assert report.seconds >= report.tokenize_seconds > 0
    assert built[1][0]["sources"]["tiny"]["full_epochs"] >= 2  # the repeated source really repeated
    # a second study from a fresh context: byte for byte the same folders
    again = open_study(corpus, "bytes", HELDOUT, DecontamSettings())
    build_mixtures(again, plan_study(again, MIXES, seed=3), tmp_path / "s2")
    assert _files(tmp_path / "s1") == _files(tmp_path / "s2")


def test_one_context_gives_what_separate_builds_give(corpus, tmp_path):
    """build_in_study (ablate's path), build_mixtures(single) and build_mixture (the keyword API) agree."""
    ctx = open_study(corpus, "bytes", HELDOUT, DecontamSettings())
    mix = MixtureConfig(name="m", weights={"books": 1, "verse": 1}, tokens=120_000)
    m1 = build_in_study(ctx, mix, tmp_path / "one" / "m", seed=5, max_epochs=4.0, allow_repeat=False)
    ((m2, report),) = build_mixtures(ctx, plan_study(ctx, [mix], seed=5), tmp_path / "two" / "m", single=True)
    m3 = build_mixture(
        weights=mix.weights, corpus=corpus, output=tmp_path / "three" / "m", tokens=120_000, seed=5,
        heldout_bytes=HELDOUT.bytes_per_source,
    )  # fmt: skip
    assert m1 == m2 == m3 and report.out == tmp_path / "two" / "m"
    assert (
        _files(tmp_path / "one" / "m") == _files(tmp_path / "two" / "m") == _files(tmp_path / "three" / "m")
    )


def test_an_impossible_mixture_stops_the_study_before_anything_is_written(corpus, tmp_path):
    ctx = open_study(corpus, "bytes", HELDOUT, DecontamSettings())
    bad = MixtureConfig(name="bad", weights={"tiny": 1.0}, tokens=500_000)  # far more than 4 epochs of tiny
    plans = plan_study(ctx, [MIXES[0], bad])
    with pytest.raises(MixError, match=r"'tiny' would be repeated"):
        build_mixtures(ctx, plans, tmp_path / "s")
    assert not (tmp_path / "s").exists()
    with pytest.raises(MixError, match="one output folder holds one mixture"):
        build_mixtures(ctx, plans, tmp_path / "s", single=True)
