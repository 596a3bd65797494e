"""``corpuskit report``: one static HTML page of a corpus, its mixtures and ablations, from stored outputs.

- :mod:`~corpuskit.report.corpus_data`, :mod:`~corpuskit.report.dedup_data`,
  :mod:`~corpuskit.report.runs_data`: read what the stages stored (no signal is recomputed).
- :mod:`~corpuskit.report.charts`: matplotlib charts as inline SVG.
- :mod:`~corpuskit.report.html`: escaping, tables, the page shell (CSS, one small sort script, a CSP).
- :mod:`~corpuskit.report.corpus_sections`, :mod:`~corpuskit.report.run_sections`: the page's sections.
- :mod:`~corpuskit.report.build`: :func:`build_report`; :mod:`~corpuskit.report.commands`: the command.
"""

from corpuskit.report.build import build_report

__all__ = ["build_report"]
