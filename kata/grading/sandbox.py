"""Where graded code runs: a bubblewrap sandbox per run, or, where bubblewrap cannot run, a plain child
process (said plainly, with what that does not guarantee).

In the sandbox graded code sees a read-only tree (the kata, the tests, the corpus, a copy of one
submission; no solutions/, no other submission, no output folder, no instructor checkout), the Python
it runs on, a private /tmp and nothing else; it has no network, its own PID namespace (every process
dies with the run), no kernel keyring (a seccomp filter refuses its system calls), and when the grader runs
as root it runs as an unprivileged user of its own. Memory and process count are limited for the run as a
whole (a cgroup where one can be made, else a watchdog that sums the run's memory, and the process limit of
its own user). Only the report pipe comes back (and, for the check at scale, its input goes in).
"""

import contextlib
import errno
import fcntl
import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kata.grading.report import MAX_LINE_BYTES, MAX_REPORT_BYTES
from kata.limits import Limits

INSIDE_TREE = Path("/grading")  # where the read-only grading tree appears in the sandbox
RUN = "run"  # where one submission's run folder (its copy, its probe inputs) appears in a tree
FIRST_UID = 61000  # graded code runs as users of its own from here on when the grader is root
UID_LOCKS = Path("/run/kata-sandbox-users") if Path("/run").is_dir() else Path("/tmp/kata-sandbox-users")


@dataclass(frozen=True)
class Confinement:
    """How this machine confines graded code, decided once per `kata grade`."""

    bwrap: str | None  # the bubblewrap executable, None where it cannot run here
    as_root: bool  # the grader runs as root: graded code then runs as a user of its own
    statement: str  # what the grades rest on, for the instructor

    @property
    def sandboxed(self) -> bool:
        return self.bwrap is not None

    def tree_root(self, tree: Path) -> Path:
        """Where graded code finds the grading tree."""
        return INSIDE_TREE if self.sandboxed else tree


def detect(sandboxing: str = "preferred") -> Confinement:
    """How to confine graded code here. `sandboxing`: "preferred" (bubblewrap where it runs, else plain
    child processes, said plainly), "required" (RuntimeError where bubblewrap cannot run) or "off"."""
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    reason = "the sandbox was switched off (--without-sandbox)"
    bwrap = shutil.which("bwrap") if sandboxing != "off" else None
    if bwrap and isinstance(keyring_filter(), str):
        reason = keyring_filter()
    elif bwrap:
        trial = _trial(bwrap)
        if trial.returncode == 0:
            return Confinement(
                bwrap, as_root, "each stage ran in a bubblewrap sandbox (see the README's Grading section)"
            )
        reason = f"bubblewrap cannot make a sandbox here ({trial.stderr.decode(errors='replace').strip()[:200]})"
    elif sandboxing != "off":
        reason = "bubblewrap (bwrap) is not installed; on Debian or Ubuntu: apt-get install bubblewrap"
    if sandboxing == "required":
        raise RuntimeError(f"Grading did not start: {reason}, and --require-sandbox was given.")
    return Confinement(
        None,
        as_root,
        f"NOT SANDBOXED: {reason}. Graded code ran as a plain child process: it could read what its user can "
        "read (solutions/ included), use the network and start processes that outlive the stage"
        + ("; it ran as a user of its own, whose processes were all killed after each stage." if as_root else "."),
    )


def _trial(bwrap: str) -> subprocess.CompletedProcess:
    """A sandbox as graded code gets one, filter included, running `true`."""
    with _filter_pipe() as descriptor:
        command = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--seccomp", str(descriptor)]
        return subprocess.run([*command, "true"], capture_output=True, pass_fds=(descriptor,))


