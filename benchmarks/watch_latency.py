"""How long `kata` takes from a save to the new verdict on screen (issue: within 1.5 s on 2 cores).

    .venv/bin/python benchmarks/watch_latency.py [--rounds 5]

For each stage that builds on no other, in turn: save the reference over the stub and wait for
"1 of N stages done", then save the stub back and wait for "0 of N". Prints every latency, the median and the worst.
"""

import argparse
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


def save_and_wait(child, source: Path, target: Path, expected: str) -> float:
    started = time.perf_counter()
    shutil.copy(source, target)
    child.expect(expected)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "exercises"
        shutil.copytree(ROOT / "exercises", folder)
        child = pexpect.spawn(
            sys.executable,
            ["-m", "kata", "--impl", str(folder)],
            cwd=str(ROOT),
            encoding="utf-8",
            timeout=60,
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
    every = [value for values in latencies.values() for value in values]
    for name, values in latencies.items():
        print(f"{name:<16} " + " ".join(f"{value:.2f}" for value in values))
    print(f"save to verdict: median {statistics.median(every):.2f} s, worst {max(every):.2f} s over {len(every)} saves")


if __name__ == "__main__":
    main()
