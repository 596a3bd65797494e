"""The options of the web connectors (``warc``, ``html``): which extractor, its settings, the limits.

A page's bytes become text in :mod:`corpuskit.connectors.pagetext`; these are the keys of a source's
``options:`` that steer it (validated like every other key: a typo is a located error).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from corpuskit.connectors.base import Options


class TrafilaturaSettings(Options):
    """Passed to ``trafilatura.extract``; defaults are datatrove's ``Trafilatura(favour_precision=True)``."""

    favor_precision: bool = True
    include_comments: bool = False
    include_tables: bool = True
    deduplicate: bool = Field(True, description="drop text segments repeated within one input file")


class ResiliparseSettings(Options):
    """Passed to ``resiliparse.extract.html2text.extract_plain_text`` (main-content mode)."""

    main_content: bool = True
    preserve_formatting: bool = True
    list_bullets: bool = True
    alt_texts: bool = False
    links: bool = False
    form_fields: bool = False
    noscript: bool = False
    comments: bool = False


class WebOptions(Options):
    extractor: Literal["trafilatura", "resiliparse"] = "trafilatura"
    timeout_s: float = Field(
        5.0, gt=0, description="per-document extraction time limit (datatrove's default is 1 s)"
    )
    max_html_bytes: int = Field(
        5 * 1024**2, gt=0, description="larger pages are skipped (html_too_large); CC truncates at 1 MiB"
    )
    trafilatura: TrafilaturaSettings = Field(default_factory=TrafilaturaSettings)
    resiliparse: ResiliparseSettings = Field(default_factory=ResiliparseSettings)
