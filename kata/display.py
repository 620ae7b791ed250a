"""What the learner sees: the stage table, the progress bar, the next failing test, the running line."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from kata.implementation import display_path
from kata.manifest import Stage, stages
from kata.stage_status import StageState, StageStatus, first_unfinished
from kata.workspace import ShownHint

MARKS = {
    StageState.DONE: "[green]✔[/]",
    StageState.PARTIAL: "[yellow]✘[/]",
    StageState.NOT_STARTED: "[dim]·[/]",
    StageState.LOCKED: "[dim]🔒[/]",
    StageState.STOPPED: "[red]✘[/]",
}


def stage_table(statuses: dict[str, StageStatus], folder: Path, with_files: bool = False) -> Table:
    shown = [(stage, statuses[stage.name]) for stage in stages() if stage.name in statuses]
    files = [display_path(folder / stage.module_file) for stage, _ in shown]
    table = Table(box=None, show_header=with_files, pad_edge=False)
    table.add_column("")
    table.add_column("stage")
    table.add_column("status")
    if with_files:  # a path is what the learner copies: the other columns wrap first, unless it is too long
        table.add_column("file", no_wrap=max(map(len, files), default=0) <= SHORT_PATH, overflow="fold")
    for (stage, status), file in zip(shown, files, strict=True):
        row = [MARKS[status.state], f"{stage.number} {stage.title}", escape(status.summary())]
        table.add_row(*row, *([file] if with_files else []))
    return table


SHORT_PATH = 40  # characters: a path this long leaves an 80-column terminal room for the other columns


def progress_line(statuses: dict[str, StageStatus]) -> Table:
    done = sum(status.done for status in statuses.values())
    line = Table.grid(padding=(0, 1))
    line.add_row(ProgressBar(total=len(statuses), completed=done, width=30), f"{done} of {len(statuses)} stages done")
    return line


def next_step(statuses: dict[str, StageStatus], folder: Path) -> Panel | Text:
    status = first_unfinished(statuses)
    if status is None:
        return Text("Every stage is done: all public tests pass. Well played!", style="bold green")
    stage, body = status.stage, []
    file = display_path(folder / stage.module_file)
    if status.state is StageState.STOPPED:
        body.append(Text(f"The tests of this stage could not finish: {status.problem}."))
    elif status.first_failure is not None:
        failure = status.first_failure
        body.append(Text(f"First failing test: {failure.name}", style="bold"))
        body.append(Text(failure.message.strip()))
        if failure.output.strip():
            body.append(Text("Your code printed:\n" + failure.output.strip(), style="dim"))
        for other in status.other_failures:
            body.append(Text(f"Also failing: {other.name}", style="bold"))
            body.append(Text(other.message.strip()))
        file = failure.location or file
    body.append(Text(f"Open {file}   ·   lecture: {stage.lecture}", style="cyan"))
    return Panel(Group(*body), title=f"Stage {stage.number} · {stage.title}", title_align="left", border_style="yellow")


def hint_panel(stage: Stage, hint: ShownHint, again: str) -> Panel:
    """A hint as `kata hint`, the watch view and a notebook show it; `again` says how to get the next one."""
    chosen_for = f"For {hint.helps_with}, where the stage's first failing test is:"
    body = [Text(chosen_for, style="dim")] if hint.helps_with else []
    title = f"Hint {hint.number} of {len(stage.hints)} · {stage.label}"
    subtitle = again if hint.more else "that was the last hint"
    return Panel(Group(*body, Text(hint.text)), title=title, subtitle=subtitle, border_style="cyan")


def full_view(statuses: dict[str, StageStatus], folder: Path, footer: str) -> Group:
    title = Text(f"GPT kata · {display_path(folder)}", style="bold")
    return Group(
        title,
        progress_line(statuses),
        stage_table(statuses, folder),
        next_step(statuses, folder),
        Text(footer, style="dim"),
    )


def console() -> Console:
    return Console(highlight=False)


class RunningLine:
    """'⟳ running stage 2 · Encoded corpus and batches… 3 s': what runs, and for how long so far, so a
    slow or endless run never looks like a frozen screen."""

    def __init__(self, selected: list[Stage]):
        self.started = time.monotonic()
        if len(selected) == 1:
            self.what = f"the tests of {selected[0].label}"
        elif len(selected) == len(stages()):
            self.what = "the tests of every stage"
        else:
            self.what = "the tests of stages " + ", ".join(str(stage.number) for stage in selected)

    def __rich__(self) -> Text:
        seconds = time.monotonic() - self.started
        so_far = f" {seconds:.0f} s" if seconds >= 1 else ""
        return Text(f"⟳ running {self.what}…{so_far}", style="cyan")


@contextmanager
def running(console: Console, selected: list[Stage]) -> Iterator[None]:
    """Show the running line (redrawn four times a second) until the block ends, then remove it."""
    live = Live(
        RunningLine(selected),
        console=console,
        transient=True,
        refresh_per_second=4,
        redirect_stdout=False,
        redirect_stderr=False,
    )
    with live:
        yield
