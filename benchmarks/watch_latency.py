"""How long `kata` takes from a save to the "running…" line and to the new verdict on screen
(targets: the line within 0.1 s, the verdict in a median 0.5 s on an idle machine).

    .venv/bin/python benchmarks/watch_latency.py [--rounds 5]

For each stage that builds on no other, in turn: save the reference over the stub and wait for the
running line, then for "1 of N stages done"; then save the stub back and wait for the line and "0 of N".
Prints every latency, the median and the worst of each, and the load average before and after.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kata.manifest import stages  # noqa: E402


def save_and_wait(child, source: Path, target: Path, expected: str) -> tuple[float, float]:
    """Seconds from the save to the running line, and to the verdict."""
    started = time.perf_counter()
    shutil.copy(source, target)
    child.expect("running the tests")
    running = time.perf_counter() - started
    child.expect(expected)
    return running, time.perf_counter() - started


def report(name: str, values: list[float]) -> None:
    print(f"{name}: median {statistics.median(values):.3f} s, worst {max(values):.3f} s over {len(values)} saves")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "exercises"
        shutil.copytree(ROOT / "exercises", folder)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "kata", "--impl", str(folder)],
            cwd=str(ROOT),
            encoding="utf-8",
            timeout=120,
            dimensions=(60, 160),
        )
        child.expect("watching")
        latencies = {}
        for _ in range(rounds):
            for stage in [stage for stage in stages() if not stage.prerequisites]:
                time.sleep(0.3)  # let the previous screen settle
                solved = save_and_wait(
                    child,
                    ROOT / "solutions" / stage.module_file,
                    folder / stage.module_file,
                    f"1 of {len(stages())} stages done",
                )
                time.sleep(0.3)
                unsolved = save_and_wait(
                    child,
                    ROOT / "exercises" / stage.module_file,
                    folder / stage.module_file,
                    f"0 of {len(stages())} stages done",
                )
                latencies.setdefault(stage.name, []).extend([solved, unsolved])
        child.send("q")
        child.expect(pexpect.EOF)
    for name, values in latencies.items():
        print(f"{name:<16} " + " ".join(f"{running:.2f}/{verdict:.2f}" for running, verdict in values))
    every = [value for values in latencies.values() for value in values]
    report("save to running line", [running for running, _ in every])
    report("save to verdict", [verdict for _, verdict in every])
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
