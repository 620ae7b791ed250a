"""`kata train` and `kata sample`: train the model you wrote, with your own tokenizer, batches and
training step, and write a run folder: checkpoint, metrics CSV, loss curve, attention heatmap, sample.

Ctrl-C saves a checkpoint; `--resume` continues from it exactly where the run stopped (the model,
the optimizer, the step and the batch generator's state are all saved).
"""

import contextlib
import csv
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kata.corpus import load_corpus
from kata.implementation import activate, display_path, load_stage
from kata.manifest import stage_named
from kata.stage_status import check_stages

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.csv"


@dataclass(frozen=True)
class Preset:
    name: str
    model: str  # "bigram" or "gpt"
    batch_size: int
    block_size: int
    steps: int
    lr: float
    eval_interval: int
    eval_iters: int
    final_eval_iters: int  # a steadier figure at the end of the run
    min_lr: float | None = None  # cosine decay from lr to min_lr (after warm-up); None: constant lr
    warmup_steps: int = 0
    gpt: dict = field(default_factory=dict)  # GPTConfig fields besides vocab_size and block_size

    def lr_at(self, step: int, steps: int) -> float:
        """The learning rate at `step` of a run of `steps` steps."""
        if self.min_lr is None:
            return self.lr
        if step < self.warmup_steps:
            return self.lr * (step + 1) / self.warmup_steps
        progress = (step - self.warmup_steps) / max(1, steps - self.warmup_steps)
        return self.min_lr + 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))) * (self.lr - self.min_lr)


PRESETS = {
    preset.name: preset
    for preset in (
        # The lecture's bigram run.
        Preset(
            "bigram",
            "bigram",
            batch_size=32,
            block_size=8,
            steps=10_000,
            lr=1e-3,
            eval_interval=1000,
            eval_iters=200,
            final_eval_iters=1000,
        ),
        # nanoGPT's CPU recipe for this corpus: a few minutes on a laptop.
        Preset(
            "gpt-cpu",
            "gpt",
            batch_size=12,
            block_size=64,
            steps=2000,
            lr=1e-3,
            min_lr=1e-4,
            warmup_steps=100,
            eval_interval=250,
            eval_iters=20,
            final_eval_iters=200,
            gpt=dict(n_embd=128, n_head=4, n_layer=4, dropout=0.0),
        ),
        # The lecture's 10.8 M model: a GPU job.
        Preset(
            "gpt-lecture",
            "gpt",
            batch_size=64,
            block_size=256,
            steps=5000,
            lr=3e-4,
            eval_interval=500,
            eval_iters=200,
            final_eval_iters=200,
            gpt=dict(n_embd=384, n_head=6, n_layer=6, dropout=0.2),
        ),
    )
}

BIGRAM_STAGES = ["s01_tokenizer", "s02_batches", "s03_bigram", "s04_training"]
GPT_STAGES = ["s01_tokenizer", "s02_batches", "s04_training", "s06_attention", "s07_transformer", "s08_gpt"]


class Learner:
    """The graded implementation's stages, loaded from its folder."""

    def __init__(self, folder: Path):
        activate(folder)
        self.folder = folder
        self.tokenizer_stage, self.batches, self.training = (
            load_stage(n) for n in ("s01_tokenizer", "s02_batches", "s04_training")
        )

    def tokenizer(self, corpus: str):
        return self.tokenizer_stage.CharTokenizer(self.tokenizer_stage.build_vocabulary(corpus))

    def build_model(self, preset: Preset, vocab_size: int, fast: bool):
        if preset.model == "bigram":
            return load_stage("s03_bigram").BigramLanguageModel(vocab_size)
        config = load_stage("s08_gpt").GPTConfig(vocab_size=vocab_size, block_size=preset.block_size, **preset.gpt)
        if fast:
            return load_stage("s09_fast_attention").fast_gpt(config)
        return load_stage("s08_gpt").GPTLanguageModel(config)


def pick_device(requested: str) -> torch.device:
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_learner(folder: Path, preset: Preset) -> tuple[list[str], bool]:
    """The stages this preset needs that do not pass yet in `folder`, and whether stage 9 (fast
    attention) passes, from one run of their tests."""
    needed = BIGRAM_STAGES if preset.model == "bigram" else GPT_STAGES
    optional = [] if preset.model == "bigram" else ["s09_fast_attention"]
    statuses = check_stages(folder, [stage_named(name) for name in needed + optional])
    missing = [
        f"{statuses[name].stage.label} ({statuses[name].summary()})" for name in needed if not statuses[name].done
    ]
    return missing, bool(optional) and statuses[optional[0]].done


