"""``corpuskit demo``: the whole pipeline on a generated sample (or real files), as one readable script.

- :mod:`~corpuskit.demo.data`: the generated sample (books, a Stack Exchange dump, HTML pages).
- :mod:`~corpuskit.demo.vocabulary`: the word lists that sample is drawn from.
- :mod:`~corpuskit.demo.sources`: the source configs for that sample or for real files.
- :mod:`~corpuskit.demo.pipeline`: ingest -> curate -> dedup -> mix -> ablate -> report, calling the API.
- :mod:`~corpuskit.demo.commands`: the command.
"""
