"""One progress protocol and one place for output, so every command reports the same way.

Two streams: **results** (tables, summaries, JSON) go to stdout through :data:`results`; **progress and
diagnostics** go to stderr through :data:`console`. On a terminal, progress is a rich bar; in a log file,
a script or CI it is a plain line every ~10 s (stage, done/total, rate, ETA), so a long run is never
silent. Output that is not a terminal is never cut to 80 columns: tables keep their natural width.
"""

from __future__ import annotations

import logging
import os
import sys
import time as _time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
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

_WIDE = 100_000  # not a terminal: wide enough that rich never truncates or wraps a table cell


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=stderr, width=None if tty else _WIDE, soft_wrap=not tty)


console = _console(stderr=True)  # progress, warnings, errors
results = _console(stderr=False)  # tables and summaries a script or a log keeps
log = logging.getLogger("corpuskit")  # library notes: per-unit detail shown with -v (INFO) / -vv (DEBUG)


class _ConsoleHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"{record.levelname.lower()}: {record.getMessage()}", markup=False, highlight=False)


def set_verbosity(verbose: int, quiet: bool = False) -> None:
    """``-q``: results and errors only; default: progress and warnings; ``-v``: one line per unit of work
    (input, document file, part); ``-vv``: debug detail."""
    console.quiet = quiet
    if not any(isinstance(h, _ConsoleHandler) for h in log.handlers):
        log.addHandler(_ConsoleHandler())
        log.propagate = False
    log.setLevel(logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])


LINE_EVERY_S = float(os.environ.get("CORPUSKIT_PROGRESS_EVERY_S", "10"))


class _Task:
    def __init__(self, description: str, total: float | None, fields: dict[str, Any]):
        self.description, self.total, self.fields = description, total, dict(fields)
        self.completed = 0.0
        self.started = _time.perf_counter()
        self.last_line = self.started
        self.last_share = 0.0


class LineProgress:
    """The progress protocol of :class:`rich.progress.Progress` (add_task / update / advance / tasks),
    printed as plain lines: at most one every ``LINE_EVERY_S`` seconds or 5 % per task, plus a last line."""

    def __init__(self, unit: str):
        self.unit = unit
        self.tasks: dict[int, _Task] = {}

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for t in self.tasks.values():
            if t.completed or t.total:
                self._line(t, final=True)

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        tid = len(self.tasks)
        self.tasks[tid] = _Task(description, total, fields)
        return tid

    def update(
        self, task: int, *, total: float | None = None, completed: float | None = None,
        advance: float | None = None, description: str | None = None, **fields: Any,
    ) -> None:  # fmt: skip
        t = self.tasks[task]
        if total is not None:
            t.total = total
        if completed is not None:
            t.completed = completed
        if advance:
            t.completed += advance
        if description is not None:
            t.description = description
        t.fields.update(fields)
        self._maybe_line(t)

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def _maybe_line(self, t: _Task) -> None:
        now = _time.perf_counter()
        share = t.completed / t.total if t.total else 0.0
        if now - t.last_line >= LINE_EVERY_S or (t.total and share - t.last_share >= 0.05):
            t.last_line, t.last_share = now, share
            self._line(t)

    def _line(self, t: _Task, final: bool = False) -> None:
        secs = max(_time.perf_counter() - t.started, 1e-9)
        rate = t.completed / secs
        done = f"{t.completed:,.0f}" + (
            f"/{t.total:,.0f} ({100 * t.completed / t.total:.0f}%)" if t.total else ""
        )
        eta = ""
        if t.total and rate > 0 and not final:
            eta = f", ETA {max(t.total - t.completed, 0) / rate:,.0f} s"
        state = "done" if final else "progress"
        unit = t.fields.get("unit", self.unit)
        console.print(
            f"{state}: {t.description}: {done} {unit}, {rate:,.0f} {unit}/s, {secs:,.0f} s{eta}",
            markup=False,
            highlight=False,
        )


