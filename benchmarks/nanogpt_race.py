"""`kata train gpt-cpu` against nanoGPT's CPU recipe of the same size, side by side in one run:

    .venv/bin/python benchmarks/nanogpt_race.py [--step-seconds 4] [--setup-rounds 5] [--runs 2] [--nanogpt DIR]

First, in this process on one thread, the training throughput of the two models alone (the
references' fast-attention GPT and nanoGPT's GPT, same size and batch, both with torch's AdamW),
alternating for `--step-seconds` each, three times. Then `--setup-rounds` times each command is
launched and stopped as soon as it prints the line just before its training loop: the time before
step 0, wall and CPU seconds (the CPU figure hardly depends on what else runs). Then the race itself:
the two alternate (kata, nanoGPT, kata, nanoGPT, ...), so that both meet the same load. For each run
it prints, as wall time from launching the command: the time before step 0 (up to the line each
prints just before its training loop, which starts with an evaluation), when the validation loss
first reached 1.88 or less (the target: at most half of nanoGPT's time for its 2,000 iterations), the
whole command, and the final validation loss; then the ratios with the medians behind them.
nanoGPT's recipe, ready to run without a download, is expected in ../shared/baselines/nanogpt/ (its
train.py, model.py, configurator.py, config/ and prepare.py); kata trains the references
(`--impl solutions`), with the stage verdicts recorded once before the race, as after any earlier
`kata` or `kata train` run.
"""

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.88
NANOGPT_RECIPE = [
    "config/train_shakespeare_char.py",
    "--device=cpu",
    "--compile=False",
    "--eval_iters=20",
    "--log_interval=100",
    "--block_size=64",
    "--batch_size=12",
    "--n_layer=4",
    "--n_head=4",
    "--n_embd=128",
    "--max_iters=2000",
    "--lr_decay_iters=2000",
    "--dropout=0.0",
]
# "step 1250: train 1.7602, val 1.8676  (80 s)" (kata) and "step 2000: train loss 1.76, val loss 1.88" (nanoGPT)
EVALUATION = re.compile(r"step\s+([\d,]+): train(?: loss)? ([\d.]+), val(?: loss)? ([\d.]+)")


@dataclass
class Timed:
    before_step_0: float | None = None  # seconds from launch to the line printed just before the training loop
    to_target: float | None = None  # seconds from launch to the first evaluation with val <= TARGET
    target_step: int | None = None
    wall: float = 0.0
    cpu: float = 0.0  # user + system seconds of the command and its children
    final_val: float = float("nan")


def timed_run(command: list[str], cwd: Path, loop_starts: str, setup_only: bool = False) -> Timed:
    """Run `command`, timestamping its output lines as they come; with setup_only, stop it when its
    training loop starts."""
    timed = Timed()
    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    environment = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
    with subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    ) as process:
        for line in process.stdout:
            now = time.perf_counter() - started
            if timed.before_step_0 is None and loop_starts in line:
                timed.before_step_0 = now
                if setup_only:
                    process.kill()
                    break
            evaluation = EVALUATION.search(line)
            if evaluation:
                step, val = int(evaluation[1].replace(",", "")), float(evaluation[3])
                timed.final_val = val
                if timed.to_target is None and val <= TARGET:
                    timed.to_target, timed.target_step = now, step
    timed.wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed.cpu = cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    if process.returncode != 0 and not setup_only:
        raise SystemExit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return timed


def prepare_nanogpt(source: Path, scratch: Path) -> Path:
    folder = scratch / "nanogpt"
    shutil.copytree(source, folder)
    data = folder / "data" / "shakespeare_char"
    subprocess.run(
        [sys.executable, str(folder / "prepare.py"), str(ROOT / "data" / "tinyshakespeare.txt"), str(data)], check=True
    )
    return folder


