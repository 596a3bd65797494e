"""Shared rich progress bars and summary tables, so every long command looks and reports the same."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

console = Console(stderr=True)


def make_progress(unit: str = "docs", *, transient: bool = False) -> Progress:
    """A progress bar showing done/total, percent, elapsed, remaining and a rate in ``unit``/s."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
    )


def rate_text(count: float, seconds: float, unit: str) -> str:
    return f"{count / seconds:,.0f} {unit}/s" if seconds > 0 else ""


def summary_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A summary table; numbers are right-aligned and thousands-separated."""
    table = Table(title=title, title_justify="left")
    rows = [list(r) for r in rows]
    for i, c in enumerate(columns):
        numeric = bool(rows) and all(isinstance(r[i], int | float) for r in rows if r[i] is not None)
        table.add_column(c, justify="right" if numeric else "left")
    for r in rows:
        table.add_row(*[_fmt(v) for v in r])
    return table


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)
