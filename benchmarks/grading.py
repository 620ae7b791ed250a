"""Throughput of `kata grade`: a class of copies of the references, graded in bubblewrap sandboxes and,
side by side in the same run, as plain child processes (what the sandbox costs).

    .venv/bin/python benchmarks/grading.py [--copies 50] [--jobs 2] [--plain-copies 10]

Prints, for each way, the submissions, the wall time and submissions per minute, then the ratio.
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def grade_class(copies: int, jobs: int, *, sandboxed: bool) -> float:
    """Seconds of wall time to grade `copies` copies of the references; checks every one got full marks."""
    with tempfile.TemporaryDirectory() as scratch:
        folders = []
        for number in range(copies):
            folder = Path(scratch) / f"student-{number:03d}"
            shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
            folders.append(f"--impl={folder}")
        command = [sys.executable, "-m", "kata", "grade", *folders, "--out", f"{scratch}/out", "--jobs", str(jobs)]
        command += [] if sandboxed else ["--without-sandbox"]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        rows = list(csv.DictReader((Path(scratch) / "out" / "summary.csv").open()))
        full_marks = len(rows) == copies and all(float(row["total"]) == float(row["max"]) for row in rows)
        if finished.returncode != 0 or not full_marks:
            raise SystemExit(f"grading failed:\n{finished.stdout[-3000:]}")
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--plain-copies", type=int, default=10, help="copies graded without the sandbox, to compare")
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    rows = []
    for label, copies, sandboxed in (("bubblewrap", arguments.copies, True), ("plain", arguments.plain_copies, False)):
        if copies:
            seconds = grade_class(copies, arguments.jobs, sandboxed=sandboxed)
            rows.append((label, copies, seconds, 60 * copies / seconds))
            rate = rows[-1][3]
            print(
                f"{label:<10} {copies:>3} submissions, --jobs {arguments.jobs}: {seconds:6.1f} s, {rate:.2f} per minute"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if len(rows) == 2:
        print(f"the sandbox's cost: {rows[1][3] / rows[0][3]:.2f}x the time per submission of plain child processes")


if __name__ == "__main__":
    main()