def make_progress(unit: str = "docs", *, transient: bool = False) -> Progress | LineProgress:
    """A progress bar (done/total, percent, elapsed, remaining, rate in ``unit``/s) on a terminal; plain
    periodic lines on stderr otherwise."""
    if not console.is_terminal:
        return LineProgress(unit)
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
    )


class Meter:
    """One counter of one stage (documents read, tokens drawn, steps trained): what library code reports
    progress through. ``set_total`` when the total becomes known, ``advance`` as work completes."""

    def set_total(self, total: float | None) -> None:
        pass

    def advance(self, n: float = 1) -> None:
        pass


class Reporter:
    """The one progress protocol of every stage: library functions take ``progress: Reporter = SILENT``
    and ask it for a :class:`Meter` per counter. This base reports nothing (the Python API, tests);
    :class:`Shown` renders bars on a terminal and periodic lines elsewhere (the CLI)."""

    def meter(self, description: str, unit: str = "docs", total: float | None = None) -> Meter:
        return Meter()


SILENT = Reporter()


class _ShownMeter(Meter):
    def __init__(self, bar: Progress | LineProgress, description: str, unit: str, total: float | None):
        self.bar, self.unit = bar, unit
        self.task = bar.add_task(description, total=total, rate="", unit=unit)
        self.t0 = _time.perf_counter()
        self.done = 0.0

    def set_total(self, total: float | None) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, n: float = 1) -> None:
        self.done += n
        self.bar.update(
            self.task, advance=n, rate=rate_text(self.done, _time.perf_counter() - self.t0, self.unit)
        )


class Shown(Reporter):
    """Progress the user sees, on stderr: ``with Shown() as progress: stage(..., progress=progress)``."""

    def __init__(self, unit: str = "docs", *, transient: bool = False):
        self.bar = make_progress(unit, transient=transient)

    def __enter__(self) -> Shown:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def meter(self, description: str, unit: str = "docs", total: float | None = None) -> Meter:
        return _ShownMeter(self.bar, description, unit, total)


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


JsonOption = Annotated[
    Path | None,
    typer.Option("--json", help="also write the results as one JSON document to this file ('-': stdout)"),
]


class JsonOutput:
    """``--json TARGET`` for any command: collect results with :meth:`add`, written as one strict JSON
    document on exit (``-`` = stdout, and then the tables go to stderr so stdout stays parseable)."""

    def __init__(self, target: Path | str | None):
        self.target = None if target is None else str(target)
        self.data: dict[str, Any] = {}

    def __enter__(self) -> JsonOutput:
        if self.target == "-":
            results.file = sys.stderr
        return self

    def add(self, **items: Any) -> None:
        self.data.update(items)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        results.file = None
        import click

        # a finished run reports, a failed one too (exit 1); a usage error (exit 2) or a crash does not
        exits = (click.exceptions.Exit, typer.Exit)  # two classes: typer's Exit is not click's
        ended = exc is None or (isinstance(exc, exits) and exc.exit_code in (0, 1))
        if self.target is None or not ended:
            return
        import json

        from corpuskit.store.atomic import json_safe

        text = json.dumps(json_safe(self.data), indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
        if self.target == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            Path(self.target).write_text(text)
            console.print(f"numbers written to {self.target}", highlight=False)


def fail(message: str, code: int = 2) -> Any:
    """The one error printer: ``error: <message>`` on stderr, never wrapped, never silenced by ``-q``;
    returns the ``typer.Exit`` to raise (2: a mistake to fix, 1: a failure, 3: busy)."""
    import typer
    from rich.markup import escape

    console.quiet = False
    console.print(f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def fail_units(lines: list[str], message: str) -> Any:
    """Name every failed unit (``failed: <what>: <why>`` on stderr), then the one error; exit code 1."""
    from rich.markup import escape

    for line in lines:
        console.print(f"[bold red]failed:[/] {escape(line)}", highlight=False, soft_wrap=True)
    return fail(message, 1)
