"""``corpuskit report``: one static HTML page of a corpus, its mixtures and ablations, from stored outputs.

- :mod:`~corpuskit.report.corpus_data`, :mod:`~corpuskit.report.dedup_data`,
  :mod:`~corpuskit.report.runs_data`: read what the stages stored (no signal is recomputed).
- :mod:`~corpuskit.report.charts`: matplotlib charts as inline SVG.
- :mod:`~corpuskit.report.html`: escaping, tables, the page shell (CSS, one small sort script, a CSP).
- :mod:`~corpuskit.report.corpus_sections`, :mod:`~corpuskit.report.run_sections`: the page's sections.
- :mod:`~corpuskit.report.build`: :func:`build_report`; :mod:`~corpuskit.report.commands`: the command.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report"]


def __getattr__(name: str) -> Any:
    # imported on first use: the CLI loads `corpuskit.report.commands` at every start, and the page's
    # modules pull in polars, matplotlib and the ablation tables (torch), which other commands don't need
    if name == "build_report":
        from corpuskit.report.build import build_report

        return build_report
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
