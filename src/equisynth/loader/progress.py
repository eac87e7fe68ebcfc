"""Per-table progress of a load: DuckDB reports how far a running query is, rich draws the bars."""

import threading
from typing import Callable, Protocol

import duckdb

POLL_SECONDS = 0.2


class TableProgress(Protocol):
    def start(self, table: str, label: str) -> None: ...
    def update(self, table: str, percent: float) -> None: ...
    def finish(self, table: str, rows: int) -> None: ...


class NoProgress:
    """Progress that shows nothing (for tests and library calls with progress=False)."""

    def __enter__(self) -> "NoProgress":
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def start(self, table: str, label: str) -> None:
        return None

    def update(self, table: str, percent: float) -> None:
        return None

    def finish(self, table: str, rows: int) -> None:
        return None


class RichProgress:
    """One rich progress bar per table on stderr, in percent of the file DuckDB has read."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rows]}"),
            console=Console(stderr=True),
        )
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "RichProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._progress.stop()

    def start(self, table: str, label: str) -> None:
        self._tasks[table] = self._progress.add_task(label, total=100, rows="")

    def update(self, table: str, percent: float) -> None:
        self._progress.update(self._tasks[table], completed=min(max(percent, 0.0), 100.0))

    def finish(self, table: str, rows: int) -> None:
        self._progress.update(self._tasks[table], completed=100, rows=f"{rows:,} rows")


def execute_with_progress(
    con: duckdb.DuckDBPyConnection, sql: str, on_percent: Callable[[float], None] | None
) -> None:
    """Run `sql` on a cursor of `con` in a worker thread and report DuckDB's query progress.

    The statement commits on its own (autocommit), like a plain `con.execute`. Ctrl-C
    interrupts the running query before the KeyboardInterrupt propagates.
    """
    if on_percent is None:
        con.execute(sql)
        return

    cursor = con.cursor()
    cursor.execute("set enable_progress_bar = true")
    cursor.execute("set enable_progress_bar_print = false")
    failure: list[BaseException] = []

    def run() -> None:
        try:
            cursor.execute(sql)
        except BaseException as exc:  # re-raised in the calling thread below
            failure.append(exc)

    worker = threading.Thread(target=run, name="equisynth-load", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL_SECONDS)
            percent = cursor.query_progress()
            if percent >= 0:
                on_percent(percent)
    except KeyboardInterrupt:
        cursor.interrupt()
        worker.join()
        raise
    finally:
        if not worker.is_alive():
            cursor.close()

    if failure:
        raise failure[0]