def training_throughputs(nanogpt: Path, seconds: float) -> tuple[float, float]:
    """Tokens per second of one training step of kata's GPT (the references) and of nanoGPT's, on one thread."""
    import torch

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(nanogpt))
    import model as nanogpt_model  # nanoGPT's model.py, run as the baseline

    from kata.implementation import activate, load_stage
    from kata.manifest import presets

    torch.set_num_threads(1)
    preset = presets()["gpt-cpu"]
    activate(ROOT / "solutions")
    config = load_stage("s08_gpt").GPTConfig(vocab_size=65, block_size=preset.block_size, **preset.gpt)
    kata_gpt = load_stage("s09_fast_attention").fast_gpt(config)
    size = dict(n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd)
    their_gpt = nanogpt_model.GPT(
        nanogpt_model.GPTConfig(block_size=preset.block_size, vocab_size=65, dropout=0.0, bias=False, **size)
    )
    x = torch.randint(65, (preset.batch_size, preset.block_size))

    def rate(model) -> float:
        optimizer = torch.optim.AdamW(model.parameters(), lr=preset.lr)
        steps, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            _, loss = model(x, x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
        return steps * x.numel() / (time.perf_counter() - started)

    rates = [(rate(kata_gpt), rate(their_gpt)) for _ in range(3)]
    return median([kata for kata, _ in rates]), median([theirs for _, theirs in rates])


def record_verdicts() -> float:
    """Run the gpt-cpu stages' tests once, as the learner's earlier `kata` runs would have."""
    started = time.perf_counter()
    code = (
        "from kata.manifest import presets, stage_named; from kata.stage_status import check_stages; "
        "from kata.implementation import resolve_implementation; p = presets()['gpt-cpu']; "
        "check_stages(resolve_implementation('solutions'), "
        "[stage_named(n) for n in p.stages + p.optional_stages], reuse_verdicts=True)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def describe(name: str, run: Timed) -> str:
    reached = f"val <= {TARGET} at step {run.target_step:,} after {run.to_target:.1f} s" if run.to_target else ""
    before = f"{run.before_step_0:.1f} s before step 0, " if run.before_step_0 is not None else ""
    return f"{name}: {before}{reached or f'val never <= {TARGET}'}, {run.wall:.1f} s in all, final val {run.final_val}"


def median(values: list[float | None]) -> float:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step-seconds", type=float, default=4.0, help="each throughput measure (0: none)")
    parser.add_argument("--setup-rounds", type=int, default=5, help="launches of each, stopped at step 0 (default 5)")
    parser.add_argument("--runs", type=int, default=2, help="whole runs of each (default 2)")
    parser.add_argument("--nanogpt", type=Path, default=ROOT.parent / "shared" / "baselines" / "nanogpt")
    arguments = parser.parse_args()
    if not (arguments.nanogpt / "train.py").is_file():
        raise SystemExit(f"No nanoGPT recipe in {arguments.nanogpt}: pass --nanogpt PATH.")
    with tempfile.TemporaryDirectory() as scratch:
        nanogpt = prepare_nanogpt(arguments.nanogpt, Path(scratch))
        if arguments.step_seconds:
            kata_rate, their_rate = training_throughputs(nanogpt, arguments.step_seconds)
            print(
                f"one thread, training tokens/s: kata's GPT {kata_rate:,.0f}, nanoGPT's {their_rate:,.0f} "
                f"(nanoGPT's model is {their_rate / kata_rate:.2f}x as fast per token)",
                flush=True,
            )
        print(f"stage verdicts recorded in {record_verdicts():.1f} s (once; later kata train runs reuse them)")
        print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()), flush=True)
        kata_command = [
            str(Path(sys.executable).with_name("kata")),
            "train",
            "gpt-cpu",
            "--impl",
            "solutions",
            "--device",
            "cpu",
            "--out",
            str(Path(scratch) / "kata-run"),
        ]
        nanogpt_command = [sys.executable, "train.py", *NANOGPT_RECIPE, f"--out_dir={Path(scratch) / 'nanogpt-out'}"]
        setups = {"kata": [], "nanoGPT": []}
        for _ in range(arguments.setup_rounds):
            setups["kata"].append(timed_run(kata_command, ROOT, "Training gpt-cpu", setup_only=True))
            setups["nanoGPT"].append(timed_run(nanogpt_command, nanogpt, "using fused AdamW", setup_only=True))
        for name, runs in setups.items():
            if runs:
                wall, cpu = median([run.before_step_0 for run in runs]), median([run.cpu for run in runs])
                print(f"{name}: before step 0, median of {len(runs)}: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        katas, nanogpts = [], []
        for number in range(1, arguments.runs + 1):
            katas.append(timed_run(kata_command, ROOT, loop_starts="Training gpt-cpu"))
            print(describe(f"kata train gpt-cpu, run {number}", katas[-1]), flush=True)
            nanogpts.append(timed_run(nanogpt_command, nanogpt, loop_starts="using fused AdamW"))
            print(describe(f"nanoGPT's recipe, run {number}", nanogpts[-1]), flush=True)
        print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not katas:
        return
    to_target, nanogpt_wall = median([run.to_target for run in katas]), median([run.wall for run in nanogpts])
    kata_wall = median([run.wall for run in katas])
    print(
        f"kata to val <= {TARGET}: {to_target:.1f} s; nanoGPT's 2,000 iterations: {nanogpt_wall:.1f} s "
        f"(medians): {to_target / nanogpt_wall:.2f}x (target: at most 0.5x)"
    )
    print(f"whole commands: kata {kata_wall:.1f} s, nanoGPT {nanogpt_wall:.1f} s: {kata_wall / nanogpt_wall:.2f}x")
    before = median([run.before_step_0 for run in katas]), median([run.before_step_0 for run in nanogpts])
    print(f"time before step 0: kata {before[0]:.1f} s (target: under 3 s), nanoGPT {before[1]:.1f} s (medians)")


if __name__ == "__main__":
    main()