class Run:
    """One training run in its folder: what it trains on, its state, and what it writes."""

    def __init__(
        self, learner: Learner, preset: Preset, out: Path, device: torch.device, seed: int, fast: bool, steps: int
    ):
        self.learner, self.preset, self.out, self.device, self.steps = learner, preset, out, device, steps
        corpus = load_corpus()
        self.tokenizer = learner.tokenizer(corpus)
        data = learner.batches.encode_text(corpus, self.tokenizer)
        self.train_data, self.val_data = learner.batches.train_val_split(data)
        torch.manual_seed(seed)  # the model's initial weights
        self.model = learner.build_model(preset, self.tokenizer.vocab_size, fast).to(device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=preset.lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.step = 0
        self.elapsed = 0.0
        self.metrics: list[dict] = []
        self.info = dict(preset=preset.name, impl=str(learner.folder), fast=fast, seed=seed, steps=steps)

    def batch(self, split: str):
        data = self.train_data if split == "train" else self.val_data
        x, y = self.learner.batches.get_batch(
            data, self.preset.batch_size, self.preset.block_size, generator=self.generator
        )
        return x.to(self.device), y.to(self.device)

    def evaluate(self, iters: int) -> dict[str, float]:
        return {
            split: self.learner.training.estimate_loss(self.model, lambda split=split: self.batch(split), iters)
            for split in ("train", "val")
        }

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        state = dict(
            model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            step=self.step,
            elapsed=self.elapsed,
            generator=self.generator.get_state(),
            torch_rng=torch.get_rng_state(),
            metrics=self.metrics,
            info=self.info,
        )
        torch.save(state, self.out / CHECKPOINT)

    def restore(self) -> None:
        state = torch.load(self.out / CHECKPOINT, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.step, self.elapsed, self.metrics = state["step"], state["elapsed"], state["metrics"]

    def train(self, progress: Progress) -> None:
        task = progress.add_task("training", total=self.steps, completed=self.step, loss=float("nan"), speed=0.0)
        tokens_per_step = self.preset.batch_size * self.preset.block_size
        if not self.metrics:
            self.record(self.evaluate(self.preset.eval_iters), progress)  # where the curve starts
        self.model.train()
        with _stop_between_steps() as stop_requested:
            while self.step < self.steps and not stop_requested():
                self.train_one_step(progress, task, tokens_per_step)
        if self.step < self.steps:
            raise KeyboardInterrupt

    def train_one_step(self, progress: Progress, task, tokens_per_step: int) -> None:
        started = time.perf_counter()
        for group in self.optimizer.param_groups:
            group["lr"] = self.preset.lr_at(self.step, self.steps)
        loss = self.learner.training.train_step(self.model, self.optimizer, *self.batch("train"))
        self.step += 1
        seconds = time.perf_counter() - started
        self.elapsed += seconds
        progress.update(task, advance=1, loss=loss, speed=tokens_per_step / max(seconds, 1e-9))
        if self.step % self.preset.eval_interval == 0 or self.step == self.steps:
            final = self.step == self.steps
            self.record(self.evaluate(self.preset.final_eval_iters if final else self.preset.eval_iters), progress)

    def record(self, losses: dict[str, float], progress: Progress) -> None:
        lr = self.preset.lr_at(max(self.step - 1, 0), self.steps)
        self.metrics.append(
            dict(
                step=self.step,
                train_loss=losses["train"],
                val_loss=losses["val"],
                lr=lr,
                elapsed_s=round(self.elapsed, 2),
            )
        )
        progress.console.print(
            f"step {self.step:>6}: train {losses['train']:.4f}, val {losses['val']:.4f}  ({self.elapsed:.0f} s)"
        )

    def write_outputs(self, sample_tokens: int) -> dict[str, Path]:
        self.out.mkdir(parents=True, exist_ok=True)
        with (self.out / METRICS).open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=["step", "train_loss", "val_loss", "lr", "elapsed_s"])
            writer.writeheader()
            writer.writerows(self.metrics)
        written = {
            "metrics": self.out / METRICS,
            "loss curve": plot_losses(self.metrics, self.out / "loss.png", self.preset.name),
        }
        if self.preset.model == "gpt":
            lines = self.tokenizer.decode(self.val_data[:2000].tolist()).split("\n")
            line = next((line for line in lines if len(line) >= 24), lines[0])[:32]  # a full line of verse
            written["attention"] = plot_attention(self.model, self.tokenizer, line, self.out / "attention.png")
        sample = generate_text(self.model, self.tokenizer, "\n", sample_tokens, self.device)
        (self.out / "sample.txt").write_text(sample, encoding="utf-8")
        written["sample"] = self.out / "sample.txt"
        return written


@contextlib.contextmanager
def _stop_between_steps():
    """Ctrl-C asks the loop to stop after the step in progress, so the checkpoint never holds a
    half-done step (an optimizer update without its step count) and --resume loses nothing."""
    requested = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: requested.append(signum))
    try:
        yield lambda: bool(requested)
    finally:
        signal.signal(signal.SIGINT, previous)


