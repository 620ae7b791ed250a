"""`kata` / `kata watch`: re-run the learner's stages on every save and show the verdict.

The process stays warm (torch and the test modules are imported once); each run happens in a
forked child, so a learner's crash or endless loop never takes the runner down. A save wakes the
loop at once (the watcher thread writes to a pipe the loop waits on), and a "running…" line with
the seconds so far stays on screen until the verdict replaces it.
"""

import os
import queue
import select
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import watchfiles

from kata import display
from kata.manifest import stage_names, stages
from kata.stage_status import apply_locks, check_stages, first_unfinished
from kata.suite import warm_up
from kata.workspace import next_hint

try:
    import termios
    import tty
except ImportError:  # Windows: no single-key input, so `kata` re-runs on Enter (--manual)
    termios = None

KEYS = "h hint · l list · r re-run · q quit"


class WatchSession:
    def __init__(self, folder: Path):
        self.folder = folder
        self.console = display.console()
        self.statuses = {}
        self.note = None  # a hint or the file list, shown under the view until the next run
        self.footer = ""

    def run(self, names=None) -> None:
        """Re-run the named stages (default: all) and every stage that builds on them."""
        selected = [s for s in stages() if names is None or s.name in names or set(s.prerequisites) & set(names)]
        self.note = None
        with display.running(self.console, selected):
            self.statuses.update(check_stages(self.folder, selected))
        apply_locks(self.statuses)
        self.render()

    def render(self) -> None:
        self.console.clear()
        self.console.print(display.full_view(self.statuses, self.folder, self.footer))
        if self.note is not None:
            self.console.print(self.note)

    def show_hint(self) -> None:
        status = first_unfinished(self.statuses)
        if status is None:
            return
        self.note = display.hint_panel(status.stage, next_hint(status.stage, self.folder), "press h for the next one")
        self.render()

    def show_list(self) -> None:
        self.note = display.stage_table(self.statuses, self.folder, with_files=True)
        self.render()

    def handle_key(self, key: str) -> bool:
        """Act on one key; False means quit."""
        actions = {"h": self.show_hint, "l": self.show_list, "r": self.run}
        if key == "q":
            return False
        if key in actions:
            actions[key]()
        return True


def watch(folder: Path, manual: bool = False) -> int:
    session = WatchSession(folder)
    session.console.print("Loading torch and the tests once; every later run reuses them...")
    warm_up()
    try:
        if manual or termios is None or not sys.stdin.isatty():
            session.footer = f"{KEYS}   (Enter re-runs)"
            session.run()
            _manual_loop(session)
        else:
            session.footer = f"{KEYS}   (watching {folder.name}/ for saves)"
            _watch_loop(session)
    except KeyboardInterrupt:
        pass
    session.console.print("Bye! Run `kata` again to pick up where you left off.")
    return 0


def _manual_loop(session: WatchSession) -> None:
    while True:
        try:
            line = input("> ").strip().lower()
        except EOFError:
            return
        if not session.handle_key(line[:1] or "r"):
            return


def _watch_loop(session: WatchSession) -> None:
    changes, stop = queue.Queue(), threading.Event()
    wake_read, wake_write = os.pipe()  # the watcher wakes the loop through it: no polling delay after a save
    watcher = threading.Thread(target=_watch_files, args=(session.folder, changes, stop, wake_write), daemon=True)
    watcher.start()  # before the first run, so that no save made during it is missed
    session.run()
    try:
        with _cbreak(sys.stdin):
            while True:
                ready, _, _ = select.select([sys.stdin, wake_read], [], [])
                if sys.stdin in ready:
                    key = os.read(sys.stdin.fileno(), 1).decode(errors="ignore")
                    if key and not session.handle_key(key.lower()):
                        return
                if wake_read in ready:
                    os.read(wake_read, 4096)
                changed = _drain(changes)
                if isinstance(changed, str):
                    session.footer = changed
                    session.render()
                elif changed:
                    session.run(changed)
    finally:
        stop.set()
        os.close(wake_read)  # the watcher thread may still write once: its end stays open until the process exits


def _watch_files(folder: Path, changes: queue.Queue, stop: threading.Event, wake: int) -> None:
    names = set(stage_names())
    try:
        for batch in watchfiles.watch(
            folder,
            stop_event=stop,
            debounce=50,
            step=20,  # an editor's save (write, rename) arrives within a few ms: 20 ms of quiet ends it
            raise_interrupt=False,
            watch_filter=lambda change, path: Path(path).suffix == ".py" and Path(path).stem in names,
        ):
            changes.put({Path(path).stem for _, path in batch})
            _wake(wake)
    except Exception as error:  # e.g. no inotify on this file system
        changes.put(f"Watching {folder} failed ({error}); restart with `kata --manual` and press Enter to re-run.")
        _wake(wake)


def _wake(wake: int) -> None:
    try:
        os.write(wake, b"!")
    except OSError:  # the loop has ended and closed its end
        pass


def _drain(changes: queue.Queue):
    merged = set()
    while True:
        try:
            item = changes.get_nowait()
        except queue.Empty:
            return merged
        if isinstance(item, str):
            return item
        merged |= item


@contextmanager
def _cbreak(stream):
    """Keys arrive one at a time without Enter; the terminal is restored whatever happens."""
    saved = termios.tcgetattr(stream)
    try:
        tty.setcbreak(stream)
        yield
    finally:
        termios.tcsetattr(stream, termios.TCSADRAIN, saved)
