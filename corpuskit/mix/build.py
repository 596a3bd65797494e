"""Old import path, kept only because ``corpuskit/ablate`` still does ``from corpuskit.mix import build``.

Use :mod:`corpuskit.mix` (``build_mixture``, ``source_tokens``, ``open_study`` ...); this module goes once
ablate imports from the package.
"""

from corpuskit.mix.study import build_mixture, source_tokens

__all__ = ["build_mixture", "source_tokens"]
