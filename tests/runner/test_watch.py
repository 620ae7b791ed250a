"""Watch mode end to end, in a real pseudo-terminal: save a fixed stub, see the stage turn done."""

import os
import pty
import shutil
import sys
import termios

import pytest
from children import default_ctrl_c

from kata.manifest import REPOSITORY_ROOT, stages
from kata.watch import _cbreak

pexpect = pytest.importorskip("pexpect")  # a dev dependency: pip install -e ".[dev]"

pytestmark = pytest.mark.meta


def spawn_kata(*arguments):
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kata", *arguments],
        cwd=str(REPOSITORY_ROOT),
        encoding="utf-8",
        timeout=120,  # only a failure waits this long; a busy machine may need a minute to start kata
        dimensions=(60, 140),
        preexec_fn=default_ctrl_c,
    )
    child.expect(f"0 of {len(stages())} stages done")
    return child


def test_saving_a_fixed_stub_turns_the_stage_done_then_keys_work(exercises_copy):
    child = spawn_kata("--impl", str(exercises_copy))
    child.expect("watching")
    shutil.copy(REPOSITORY_ROOT / "solutions" / "s01_tokenizer.py", exercises_copy / "s01_tokenizer.py")
    child.expect("running the tests of Stage 1 · Character tokenizer")  # at once, before the verdict
    child.expect(f"1 of {len(stages())} stages done")
    child.expect("done: all public tests pass")
    child.expect("Stage 2 · Encoded corpus and batches")
    child.send("h")
    child.expect("Hint 1 of 3 · Stage 2 · Encoded corpus and batches")
    child.send("l")
    child.expect(stages()[-1].module_file)  # the list's last file (long paths fold, at a slash where they can)
    child.sendintr()  # Ctrl-C quits as cleanly as q
    child.expect("Bye!")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_terminal_is_restored_even_when_interrupted():
    leader, follower = pty.openpty()
    with os.fdopen(follower, "r") as terminal:
        before = termios.tcgetattr(terminal)
        with pytest.raises(KeyboardInterrupt), _cbreak(terminal):
            assert termios.tcgetattr(terminal) != before
            raise KeyboardInterrupt
        assert termios.tcgetattr(terminal) == before
    os.close(leader)


def test_manual_mode_re_runs_on_enter(exercises_copy):
    child = spawn_kata("--manual", "--impl", str(exercises_copy))
    child.expect("Enter re-runs")
    shutil.copy(REPOSITORY_ROOT / "solutions" / "s05_averaging.py", exercises_copy / "s05_averaging.py")
    child.sendline("")
    child.expect(f"1 of {len(stages())} stages done")
    child.sendline("q")
    child.expect(pexpect.EOF)
