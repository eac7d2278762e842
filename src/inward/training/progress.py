"""A rich progress bar for training: steps, loss, examples/s, time left. Disabled = no output at all."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class TrainProgress:
    def __init__(self, total_steps: int, *, enabled: bool, done: int = 0) -> None:
        self._progress: Progress | None = None
        self._examples = 0
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[speed]} ex/s"),
                TimeRemainingColumn(),
            )
            self._task = self._progress.add_task(
                "train", total=total_steps, completed=done, loss="-", speed="-"
            )

    def __enter__(self) -> TrainProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, *, loss: float, examples: int, elapsed: float) -> None:
        self._examples += examples
        if self._progress is None:
            return
        speed = f"{self._examples / elapsed:.1f}" if elapsed > 0 else "-"
        self._progress.update(self._task, advance=1, loss=f"{loss:.4f}", speed=speed)