@functools.cache
def keyring_filter() -> bytes | str:
    """The seccomp program (classic BPF, for bubblewrap's --seccomp) that makes the kernel keyring's system calls
    fail with EPERM, or why it cannot be built here. The keyring is the one store the sandbox's namespaces leave
    shared: a user's keys outlive its processes, so a run of the user graded code runs as could keep the hidden
    tests there for a later run to print (and, without root, read the grader's session keyring). libseccomp
    builds the program: it knows each architecture's system call numbers, and its program kills a call made in
    another architecture's convention (x32, i386), which a filter written by hand would have to get right."""
    try:
        import pyseccomp
    except (ImportError, OSError) as error:  # OSError: the binding found no libseccomp to load
        return f"libseccomp cannot load here ({error}); on Debian or Ubuntu: apt-get install libseccomp2"
    refusing = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for call in ("add_key", "request_key", "keyctl"):
        refusing.add_rule(pyseccomp.ERRNO(errno.EPERM), call)
    with tempfile.TemporaryFile() as program:
        refusing.export_bpf(program)
        program.seek(0)
        return program.read()


@contextlib.contextmanager
def _filter_pipe() -> Iterator[int]:
    """The read end of a pipe that holds the keyring filter, for bubblewrap, which reads it to the end."""
    read_end, write_end = os.pipe()
    os.write(write_end, keyring_filter())  # a few hundred bytes: the pipe's buffer holds them
    os.close(write_end)
    try:
        yield read_end
    finally:
        os.close(read_end)


class RunStopped(Exception):
    """The grader stopped the run for going past a limit; the message says which, in words for the student."""


@dataclass
class RunEnd:
    exit_status: int | None  # None when the grader stopped the run
    problem: str = ""  # why the grader stopped it, in words for the instructor and the student


def claim_users(count: int) -> list[int]:
    """`count` user ids no other grader on this machine is using, each held (by a lock on a file) until
    this process ends: every process of a user is killed after each run, so two graders, or two runs at
    once, must never share one."""
    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    claimed = []
    for uid in range(FIRST_UID, FIRST_UID + 10_000):
        lock = open(UID_LOCKS / str(uid), "w")  # held open for the life of the grader
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        _held_locks.append(lock)
        claimed.append(uid)
        if len(claimed) == count:
            return claimed
    raise RuntimeError("no free user id for graded code (ten thousand graders at once?)")


_held_locks: list = []
_live_runs: set["ConfinedRun"] = set()
_live_lock = threading.Lock()


def kill_every_run() -> None:
    """Ctrl-C: every confined process of this grader, now."""
    with _live_lock:
        runs = list(_live_runs)
    for run in runs:
        run.kill()


