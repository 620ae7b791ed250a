"""How long a check cell takes in a warm Jupyter kernel, next to `kata`'s save-to-verdict time in watch mode.

    .venv/bin/python benchmarks/notebook_latency.py [--rounds 2]

In a real kernel (nbclient, ipykernel) running the notebook `kata notebook` writes, for each stage that
builds on no other, in turn: paste the references over the stage's cells and run them, then time its
check cell until its verdict ("done") is back; put the stubs back and time the check again ("not
started"). Then the same rounds of benchmarks/watch_latency.py, in the same run, on the same machine.
"""

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kata.cli import main as kata  # noqa: E402
from kata.manifest import stages  # noqa: E402
from kata.notebook import NOTEBOOK_FILE, build_notebook  # noqa: E402


def cells_of(book, stage_name: str, role: str) -> list:
    return [cell for cell in book.cells if cell.metadata.get("kata") == {"stage": stage_name, "role": role}]


def shown(cell) -> str:
    return "".join(output.get("text") or output.get("data", {}).get("text/plain", "") for output in cell.outputs)


def notebook_latencies(rounds: int) -> dict[str, list[float]]:
    references = build_notebook(
        {stage.name: (ROOT / "solutions" / stage.module_file).read_text() for stage in stages()}, kata_source="unused"
    )
    latencies: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        with contextlib.redirect_stdout(io.StringIO()):
            kata(["notebook", scratch])
        book = nbformat.read(Path(scratch) / NOTEBOOK_FILE, as_version=4)
        client = nbclient.NotebookClient(
            book, timeout=120, kernel_name="python3", resources={"metadata": {"path": scratch}}
        )
        with client.setup_kernel():

            def run(cell) -> str:
                client.execute_cell(cell, book.cells.index(cell))
                return shown(cell)

            for cell in book.cells:
                if cell.cell_type == "code":
                    run(cell)  # the set-up and every stub: the kernel is warm
            for _ in range(rounds):
                for stage in [stage for stage in stages() if not stage.prerequisites]:
                    (imports,) = cells_of(book, stage.name, "imports")
                    first, *others = cells_of(book, stage.name, "fill")
                    stubs = [cell.source for cell in [imports, first, *others]]
                    imports.source = cells_of(references, stage.name, "imports")[0].source
                    first.source = "\n\n".join(cell.source for cell in cells_of(references, stage.name, "fill"))
                    for cell in [imports, first]:
                        run(cell)
                    latencies.setdefault(stage.name, []).append(timed_check(run, book, stage.name, "done"))
                    for cell, source in zip([imports, first, *others], stubs, strict=True):
                        cell.source = source
                        run(cell)
                    latencies[stage.name].append(timed_check(run, book, stage.name, "not started"))
    return latencies


def timed_check(run, book, stage_name: str, expected: str) -> float:
    (check,) = cells_of(book, stage_name, "check")
    started = time.perf_counter()
    output = run(check)
    elapsed = time.perf_counter() - started
    if expected not in output:
        raise AssertionError(f"{stage_name}: expected {expected!r} in the check's output:\n{output}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    in_notebook = notebook_latencies(rounds)
    watched = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "watch_latency.py"), "--rounds", str(rounds)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    *per_stage, _summary = watched.splitlines()  # watch_latency.py prints a line per stage, then its summary
    in_watch = {line.split()[0]: [float(value) for value in line.split()[1:]] for line in per_stage}
    print(f"{'stage':<16} {'notebook check cell (s)':<34} watch mode, save to verdict (s)")
    for name, values in in_notebook.items():
        print(f"{name:<16} {' '.join(f'{v:.2f}' for v in values):<34} {' '.join(f'{v:.2f}' for v in in_watch[name])}")
    every_notebook = [value for values in in_notebook.values() for value in values]
    every_watch = [value for values in in_watch.values() for value in values]
    notebook_median, watch_median = statistics.median(every_notebook), statistics.median(every_watch)
    print(
        f"notebook check: median {notebook_median:.2f} s, worst {max(every_notebook):.2f} s over "
        f"{len(every_notebook)} checks; watch: median {watch_median:.2f} s, worst {max(every_watch):.2f} s over "
        f"{len(every_watch)} saves; notebook/watch median ratio {notebook_median / watch_median:.2f}"
    )


if __name__ == "__main__":
    main()
