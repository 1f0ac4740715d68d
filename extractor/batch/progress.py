"""What operations see while a backfill runs: a Rich progress bar, or a line a minute when not on a terminal."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgressBar
from rich.text import Text


@dataclass
class Progress:
    """What a progress display is told; the CLI renders it with Rich."""

    total: int
    done: int
    failed: int
    replaced: int = 0
    cache_hits: int = 0  # PDFs of this run taken from the document-text cache (no PDF read, no OCR)
    cache_misses: int = 0  # PDFs read (and OCR'd) in this run


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} cases/s" if speed else "-- cases/s", style="progress.data.speed")


class LiveProgress:
    """Rich progress bar on a terminal; a plain line every few seconds when stderr is a log file."""

    def __init__(self, console: Console | None = None, every: float = 10.0):
        self.console = console or Console(stderr=True)
        self.every = every
        self.bar: RichProgressBar | None = None
        self.task = None
        self.started = time.monotonic()
        self.first_done = 0
        self.last_line = 0.0

    def start(self, p: Progress) -> None:
        self.started = time.monotonic()
        self.first_done = p.done
        if self.console.is_terminal:
            self.bar = RichProgressBar(
                TextColumn("backfill"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("[red]{task.fields[failures]} failed"),
                console=self.console,
            )
            self.bar.start()
            self.task = self.bar.add_task("backfill", total=p.total, completed=p.done, failures=p.failed)
        else:
            self._line(p, force=True)

    def update(self, p: Progress) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=p.done, failures=p.failed)
        else:
            self._line(p)

    def stop(self, p: Progress | None = None) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        elif p is not None:
            self._line(p, force=True)

    def _line(self, p: Progress, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_line < self.every:
            return
        self.last_line = now
        rate = (p.done - self.first_done) / max(now - self.started, 1e-9)
        left = p.total - p.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "--"
        self.console.print(
            f"backfill: {p.done}/{p.total} done, {rate:.1f} cases/s, ETA {eta}, {p.failed} failed", highlight=False
        )
