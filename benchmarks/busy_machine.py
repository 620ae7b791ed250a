"""Training and sampling throughput with 1 and 2 torch threads, on an idle machine and beside two busy
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


def training_rate(kind: str, seconds: float) -> float:
    """Training tokens per second of the gpt-cpu or bigram preset's model, batch and optimizer."""
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
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        steps += 1
    return steps * preset.batch_size * preset.block_size / (time.perf_counter() - started)


def sampling_rate(seconds: float) -> float:
    """Sampled characters per second from a gpt-cpu model (its weights do not change the cost)."""
    model, preset = gpt_model()
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
        "gpt-cpu training (tokens/s)": lambda: training_rate("gpt", seconds),
        "bigram training (tokens/s)": lambda: training_rate("bigram", seconds),
        "gpt-cpu sampling (chars/s)": lambda: sampling_rate(seconds),
    }
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for own_session, placement in ((True, "busy in another session"), (False, "busy in this session")):
            for name, measure in measures.items():
                before = measure()
                with busy(per_core=2, own_session=own_session):
                    loaded = measure()
                idle = (before + measure()) / 2
                print(
                    f"{threads} thread{'s' if threads > 1 else ''}, {name}, {placement}: idle {idle:,.0f}, "
                    f"busy {loaded:,.0f}: {loaded / idle:.2f} of idle",
                    flush=True,
                )
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
