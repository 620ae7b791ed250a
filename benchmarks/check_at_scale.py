"""What the grader's check at scale (kata/grading/at_scale.py) costs a grade: the references graded with it
and, alternating in the same run, with it switched off.

    .venv/bin/python benchmarks/check_at_scale.py [--rounds 3] [--stage 1 --stage 2]

Each grade is a `kata grade` of the references in a child process of its own (its imports included); the
check is switched off there by replacing the function that runs it. Prints every round's seconds, the
medians and their ratio.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The child that grades: `without` replaces the check at scale by one that finds nothing.
GRADE = """
import sys
import kata.grading.submission as submission
from kata.cli import main
if sys.argv[1] == "without":
    submission._probe_at_scale = lambda *arguments: {}
stages = [option for number in sys.argv[3:] for option in ("--stage", number)]
raise SystemExit(main(["grade", "--impl", "solutions", "--out", sys.argv[2], *stages]))
"""


def graded_seconds(way: str, stages: list[str]) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        command = [sys.executable, "-c", GRADE, way, f"{scratch}/out", *stages]
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"grading failed:\n{finished.stdout[-3000:]}{finished.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stage", action="append", help="a stage number to grade (default: 1, 2 and 12)")
    arguments = parser.parse_args()
    stages = arguments.stage or ["1", "2", "12"]
    seconds: dict[str, list[float]] = {"with": [], "without": []}
    for number in range(arguments.rounds):
        for way in seconds:
            seconds[way].append(graded_seconds(way, stages))
            print(f"round {number + 1}: {way} the check at scale, {seconds[way][-1]:.2f} s", flush=True)
    medians = {way: statistics.median(values) for way, values in seconds.items()}
    print(f"kata grade --stage {' --stage '.join(stages)} of the references, median of {arguments.rounds}:")
    print(f"  with the check at scale {medians['with']:.2f} s, without {medians['without']:.2f} s")
    print(f"  ratio {medians['with'] / medians['without']:.2f}x ({medians['with'] - medians['without']:+.2f} s)")


if __name__ == "__main__":
    main()