class ConfinedRun:
    """One confined process: its report lines as they arrive, then its end. Use as a context manager:
    leaving it kills every process of the run, whatever happened."""

    def __init__(
        self,
        argv: list[str],
        *,
        confinement: Confinement,
        tree: Path,
        run_folder: Path,
        limits: Limits,
        slot: int,
        fed: bool = False,
    ):
        """`slot` is a user claimed with claim_users (when root): no other run, of any grader, uses it now.
        `fed`: the run reads its standard input, which the grader writes later (`feed`), else it reads nothing."""
        self.confinement, self.limits, self.uid = confinement, limits, slot
        self.tree_root = confinement.tree_root(tree)
        self.run_folder = run_folder
        self.cgroup = Cgroup.create(f"kata-{os.getpid()}-{slot}", limits)
        read_end, write_end = os.pipe()
        with _filter_pipe() if confinement.sandboxed else contextlib.nullcontext() as filter_end:
            self.process = subprocess.Popen(
                self._wrapped(argv, tree, filter_end),
                stdin=subprocess.PIPE if fed else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("KATA_SANDBOX_STDERR") else subprocess.DEVNULL,  # for maintainers
                pass_fds=(write_end,) if filter_end is None else (write_end, filter_end),
                start_new_session=True,
                env=self._environment(tree, write_end),
                cwd="/",
            )
        os.close(write_end)
        self.pipe = os.fdopen(read_end, "rb", buffering=0)
        self.buffer = b""
        self.received = 0
        self.problem = ""
        self.watchdog = _Watchdog(self, limits)
        with _live_lock:
            _live_runs.add(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self.pipe.close()
        if self.process.stdin:
            self.process.stdin.close()
        return False

    def read_line(self, timeout: float) -> bytes | None:
        """The next complete line; None at the end of the report. Raises TimeoutError after `timeout` s
        without one, and ValueError when the run sends more than the protocol allows."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.pipe], [], [], min(remaining, 0.5))
            if self.problem:
                raise RunStopped(self.problem)
            if not ready:
                continue
            chunk = self.pipe.read(1 << 16)
            if not chunk:
                return None
            self.received += len(chunk)
            self.buffer += chunk
            if self.received > MAX_REPORT_BYTES or (b"\n" not in self.buffer and len(self.buffer) > MAX_LINE_BYTES):
                raise ValueError(  # the limits, never the count: a run that can read the hidden tests chooses that
                    f"the run sent more than the protocol allows (a line of {MAX_LINE_BYTES} bytes, "
                    f"{MAX_REPORT_BYTES} in all)"
                )
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def feed(self, data: bytes) -> None:
        """Write all of the run's standard input (a run made with fed=True), then close it."""
        try:
            self.process.stdin.write(data)
            self.process.stdin.close()
        except OSError:  # the run is gone or closed its input: what it reports, or not, says the rest
            pass

    def finish(self, timeout: float) -> RunEnd:
        """Wait for the process to end (killing it after `timeout` s) and say how it ended."""
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return RunEnd(None, "it did not end after its report")
        return RunEnd(status, self.problem or _memory_problem(self.cgroup))

    def kill(self) -> None:
        """Every process of the run, detached ones included, and the run's cgroup."""
        with _live_lock:
            if self not in _live_runs:
                return
            _live_runs.discard(self)
        self.watchdog.stop()
        _kill_group(self.process.pid)
        if self.cgroup:
            self.cgroup.kill_all()
        if self.confinement.as_root:
            _kill_user(self.uid)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        if self.cgroup:
            self.cgroup.remove()

    # ---- the command line ------------------------------------------------------------------------------

    def _wrapped(self, argv: list[str], tree: Path, filter_end: int | None) -> list[str]:
        """The launcher that joins the cgroup and sets the per-process limits, then becomes the sandbox."""
        spec = {
            "cgroup_procs": [str(path) for path in (self.cgroup.procs_files if self.cgroup else [])],
            "memory_bytes": (self.limits.memory_mb + 2048) * 2**20,  # per process, a backstop behind the run's limit
            "processes": self._process_limit(),
            "argv": self._confined(argv, tree, filter_end),
        }
        return [sys.executable, "-I", "-S", str(Path(__file__).with_name("launcher.py")), json.dumps(spec)]

    def _process_limit(self) -> int:
        if self.confinement.as_root:
            return self.limits.processes  # the run's own user: the limit is the run's alone
        return self.limits.processes + _tasks_of(os.getuid())  # shared with the grader's user

    def _confined(self, argv: list[str], tree: Path, filter_end: int | None) -> list[str]:
        drop = (
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", "--inh-caps=-all"]
            + ["--bounding-set=-all", "--no-new-privs", "--"]
            if self.confinement.as_root
            else []
        )
        if not self.confinement.sandboxed:
            return [*drop, *argv]
        options = _bwrap_options(tree, self.run_folder, self.confinement.as_root)
        return [self.confinement.bwrap, *options, "--seccomp", str(filter_end), "--", *drop, *argv]

    def _environment(self, tree: Path, report_fd: int) -> dict[str, str]:
        root = self.confinement.tree_root(tree)
        return {
            "KATA_REPORT_FD": str(report_fd),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # only the plugins the run names
            "OMP_NUM_THREADS": "1",
            "MPLCONFIGDIR": "/tmp",
            "HYPOTHESIS_STORAGE_DIRECTORY": "/tmp/hypothesis",
        }


def _bwrap_options(tree: Path, run_folder: Path, as_root: bool) -> list[str]:
    options = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    options += ["--die-with-parent", "--new-session", "--hostname", "kata-sandbox"]
    options += ["--proc", "/proc", "--dev", "/dev", "--perms", "01777", "--size", str(256 * 2**20), "--tmpfs", "/tmp"]
    options += ["--chdir", "/tmp"]
    for system in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc/ld.so.cache", "/etc/alternatives"):
        if os.path.exists(system):
            options += ["--ro-bind", system, system]
    for path in _python_paths():
        options += _parents_readable(path) + ["--ro-bind", str(path), str(path)]
    options += ["--ro-bind", str(tree), str(INSIDE_TREE), "--ro-bind", str(run_folder), str(INSIDE_TREE / RUN)]
    if as_root:
        options += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]  # for setpriv, which drops them all
    else:
        options += ["--unshare-user", "--disable-userns"]
    return options


