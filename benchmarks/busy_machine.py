"""Training and sampling throughput with 1 and 2 torch threads and with the count `kata train` and
`kata sample` choose by themselves (kata/thread_count.py), on an idle machine and beside two busy
processes per core (as ../shared/tools/busy makes them), with the reference solutions:

    .venv/bin/python benchmarks/busy_machine.py [--seconds 4]

The busy processes run either in a session of their own (like other programs on a desktop: Linux's
autogroup scheduler then shares the CPU between sessions first) or in this benchmark's own session
(like `busy & kata train` typed in one terminal: the CPU is shared process by process). Each figure is
measured idle before and after the busy one, and the ratio is busy / the mean of the two idle figures.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kata.implementation import activate, load_stage  # noqa: E402
from kata.manifest import presets  # noqa: E402
from kata.thread_count import AutomaticThreads  # noqa: E402
from kata.train import sample_ids  # noqa: E402


@contextlib.contextmanager
def busy(per_core: int, own_session: bool):
    """`per_core` endless shell loops per core, all in one process group (and, with own_session, in a
    session of their own, as ../shared/tools/busy started from another terminal), stopped when the
    block ends."""
    loops = " ".join(["while :; do :; done &"] * (per_core * os.cpu_count()))
    shell = subprocess.Popen(
        ["sh", "-c", f"{loops} wait"], start_new_session=own_session, process_group=None if own_session else 0
    )
    time.sleep(1)  # let the scheduler spread them
    try:
        yield
    finally:
        os.killpg(shell.pid, signal.SIGKILL)
        shell.wait()


def gpt_model():
    preset = presets()["gpt-cpu"]
    config = load_stage("s08_gpt").GPTConfig(vocab_size=65, block_size=preset.block_size, **preset.gpt)
    torch.manual_seed(0)
    return load_stage("s09_fast_attention").fast_gpt(config), preset


def training_rate(kind: str, seconds: float, threads: int | None) -> float:
    """Training tokens per second of the gpt-cpu or bigram preset's model, batch and optimizer, on
    `threads` threads (None: chosen as kata train chooses them, looking again between steps)."""
    thread_count = AutomaticThreads(threads)
    if kind == "gpt":
        model, preset = gpt_model()
    else:
        preset = presets()["bigram"]
        torch.manual_seed(0)
        model = load_stage("s03_bigram").BigramLanguageModel(65)
    optimizer = torch.optim.AdamW(model.parameters(), lr=preset.lr)
    x = torch.randint(65, (preset.batch_size, preset.block_size))
    step = lambda: load_stage("s04_training").train_step(model, optimizer, x, x)  # noqa: E731
    for _ in range(3):
        step()
    thread_count.revisit(now=True)  # as kata train does before its first step
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        thread_count.revisit()
        steps += 1
    return steps * preset.batch_size * preset.block_size / (time.perf_counter() - started)


def sampling_rate(seconds: float, threads: int | None) -> float:
    """Sampled characters per second from a gpt-cpu model (its weights do not change the cost)."""
    thread_count = AutomaticThreads(threads)
    model, preset = gpt_model()
    time.sleep(0.3)  # kata sample loads a checkpoint in this time, then chooses its threads
    thread_count.revisit(now=True)
    generator = torch.Generator().manual_seed(0)
    tokens, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sample_ids(model, [0], tokens=100, context=preset.block_size, generator=generator)
        tokens += 100
    return tokens / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measurement")
    seconds = parser.parse_args().seconds
    activate(ROOT / "solutions")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    measures = {
        "gpt-cpu training (tokens/s)": lambda threads: training_rate("gpt", seconds, threads),
        "bigram training (tokens/s)": lambda threads: training_rate("bigram", seconds, threads),
        "gpt-cpu sampling (chars/s)": lambda threads: sampling_rate(seconds, threads),
    }
    for threads in (1, 2, None):
        label = {1: "1 thread", 2: "2 threads", None: "chosen threads"}[threads]
        for own_session, placement in ((True, "busy in another session"), (False, "busy in this session")):
            for name, measure in measures.items():
                before = measure(threads)
                with busy(per_core=2, own_session=own_session):
                    loaded = measure(threads)
                idle = (before + measure(threads)) / 2
                print(
                    f"{label}, {name}, {placement}: idle {idle:,.0f}, busy {loaded:,.0f}: {loaded / idle:.2f} of idle",
                    flush=True,
                )
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
