"""Live progress lines for long CLI work (sync, demo): running counters on one rich task, and
the CRM's rate-limit waits shown on the same line (service/waits.py) instead of as log lines."""

from __future__ import annotations

from collections import defaultdict

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from service.waits import describe_wait


def progress_bar() -> Progress:
    """A transient-free progress display: spinner, description, elapsed time."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())


class CounterLine:
    """A `(counter, increment)` callback that shows `name: pulled 1,200  scored 300` live."""

    def __init__(self, bar: Progress, name: str, first: str = "starting") -> None:
        self.bar = bar
        self.name = name
        self.counters: dict[str, int] = defaultdict(int)
        self.task: TaskID = bar.add_task(f"{name}: {first}")

    def __call__(self, counter: str, count: int) -> None:
        self.counters[counter] += count
        self._show()

    def waiting(self, crm: str, seconds: float) -> None:
        """Show a rate-limit wait until the next counter moves (a `WaitListener`)."""
        self._show(describe_wait(crm, seconds))

    def _show(self, note: str | None = None) -> None:
        shown = "  ".join(f"{k} {v:,}" for k, v in self.counters.items())
        if note:
            shown = f"{shown}  ({note})" if shown else note
        self.bar.update(self.task, description=f"{self.name}: {shown}")