def _python_paths() -> list[Path]:
    """The Python installation and environment graded code runs on, read-only; never the kata's checkout."""
    from kata.manifest import REPOSITORY_ROOT

    found: list[Path] = []
    for entry in [sys.base_prefix, sys.prefix, *_installation_sys_path()]:
        path = Path(entry).resolve() if entry else None
        if not path or not path.exists() or path == Path("/"):
            continue
        if path.is_relative_to(REPOSITORY_ROOT) and not path.is_relative_to(Path(sys.prefix).resolve()):
            continue
        if any(path.is_relative_to(kept) for kept in found) or str(path).startswith(("/usr", "/lib", "/bin")):
            continue
        found = [kept for kept in found if not kept.is_relative_to(path)] + [path]
    return found


@functools.cache
def _installation_sys_path() -> list[str]:
    """sys.path as an isolated interpreter of this environment builds it: the installation's folders and what
    its .pth files add. The grader's own sys.path also holds the folder it was started from (`python -m kata`)
    or its script's: bound into the sandbox, a course folder put every submission within the graded code's
    reach, and /tmp hid the sandbox's own /tmp behind a read-only one."""
    command = [sys.executable, "-I", "-c", "import json, sys; print(json.dumps(sys.path))"]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout)


def _parents_readable(path: Path) -> list[str]:
    """bubblewrap makes the parents of a bound path private (0700); graded code must pass through them."""
    options = []
    for parent in reversed(path.parents):
        if parent != Path("/") and not str(parent).startswith(("/usr", "/lib")):
            options += ["--perms", "0755", "--dir", str(parent)]
    return options


# ---- limits for the run as a whole --------------------------------------------------------------


class Cgroup:
    """A cgroup for one run, where this machine lets the grader make one (cgroup v2, or v1's memory and
    pids controllers): it caps the run's memory and processes together and lists every process to kill."""

    def __init__(self, folders: list[Path], procs_files: list[Path]):
        self.folders, self.procs_files = folders, procs_files

    @classmethod
    def create(cls, name: str, limits: Limits) -> "Cgroup | None":
        for make in (cls._v2, cls._v1):
            try:
                made = make(name, limits)
            except OSError:
                made = None
            if made:
                return made
        return None

    @classmethod
    def _v2(cls, name: str, limits: Limits):
        own = _own_cgroup("")
        if own is None:
            return None
        parent = Path("/sys/fs/cgroup") / own.lstrip("/")
        if not {"memory", "pids"} <= set((parent / "cgroup.subtree_control").read_text().split()):
            return None
        folder = parent / name
        folder.mkdir()
        (folder / "memory.max").write_text(str(limits.memory_mb * 2**20))
        (folder / "memory.swap.max").write_text("0")
        (folder / "pids.max").write_text(str(limits.processes))
        return cls([folder], [folder / "cgroup.procs"])

    @classmethod
    def _v1(cls, name: str, limits: Limits):
        folders = []
        for controller, settings in (
            ("memory", {"memory.limit_in_bytes": limits.memory_mb * 2**20}),
            ("pids", {"pids.max": limits.processes}),
        ):
            own = _own_cgroup(controller)
            if own is None:
                return None
            folder = Path("/sys/fs/cgroup") / controller / own.lstrip("/") / name
            folder.mkdir()
            folders.append(folder)
            for setting, value in settings.items():
                (folder / setting).write_text(str(value))
        folders += _v1_cpu_group(name)
        return cls(folders, [folder / "cgroup.procs" for folder in folders])

    @classmethod
    def remove_stale(cls) -> None:
        """Remove the run cgroups of graders that were killed before they could (kata-PID-SLOT, PID gone)."""
        for controller in ("", "memory", "pids", "cpu"):
            own = _own_cgroup(controller)
            if own is None:
                continue
            parent = Path("/sys/fs/cgroup") / controller / own.lstrip("/")
            for folder in parent.glob("kata-*-*"):
                if not Path(f"/proc/{folder.name.split('-')[1]}").exists():
                    cls([folder], [folder / "cgroup.procs"]).kill_all()
                    cls([folder], []).remove()

    def processes(self) -> set[int]:
        found = set()
        for procs in self.procs_files:
            try:
                found |= {int(pid) for pid in procs.read_text().split()}
            except OSError:
                pass
        return found

    def kill_all(self) -> None:
        for _ in range(20):  # a process may fork while the others are being killed
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                _signal(pid, signal.SIGKILL)
            time.sleep(0.05)

    def out_of_memory(self) -> bool:
        for folder in self.folders:
            for events, key in (("memory.events", "oom_kill"), ("memory.failcnt", None)):
                try:
                    text = (folder / events).read_text()
                except OSError:
                    continue
                count = dict(line.split() for line in text.splitlines()).get(key, "0") if key else text.strip()
                if int(count or 0) > 0:
                    return True
        return False

    def remove(self) -> None:
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)


