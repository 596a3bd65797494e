"""CLI: ``corpuskit demo`` (the whole chain, end to end, on CPU, ending with the HTML report)."""

from __future__ import annotations

from pathlib import Path

import typer

from corpuskit.progress import Shown


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        data: Path | None = typer.Option(None, "--data", help="real sample folder (e.g. ../shared/data)"),
        out: Path = typer.Option(Path("corpuskit-demo"), "--out", "-o", help="where everything is written"),
        tokens: int = typer.Option(300_000, min=1, help="training tokens per run"),
        seeds: int = typer.Option(3, min=1, help="seeds per mixture (≥ 3 to measure seed noise)"),
        workers: int = typer.Option(2, min=1, help="ingest processes"),
        threads: int = typer.Option(0, min=0, help="CPU threads for training (0 = min(4, cores))"),
        scale: float = typer.Option(
            1.0, min=0.01, help="size of the generated sample (offline mode)", hidden=True
        ),
    ) -> None:
        """Ingest three kinds of source, curate, dedup, mix three mixtures, ablate them on CPU, and write
        the HTML report (its path is the last line)."""
        from corpuskit.demo.pipeline import run_demo

        sizes = {"tokens": tokens, "seeds": seeds, "workers": workers, "threads": threads, "scale": scale}
        with Shown() as progress:
            run_demo(out, data, progress=progress, **sizes)
