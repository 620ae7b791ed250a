"""For tests that start the kata in a child process and press Ctrl-C in it."""

import signal


def default_ctrl_c() -> None:
    """A preexec_fn: Ctrl-C acts in the child as in a terminal, even where this suite runs in the background
    of a script (`pytest ... &` without job control ignores SIGINT, and a child would inherit that: its
    Ctrl-C would never arrive)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