def _v1_cpu_group(name: str) -> list[Path]:
    """A run's own group of v1's cpu controller, where one can be made: the kernel then shares the CPU fairly
    between runs, however many processes each holds. (Without it, a run that starts dozens of busy processes,
    each in a session of its own, would take most of the CPU from the others and stop their tests on time.)
    Under cgroup v2 each run's group has the cpu controller wherever the grader's group passes it on."""
    own = _own_cgroup("cpu")
    if own is None:
        return []
    folder = Path("/sys/fs/cgroup") / "cpu" / own.lstrip("/") / name
    try:
        folder.mkdir()
    except OSError:
        return []
    return [folder]


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path for `controller` ("" for cgroup v2), from /proc/self/cgroup."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (controller == "" and controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").exists()) or (
            controller and controller in controllers.split(",")
        ):
            return path
    return None


def _memory_problem(cgroup: Cgroup | None) -> str:
    if cgroup and cgroup.out_of_memory():
        return "it used more memory than the stage may (all its processes together)"
    return ""


class _Watchdog:
    """Ten times a second: stops the run when it holds as many processes as a stage may (a fork bomb, a
    crowd of sleepers: honest code never comes near), or, where no cgroup caps its memory, when the
    resident memory of all its processes passes the limit."""

    def __init__(self, run: ConfinedRun, limits: Limits):
        self.run, self.limits = run, limits
        self.stopped = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()

    def _watch(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stopped.wait(0.1):
            cgroup = self.run.cgroup
            processes = cgroup.processes() if cgroup else _descendants(self.run.process.pid)
            if len(processes) >= self.limits.processes:
                return self._stop(f"it started more processes than a stage may ({self.limits.processes} at once)")
            if not cgroup and sum(_resident_pages(pid) for pid in processes) * page > self.limits.memory_mb * 2**20:
                return self._stop("it used more memory than the stage may (all its processes together)")

    def _stop(self, problem: str) -> None:
        self.run.problem = problem
        _kill_group(self.run.process.pid)
        if self.run.cgroup:
            self.run.cgroup.kill_all()
        if self.run.confinement.as_root:
            _kill_user(self.run.uid)


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += [child for child in children.get(pid, []) if child not in found]
    return found


def _resident_pages(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _tasks_of(uid: int) -> int:
    """Processes and threads of `uid`: what the per-user process limit counts."""
    return sum(_threads(entry) for entry in Path("/proc").iterdir() if entry.name.isdigit() and _owner(entry) == uid)


def _threads(entry: Path) -> int:
    try:
        return len(list((entry / "task").iterdir()))
    except OSError:
        return 0


def _owner(entry: Path) -> int | None:
    try:
        return entry.stat().st_uid
    except OSError:
        return None


def _kill_user(uid: int) -> None:
    """Every process of the run's own user: none of them may outlive the run."""
    for _ in range(20):
        pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and _owner(entry) == uid]
        if not pids:
            return
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        time.sleep(0.05)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass
