"""The sandbox itself (kata/grading/sandbox.py), below `kata grade`: what graded code can reach in it."""

import json
import os
import sys
import textwrap

import pytest

from kata.grading import sandbox
from kata.limits import Limits

pytestmark = pytest.mark.meta

# Graded code tries every way into the kernel keyring, with the numbers of this machine's architecture, and
# reports each call's errno. The keyring outlives a run's processes: a run able to write there could keep the
# hidden tests for a later run of the same user to print in a visible test's message.
TRY_THE_KEYRING = textwrap.dedent(
    """
    import ctypes, json, os
    libc = ctypes.CDLL(None, use_errno=True)
    add_key, request_key, keyctl = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}[os.uname().machine]
    KEY_SPEC_USER_KEYRING, KEYCTL_GET_KEYRING_ID = -4, 0
    calls = {
        "add_key": (add_key, b"user", b"kata-leak", b"hidden tests", 12, KEY_SPEC_USER_KEYRING),
        "request_key": (request_key, b"user", b"kata-leak", None, 0),
        "keyctl": (keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1),
    }
    found = {}
    for name, arguments in calls.items():
        ctypes.set_errno(0)
        found[name] = [libc.syscall(*arguments), ctypes.get_errno()]
    os.write(int(os.environ["KATA_REPORT_FD"]), json.dumps(found).encode() + b"\\n")
    """
)


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="the test knows two architectures")
def test_graded_code_cannot_reach_the_kernel_keyring(tmp_path):
    reported = reported_in_a_sandbox([sys.executable, "-c", TRY_THE_KEYRING], tmp_path)
    assert reported == {name: [-1, 1] for name in ("add_key", "request_key", "keyctl")}


def reported_in_a_sandbox(argv: list[str], tmp_path):
    """What `argv`, run in a sandbox as graded code runs, wrote on its report pipe (one JSON line)."""
    confinement = sandbox.detect()
    if not confinement.sandboxed:
        pytest.skip(confinement.statement)
    (tmp_path / "tree" / sandbox.RUN).mkdir(parents=True)  # where a grading tree holds the run folder
    (tmp_path / "run").mkdir()
    slot = sandbox.claim_users(1)[0] if confinement.as_root else 0
    arguments = dict(confinement=confinement, tree=tmp_path / "tree", run_folder=tmp_path / "run", slot=slot)
    with sandbox.ConfinedRun(argv, **arguments, limits=Limits()) as run:
        line = run.read_line(60)
    assert line is not None, "the graded code reported nothing"
    return json.loads(line)


# Graded code looks for another student's submission in the folder the grader was started from, and writes to
# its own /tmp.
LOOK_AROUND = textwrap.dedent(
    """
    import json, os, sys
    found = {"classmate": os.path.exists(sys.argv[1])}
    try:
        with open("/tmp/scratch", "w") as scratch:
            found["tmp"] = scratch.write("mine")
    except OSError as error:
        found["tmp"] = error.strerror
    os.write(int(os.environ["KATA_REPORT_FD"]), json.dumps(found).encode() + b"\\n")
    """
)


@pytest.mark.parametrize("started_in", ["course", "/tmp"])
def test_the_folder_the_grader_started_from_stays_out_of_the_sandbox(started_in, tmp_path, monkeypatch):
    """`python -m kata grade` puts the folder it starts from first on the grader's sys.path, as a script in
    /tmp puts /tmp: neither is part of the Python that graded code runs on."""
    classmate = tmp_path / "course" / "submissions" / "alice" / "s01_tokenizer.py"
    classmate.parent.mkdir(parents=True)
    classmate.write_text("# Alice's work\n")
    monkeypatch.syspath_prepend(str(tmp_path / "course") if started_in == "course" else started_in)
    reported = reported_in_a_sandbox([sys.executable, "-c", LOOK_AROUND, str(classmate)], tmp_path)
    assert reported == {"classmate": False, "tmp": 4}
