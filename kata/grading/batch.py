"""`kata grade`: a class of submissions, graded in parallel (--jobs), each written as soon as it is done.

The batch always finishes: a missing or empty submission folder is reported and the others graded; an
unusable output folder or a missing or altered corpus is reported before anything is graded; Ctrl-C
kills every sandbox, writes what was graded and says so.
"""

import queue
import re
import shutil
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from kata.corpus import CorpusError, load_corpus
from kata.grading import sandbox, tree
from kata.grading.submission import Setting, SubmissionGrade, grade_submission, ungraded
from kata.limits import Limits
from kata.manifest import Stage
from kata.messages import sentences
from kata.suite import CollectionFailed, collect_test_ids


class GradingRefused(Exception):
    """The batch cannot start; the message says why, for the instructor."""


@dataclass(frozen=True)
class Submission:
    folder: Path
    name: str  # unique in the batch, safe as a file name


def submissions(folders: list[Path], *, reserved: frozenset[str] = frozenset()) -> list[Submission]:
    """A name per submission, from its folder's or notebook's name: unique in the batch, and none of the
    `reserved` names (the files the grader writes beside the submissions' folders, summary.csv say), told
    apart without regard to case, as on macOS's and Windows' file systems."""
    named, taken = [], {name.lower() for name in reserved}
    for folder in folders:
        name = folder.stem if folder.suffix == ".ipynb" else folder.name
        # never a leading "-": a spreadsheet reads "-A1-B1" in summary.csv as a formula, a shell as an option
        base = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._-") or "submission"
        name, number = base, 1
        while name.lower() in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name.lower())
        named.append(Submission(folder, name))
    return named


def check_before_grading(out: Path) -> None:
    try:
        load_corpus()
    except CorpusError as error:
        raise GradingRefused(f"Grading did not start: {error}") from None
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".kata-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise GradingRefused(f"Grading did not start: the output folder {out} cannot be written ({error}).") from None


class Batch:
    """The trees, the test ids and the confinement every submission is graded with; `grade` is thread-safe."""

    def __init__(self, *, limits: Limits, jobs: int, stages: list[Stage], sandboxing: str = "preferred"):
        self.confinement = sandbox.detect(sandboxing)
        sandbox.Cgroup.remove_stale()
        try:
            ids = collect_test_ids(include_hidden=True)
        except CollectionFailed as error:
            raise GradingRefused(f"Grading did not start: {error}") from None
        expected = {stage.name: [i for i in ids if stage.owns_test_file(i.split("::")[0])] for stage in stages}
        if without := [name for name, owned in expected.items() if not owned]:
            raise GradingRefused(f"Grading did not start: pytest found no tests of {', '.join(without)}.")
        self.workspace = tree.make_workspace()
        self.stop_requested = threading.Event()
        self.setting = Setting(
            self.confinement,
            limits,
            tree.build_test_tree(self.workspace / "tests-tree"),
            tree.build_test_tree(self.workspace / "public-tests-tree", hidden=False),
            tree.build_probe_tree(self.workspace / "probe-tree"),
            expected,
            self.stop_requested,
        )
        self.slots: queue.Queue[int] = queue.Queue()
        for slot in sandbox.claim_users(jobs) if self.confinement.as_root else range(jobs):
            self.slots.put(slot)
        self.jobs = jobs

    def grade(self, submission: Submission) -> SubmissionGrade:
        slot = self.slots.get()
        try:
            run_folder = self.workspace / "runs" / submission.name
            run_folder.mkdir(parents=True)
            run_folder.chmod(0o755)
            return grade_submission(submission.folder, submission.name, run_folder, self.setting, slot)
        except Exception as error:  # a fault of the grader's own, met on one submission: the batch goes on
            traceback.print_exc()  # for the instructor; the results name only its type (it may quote graded code)
            problem = sentences(
                f"The grader failed on this submission ({type(error).__name__}): nothing was graded",
                "Grade it again, and report the error the grader printed to the kata's maintainers",
            )
            return ungraded(submission.name, self.setting, problem)
        finally:
            self.slots.put(slot)

    def grade_all(self, batch: list[Submission], on_graded) -> bool:
        """Grade every submission, calling on_graded(submission, grade) as each ends; False after Ctrl-C."""
        with ThreadPoolExecutor(self.jobs) as pool:
            futures = {pool.submit(self.grade, submission): submission for submission in batch}
            try:
                for future in as_completed(futures):
                    on_graded(futures[future], future.result())
            except KeyboardInterrupt:
                self.stop_requested.set()
                pool.shutdown(wait=False, cancel_futures=True)
                sandbox.kill_every_run()
                return False
        return True

    def close(self) -> None:
        sandbox.kill_every_run()
        shutil.rmtree(self.workspace, ignore_errors=True)