def plot_losses(metrics: list[dict], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    steps = [row["step"] for row in metrics]
    axes.plot(steps, [row["train_loss"] for row in metrics], marker="o", label="train")
    axes.plot(steps, [row["val_loss"] for row in metrics], marker="o", label="val")
    axes.set(xlabel="step", ylabel="cross-entropy loss (nats)", title=f"kata train {title}")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


@torch.no_grad()
def first_head_attention(model, ids: torch.Tensor) -> torch.Tensor:
    """The (T, T) attention weights of the first head of the first block for one sequence."""
    T = ids.shape[1]
    x = model.token_embedding_table(ids) + model.position_embedding_table(torch.arange(T, device=ids.device))
    block = model.blocks[0]
    x = block.ln1(x)
    attention = block.sa
    if hasattr(attention, "c_attn"):  # stage 9's fused layout: q, k, v of all heads side by side
        C = x.shape[-1]
        head_size = C // attention.n_head
        q, k, _ = attention.c_attn(x).split(C, dim=2)
        q, k = q[..., :head_size], k[..., :head_size]
    else:
        head = attention.heads[0]
        q, k = head.query(x), head.key(x)
    wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
    wei = wei.masked_fill(torch.ones(T, T, device=ids.device).triu(1).bool(), float("-inf"))
    return torch.softmax(wei, dim=-1)[0].cpu()


def plot_attention(model, tokenizer, line: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model.eval()
    device = next(model.parameters()).device
    ids = torch.tensor([tokenizer.encode(line)], device=device)
    weights = first_head_attention(model, ids).numpy()
    labels = [repr(char)[1:-1] for char in line]
    figure, axes = plt.subplots(figsize=(8, 7))
    image = axes.imshow(weights, cmap="viridis")
    axes.set_xticks(range(len(labels)), labels)
    axes.set_yticks(range(len(labels)), labels)
    axes.set(xlabel="attends to (key)", ylabel="token (query)", title="Block 1, head 1: where each character looks")
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def generate_text(model, tokenizer, prompt: str, tokens: int, device: torch.device, seed: int = 0) -> str:
    model.eval()
    idx = torch.tensor([tokenizer.encode(prompt)], dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        out = model.generate(idx, tokens, generator=generator)
    return tokenizer.decode(out[0].tolist())


def progress_bar(console) -> Progress:
    return Progress(
        TextColumn("step {task.completed:>6}/{task.total}"),
        BarColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[speed]:>8,.0f} tokens/s"),
        TimeRemainingColumn(),
        console=console,
    )


def train_command(
    preset_name: str, folder: Path, device: str, steps: int | None, seed: int, out: Path | None, resume: bool, console
) -> int:
    started = time.perf_counter()
    preset = PRESETS[preset_name]
    out = out or Path("runs") / preset.name
    missing, fast = check_learner(folder, preset)
    if missing:
        console.print(f"kata train {preset.name} runs on your own code, and these stages do not pass yet:")
        for line in missing:
            console.print(f"  {line}")
        return 1
    if preset.model == "gpt" and not fast:
        console.print("Stage 9 does not pass yet: training the per-head GPT of stage 8 (slower).")
    if resume and steps is None and (out / CHECKPOINT).exists():
        steps = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)["info"]["steps"]
    run = Run(Learner(folder), preset, out, pick_device(device), seed, fast, steps or preset.steps)
    if resume:
        if not (out / CHECKPOINT).exists():
            console.print(f"No checkpoint in {display_path(out)} to resume from.")
            return 2
        run.restore()
        console.print(f"Resuming {preset.name} at step {run.step} of {run.steps}.")
    console.print(
        f"Training {preset.name} ({sum(p.numel() for p in run.model.parameters()):,} parameters) on {run.device}; "
        f"run folder {display_path(out)}"
    )
    try:
        with progress_bar(console) as progress:
            run.train(progress)
    except KeyboardInterrupt:
        run.save()
        console.print(
            f"Stopped at step {run.step}: checkpoint saved. Continue with `kata train {preset.name} --resume --out "
            f"{display_path(out)}`."
        )
        return 130
    run.save()
    for name, path in run.write_outputs(sample_tokens=500).items():
        console.print(f"{name}: {display_path(path)}")
    final = run.metrics[-1]
    wall = time.perf_counter() - started
    console.print(
        f"Done: {run.step} steps, val loss {final['val_loss']:.4f}; {run.elapsed:.0f} s in training steps, "
        f"{wall:.0f} s for the whole command."
    )
    return 0


def sample_command(out: Path, tokens: int, prompt: str, folder: Path | None, console) -> int:
    state = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)
    info = state["info"]
    preset = PRESETS[info["preset"]]
    learner = Learner(folder or Path(info["impl"]))
    tokenizer = learner.tokenizer(load_corpus())
    model = learner.build_model(preset, tokenizer.vocab_size, info["fast"])
    model.load_state_dict(state["model"])
    console.print(generate_text(model, tokenizer, prompt, tokens, torch.device("cpu")), markup=False, highlight=False)
    return 0
