"""The command-line options every stage that runs units shares (``--executor``, ``--ray-address``).

Declared once so ingest, curate, dedup and mix spell, document and check them the same way; a command
passes both values to :func:`corpuskit.executors.choose_executor`. ``--workers`` is per command (its
default differs: all CPUs for ingest, 1 elsewhere).
"""

from __future__ import annotations

from typing import Annotated

import typer

ExecutorOption = Annotated[str, typer.Option(help="local (process pool) or ray")]
RayAddressOption = Annotated[
    str | None, typer.Option(help="Ray cluster for --executor ray (default: RAY_ADDRESS or a local one)")
]
