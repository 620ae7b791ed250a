"""How many steps the gpt-cpu preset's model needs to reach val <= 1.88 under other schedules:

    .venv/bin/python benchmarks/gpt_cpu_schedules.py [--schedule LR,STEPS,BATCH,BETA2 ...]

Trains the references' fast-attention GPT at the gpt-cpu size on one thread (the steps to the target hardly
depend on the thread count) with `kata train gpt-cpu`'s optimizer and schedule (AdamW, linear
warm-up then cosine decay to the preset's min_lr, over each schedule's own steps),
and estimates the validation loss every 50 steps on 40 batches of 12 drawn afresh. For each schedule it
prints the first step at val <= 1.88 and the tokens trained by then, the final val, and the training
time per step (evaluations not counted). By default: the preset's schedule, then six shorter ones with
a higher learning rate. Each takes a few minutes.
"""

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from training import encoded_splits  # noqa: E402  (benchmarks/training.py, beside this file)

from kata.implementation import activate, load_stage  # noqa: E402
from kata.manifest import presets  # noqa: E402
from kata.train import learning_rate  # noqa: E402

TARGET = 1.88
EVAL_EVERY, EVAL_BATCHES = 50, 40
DEFAULT_SCHEDULES = [
    "1e-3,2000,12,0.999",
    "2e-3,1200,12,0.99",
    "3e-3,1200,12,0.99",
    "2e-3,1400,12,0.99",
    "1.5e-3,1400,12,0.99",
    "2e-3,1000,12,0.999",
    "2e-3,800,12,0.99",
]


def validation_batches(val, block_size: int, seed: int):
    """Batches of 12 from the validation split, drawn afresh for each evaluation."""
    batches, draws = load_stage("s02_batches"), torch.Generator().manual_seed(seed)
    return lambda: batches.get_batch(val, 12, block_size, generator=draws)


def race_to_target(schedule: str, train, val, seed: int = 1337) -> str:
    lr, steps, batch_size, beta2 = schedule.split(",")
    preset = dataclasses.replace(
        presets()["gpt-cpu"], lr=float(lr), steps=int(steps), batch_size=int(batch_size), beta2=float(beta2)
    )
    batches, training = load_stage("s02_batches"), load_stage("s04_training")
    config = load_stage("s08_gpt").GPTConfig(vocab_size=65, block_size=preset.block_size, **preset.gpt)
    torch.manual_seed(seed)
    model = load_stage("s09_fast_attention").fast_gpt(config)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=preset.lr, betas=(0.9, preset.beta2), weight_decay=preset.weight_decay
    )
    generator = torch.Generator().manual_seed(seed)
    training_seconds, reached, val_loss = 0.0, None, float("nan")
    for step in range(preset.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(preset, step, preset.steps)
        started = time.perf_counter()
        xb, yb = batches.get_batch(train, preset.batch_size, preset.block_size, generator=generator)
        training.train_step(model, optimizer, xb, yb)
        training_seconds += time.perf_counter() - started
        if (step + 1) % EVAL_EVERY == 0 or step + 1 == preset.steps:
            val_loss = training.estimate_loss(model, validation_batches(val, preset.block_size, step), EVAL_BATCHES)
            model.train()
            if reached is None and val_loss <= TARGET:
                reached = step + 1
    tokens = f"{reached * preset.batch_size * preset.block_size / 1e6:.2f} M tokens" if reached else "never"
    return (
        f"lr {preset.lr:g}, {preset.steps:,} steps, batch {preset.batch_size}, beta2 {preset.beta2:g}: "
        f"val <= {TARGET} at step {reached or '-'} ({tokens}), final val {val_loss:.3f}, "
        f"{1000 * training_seconds / preset.steps:.1f} ms per step"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedule", action="append", help="LR,STEPS,BATCH,BETA2 (repeatable)")
    schedules = parser.parse_args().schedule or DEFAULT_SCHEDULES
    torch.set_num_threads(1)
    activate(ROOT / "solutions")
    train, val, _ = encoded_splits()
    for schedule in schedules:
        print(race_to_target(schedule, train, val), flush=True)


if __name__ == "__main__":
    main()
