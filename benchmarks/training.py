"""Figures for the README, measured on this machine (not timed tests):

    .venv/bin/python benchmarks/training.py [--tiers-only] [--end-to-end]

1. the best validation loss any bigram model can reach on this split (add-k smoothed counts from
   the training split, k chosen on the validation split), next to what `kata train bigram` reached
   if runs/bigram exists;
2. training throughput (tokens/s) of the per-head GPT (stage 8) and the fast-attention GPT
   (stage 9) at the gpt-cpu size, from the references;
3. the wall time of the test tiers (`--end-to-end`: the end-to-end tier too), the grading tier's beside
   a bare `python -c "import torch"` (median of 3), measured in the same run.
"""

import argparse
import csv
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kata.corpus import load_corpus  # noqa: E402
from kata.implementation import activate, load_stage  # noqa: E402
from kata.manifest import presets  # noqa: E402


def encoded_splits():
    corpus = load_corpus()
    vocabulary = sorted(set(corpus))
    lookup = {char: index for index, char in enumerate(vocabulary)}
    data = torch.tensor([lookup[char] for char in corpus])
    n = int(0.9 * len(data))
    return data[:n], data[n:], len(vocabulary)


def best_bigram_loss() -> tuple[float, float]:
    train, val, V = encoded_splits()
    counts = torch.zeros(V, V, dtype=torch.float64)
    counts.index_put_((train[:-1], train[1:]), torch.ones(len(train) - 1, dtype=torch.float64), accumulate=True)

    def val_loss(k: float) -> float:
        probs = (counts + k) / (counts + k).sum(1, keepdim=True)
        return -probs[val[:-1], val[1:]].log().mean().item()

    low, high = 0.01, 5.0  # golden-section search: the loss is convex in k here
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = high - ratio * (high - low), low + ratio * (high - low)
        if val_loss(a) < val_loss(b):
            high = b
        else:
            low = a
    k = (low + high) / 2
    return val_loss(k), k


def tokens_per_second(fast: bool, steps: int = 60) -> float:
    torch.set_num_threads(1)  # the two models compared on one thread each (kata train may use two)
    preset = presets()["gpt-cpu"]
    activate(ROOT / "solutions")
    gpt = load_stage("s08_gpt")
    config = gpt.GPTConfig(vocab_size=65, block_size=preset.block_size, **preset.gpt)
    torch.manual_seed(0)
    model = load_stage("s09_fast_attention").fast_gpt(config) if fast else gpt.GPTLanguageModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=preset.lr)
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(65, (preset.batch_size, preset.block_size), generator=generator)
    y = torch.randint(65, (preset.batch_size, preset.block_size), generator=generator)
    for step in range(steps + 10):
        if step == 10:  # warm-up steps are not counted
            started = time.perf_counter()
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps * preset.batch_size * preset.block_size / (time.perf_counter() - started)


def wall_time(*arguments: str) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", *arguments, "-p", "no:cacheprovider"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{finished.stdout[-5000:]}")
    return time.perf_counter() - started


def import_torch_seconds() -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def print_tiers(end_to_end: bool) -> None:
    bare = import_torch_seconds()
    grading = statistics.median(wall_time("--impl", "solutions") for _ in range(3))
    print(f'python -c "import torch": {bare:.1f} s (median of 3)')
    ratio = grading / bare
    print(f"grading tier (pytest --impl solutions): {grading:.1f} s wall (median of 3), {ratio:.1f}x the import")
    both = ("--impl", "solutions", "--meta", "-n", "2", "--dist", "loadgroup")
    print(f"both tiers ({' '.join(both)}, make test): {wall_time(*both):.1f} s wall")
    if end_to_end:
        print(f"all tiers (make test-all): {wall_time(*both, '--end-to-end'):.1f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers-only", action="store_true", help="only the test tiers' wall times")
    parser.add_argument("--end-to-end", action="store_true", help="also time the end-to-end tier (minutes)")
    arguments = parser.parse_args()
    if not arguments.tiers_only:
        print_training_figures()
    print_tiers(arguments.end_to_end)


def print_training_figures() -> None:
    loss, k = best_bigram_loss()
    print(f"best bigram val loss (add-k counts, k = {k:.2f}): {loss:.4f} nats")
    metrics = ROOT / "runs" / "bigram" / "metrics.csv"
    if metrics.exists():
        reached = float(list(csv.DictReader(metrics.open()))[-1]["val_loss"])
        print(f"kata train bigram reached:                  {reached:.4f} nats ({reached - loss:+.4f})")
    slow, fast = tokens_per_second(fast=False), tokens_per_second(fast=True)
    print(
        f"gpt-cpu training: per-head GPT {slow:,.0f} tokens/s, fast-attention GPT {fast:,.0f} tokens/s "
        f"({fast / slow:.2f}x)"
    )


if __name__ == "__main__":
    main()
