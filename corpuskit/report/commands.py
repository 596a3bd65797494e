"""CLI: ``corpuskit report CORPUS [--mixes DIR ...] [--ablation DIR ...] --out report/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpuskit.progress import Shown, results


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        corpus: Annotated[
            str, typer.Argument(help="corpus folder or URL (the `output` of the source configs)")
        ],
        mixes: Annotated[
            list[Path] | None, typer.Option("--mixes", help="a mixture folder or a study folder (repeatable)")
        ] = None,
        ablation: Annotated[
            list[Path] | None, typer.Option("--ablation", help="an ablation output folder (repeatable)")
        ] = None,
        out: Annotated[Path, typer.Option("--out", "-o", help="folder for index.html")] = Path("report"),
        excerpt_chars: Annotated[
            int, typer.Option(min=0, help="longest document excerpt shown, in characters")
        ] = 400,
        samples: Annotated[int, typer.Option(min=0, help="sample documents per drop reason")] = 2,
        pairs: Annotated[int, typer.Option(min=0, help="near-duplicate pairs shown")] = 6,
    ) -> None:
        """Write one offline HTML page (charts inline, no network) from what the stages stored."""
        from corpuskit.configs import corpus_root_arg
        from corpuskit.report import build_report
        from corpuskit.store.corpus_root import local_corpus

        with (
            local_corpus(corpus_root_arg(corpus), "corpuskit report", read=None) as local,
            Shown("sections") as progress,
        ):
            path = build_report(
                local,
                mixes=mixes or [],
                ablations=ablation or [],
                out=out,
                excerpt_chars=excerpt_chars,
                samples=samples,
                pairs=pairs,
                progress=progress,
            )
        results.print(f"report: {path}", highlight=False, soft_wrap=True)
