"""The progress display of `builder build`: one rich progress row per stage, messages above it."""

from __future__ import annotations

import time
from typing import Sequence


class BuildDisplay:
    """Context manager; `message(stage, text)` and `done(result, seconds)` are the build's callbacks."""

    def __init__(self, stages: Sequence[str], *, quiet: bool = False) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.quiet = quiet
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[stage]:<7}"),
            BarColumn(bar_width=20),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            disable=quiet,
        )
        self.tasks = {s: self.progress.add_task("waiting", total=1, stage=s, start=False) for s in stages}
        self.started: dict[str, float] = {}

    def __enter__(self) -> "BuildDisplay":
        _quiet_library_bars()
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def message(self, stage: str, text: str) -> None:
        task = self.tasks.get(stage)
        if task is None:
            return
        if stage not in self.started:
            self.started[stage] = time.perf_counter()
            self.progress.start_task(task)
        text = text.removeprefix(f"{stage}: ")
        short = text if len(text) <= 90 else text[:87] + "…"
        self.progress.update(task, description=short)
        if not self.quiet:
            loud = "NOT BETTER" in text or text.startswith(("⚠", "✔"))
            self.progress.console.print(f"[{'bold yellow' if loud else 'dim'}]{stage}: {text}[/]", highlight=False)

    def done(self, result, seconds: float) -> None:
        task = self.tasks.get(result.stage)
        if task is None:
            return
        if result.stage not in self.started:
            self.progress.start_task(task)
        state = "skipped (up to date)" if result.skipped else f"done in {seconds:.1f}s"
        self.progress.update(task, completed=1, description=f"[green]{state}")

    def summary(self, markdown: str) -> None:
        from rich.markdown import Markdown
        from rich.panel import Panel

        from rich.console import Console

        Console().print(Panel(Markdown(markdown), title="builder build", border_style="green"))


def _quiet_library_bars() -> None:
    """transformers/datasets draw their own tqdm bars; the build display replaces them."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
