"""``build_report``: gather what the stages stored, draw, render, write ``<out>/index.html`` atomically."""

from __future__ import annotations

from pathlib import Path

from corpuskit.configs import ConfigError
from corpuskit.progress import SILENT, Reporter
from corpuskit.report.corpus_data import gather_curation, gather_sources
from corpuskit.report.corpus_sections import curation_section, dedup_section, sources_section
from corpuskit.report.dedup_data import gather_dedup
from corpuskit.report.html import page
from corpuskit.report.run_sections import ablation_section, mixtures_section
from corpuskit.report.runs_data import gather_ablations, gather_mixtures
from corpuskit.store.atomic import atomic_write_bytes

NAV = [
    ("sources", "Sources"),
    ("curation", "Curation"),
    ("dedup", "Dedup"),
    ("mixtures", "Mixtures"),
    ("ablation", "Ablation"),
]


def build_report(
    corpus: Path | str,
    *,
    mixes: list[Path] | None = None,
    ablations: list[Path] | None = None,
    out: Path | str = "report",
    excerpt_chars: int = 400,
    samples: int = 2,
    pairs: int = 6,
    progress: Reporter = SILENT,
) -> Path:
    """Write the report of ``corpus`` (and of the mixtures and ablations given) to ``out/index.html``.

    Only stored outputs are read. A section whose inputs are absent says so instead of failing; document
    text appears only as excerpts of at most ``excerpt_chars`` characters."""
    corpus, out = Path(corpus), Path(out)
    if not corpus.is_dir():
        raise ConfigError(
            f"{corpus}: corpus folder not found; run `corpuskit ingest` first or check the path"
        )
    for p in [*(mixes or []), *(ablations or [])]:
        if not Path(p).exists():
            raise ConfigError(f"{p}: folder not found")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    meter = progress.meter("report", "sections", total=5)
    parts = [sources_section(gather_sources(corpus))]
    meter.advance()
    parts.append(curation_section(gather_curation(corpus, excerpt_chars=excerpt_chars, samples=samples)))
    meter.advance()
    parts.append(dedup_section(gather_dedup(corpus, excerpt_chars=excerpt_chars, pairs=pairs)))
    meter.advance()
    parts.append(mixtures_section(gather_mixtures([Path(p) for p in mixes or []]), asked=bool(mixes)))
    meter.advance()
    found, notes = gather_ablations([Path(p) for p in ablations or []])
    parts.append(ablation_section(found, notes, asked=bool(ablations)))
    meter.advance()
    html = page(
        f"corpuskit report: {corpus.resolve().name}",
        f"corpus {corpus.resolve()} — excerpts capped at {excerpt_chars:,} characters; no document is "
        "included whole",
        NAV,
        "".join(parts),
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    atomic_write_bytes(path, html.encode("utf-8"))
    return path
