"""The `corpuskit` command: thin — parse arguments, call the library, render progress and tables.

Errors a user can fix (bad config, missing file) print one clear message and exit with code 2.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from corpuskit.configs import ConfigError
from corpuskit.environment import EnvironmentProblem
from corpuskit.executors import ClusterUnreachable
from corpuskit.progress import fail, set_verbosity
from corpuskit.store.lock import SourceBusy
from corpuskit.store.remote import RemoteCorpusError
from corpuskit.store.units import UnitsAborted, UnitsFailed


class _Commands(TyperGroup):
    """The one error handler: a config a person can fix exits 2, a broken installation exits 1, each as
    one message (no traceback) — for every command, whether run from a shell or from a test runner."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ConfigError as e:
            raise fail(str(e), 2) from None
        except EnvironmentProblem as e:
            raise fail(f"broken installation: {e}\n(run `corpuskit doctor` to check everything)", 1) from None
        except SourceBusy as e:
            raise fail(str(e), 3) from None
        except (UnitsAborted, UnitsFailed, RemoteCorpusError, ClusterUnreachable) as e:
            raise fail(str(e), 1) from None
        except (
            click.exceptions.ClickException,
            click.exceptions.Exit,
            click.exceptions.Abort,
            typer.Exit,
            typer.Abort,
        ):
            raise
        except Exception as e:  # a bug, not a user mistake: one line, the traceback only on request
            if _debug() or type(e).__module__.split(".")[0] in ("typer", "click"):
                raise  # usage errors (a bad option value) are typer's/click's to print, with exit 2
            raise fail(
                f"internal error: {type(e).__name__}: {e}\n(rerun with --debug or CORPUSKIT_DEBUG=1 for the "
                "traceback, and please report it)",
                1,
            ) from None


app = typer.Typer(
    name="corpuskit",
    cls=_Commands,
    help="Build pretraining corpora: ingest, curate, dedup, analyse, mix and ablate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # corpuskit --install-completion / --show-completion
)


def _debug() -> bool:
    return os.environ.get("CORPUSKIT_DEBUG", "") not in ("", "0")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"corpuskit {version('corpuskit')}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks of internal errors")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress or notes on stderr (results and errors still)")
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="a line per unit of work (-vv: debug detail)")
    ] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    if debug:
        os.environ["CORPUSKIT_DEBUG"] = "1"
    set_verbosity(verbose, quiet)


# Every command, in pipeline order: the module that defines it (its ``register(app)``) and the names it adds.
COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    ("corpuskit.commands.doctor", ("doctor",)),
    ("corpuskit.commands.ingest", ("ingest",)),
    ("corpuskit.curate.commands", ("curate", "quality")),
    ("corpuskit.dedup.commands", ("dedup",)),
    ("corpuskit.commands.inspect", ("stats", "show")),
    ("corpuskit.commands.export", ("export", "export-tokens")),
    ("corpuskit.mix.commands", ("tokenizer", "mix")),
    ("corpuskit.ablate.commands", ("ablate",)),
    ("corpuskit.report.commands", ("report",)),
    ("corpuskit.demo.commands", ("demo",)),
]


def _register_commands() -> None:
    for module, names in COMMANDS:
        before = set(_command_names())
        importlib.import_module(module).register(app)
        added = set(_command_names()) - before
        if added != set(names):  # the table is the truth: a command must not appear or vanish unlisted
            raise RuntimeError(f"{module} registers {sorted(added)}, cli.COMMANDS says {sorted(names)}")


def _command_names() -> list[str]:
    return [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands] + [
        g.name or "" for g in app.registered_groups
    ]


def _starting_a_worker() -> bool:
    """True while a spawned / fork-server worker re-imports the main module (``corpuskit``, the console
    script, imports this one): a worker runs no command, and importing them all (scipy, torch ...) would
    cost every worker of a pool about a second of CPU before its first unit."""
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


if not _starting_a_worker():
    _register_commands()


def main() -> None:
    import signal

    # SIGTERM (Slurm, timeout, kill) unwinds like Ctrl-C: scratch folders and temp files are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    app()


if __name__ == "__main__":
    main()
