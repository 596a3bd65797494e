"""`corpuskit doctor`: does every library and model the stages need import and work?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from corpuskit.progress import JsonOutput, console, results, summary_table


def doctor(
    configs: Annotated[
        list[Path] | None, typer.Argument(help="source configs whose extractors and models to check too")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the checks as JSON to this file ('-': stdout)")
    ] = None,
) -> None:
    """Check that every library and model the stages need imports and works; exit 1 if one is broken."""
    from corpuskit.doctor import doctor_rows

    with JsonOutput(json_out) as jout:
        rows, problems = doctor_rows(configs or [])
        cols = ["check", "needed by", "status", "detail"]
        jout.add(checks=[dict(zip(cols, r, strict=True)) for r in rows], problems=problems)
        results.print(summary_table("corpuskit doctor", cols, [[escape(v) for v in r] for r in rows]))
        for line in problems:
            console.print(f"[bold red]problem:[/] {escape(line)}", highlight=False)
        if problems:
            raise typer.Exit(1)
        console.print("[green]everything the stages need works[/]")


def register(app: typer.Typer) -> None:
    app.command()(doctor)
