"""`kata train` and `kata sample`: train the model you wrote, with your own tokenizer, batches and
training step, and write a run folder: checkpoint, metrics CSV, loss curve, attention heatmap, sample.

Ctrl-C saves a checkpoint; `--resume` continues from it exactly where the run stopped (the model,
the optimizer, the step and the batch generator's state are all saved). A checkpoint also holds
what rebuilds the run without the manifest: the model's arguments (GPTConfig's fields), the
tokenizer and the preset as it was, so an old run still loads after a preset changes.
"""

import contextlib
import csv
import dataclasses
import math
import secrets
import signal
import time
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from kata.adamw import adamw
from kata.corpus import load_corpus
from kata.implementation import activate, display_path, load_stage
from kata.manifest import Preset, counted, preset_named, stage_named
from kata.stage_status import check_stages
from kata.thread_count import AutomaticThreads

CHECKPOINT = "checkpoint.pt"
CHECKPOINT_FORMAT = 2  # 2: with the model's arguments, the tokenizer and the preset
TOKENIZERS = ("characters", "bpe")  # stage 1's, or stage 12's byte-level BPE
METRICS = "metrics.csv"
FINAL_SAMPLE_TOKENS = 500  # the length of the sample.txt a finished run writes


class LearnerStages:
    """The stage modules of one implementation folder that training runs on: the tokenizer (1), the
    batches (2), the training step (4) and the models (3, 8, 9)."""

    def __init__(self, folder: Path):
        activate(folder)
        self.folder = folder
        self.tokenizer_stage, self.batches, self.training = (
            load_stage(name) for name in ("s01_tokenizer", "s02_batches", "s04_training")
        )

    def new_tokenizer(self, kind: str, corpus: str) -> dict:
        """What rebuilds a new run's tokenizer: stage 1's vocabulary of the corpus, or the merges stage 12's
        BPE learns on the start of the training split."""
        if kind == "bpe":
            from kata import bpe_corpus

            merges = bpe_corpus.train_tokenizer(load_stage("s12_bpe"), corpus).merges
            return dict(kind="bpe", merges=[[left, right, new] for (left, right), new in merges.items()])
        return dict(kind="characters", vocabulary=list(self.tokenizer_stage.build_vocabulary(corpus)))

    def tokenizer(self, spec: dict):
        """The learner's tokenizer that `spec` (from new_tokenizer, or a checkpoint) describes."""
        if spec["kind"] == "bpe":
            from kata import bpe_corpus

            merges = {(left, right): new for left, right, new in spec["merges"]}
            return bpe_corpus.restore_tokenizer(load_stage("s12_bpe"), merges)
        return self.tokenizer_stage.CharTokenizer(spec["vocabulary"])

    def model_arguments(self, preset: Preset, vocab_size: int, fast: bool) -> dict:
        """Everything that rebuilds the model of a run, whatever the preset says later."""
        if preset.model == "bigram":
            return dict(kind="bigram", vocab_size=vocab_size, context=preset.block_size)
        config = load_stage("s08_gpt").GPTConfig(vocab_size=vocab_size, block_size=preset.block_size, **preset.gpt)
        fields = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else vars(config)
        return dict(kind="gpt", config=dict(fields), fast=fast, context=preset.block_size)

    def build_model(self, arguments: dict):
        if arguments["kind"] == "bigram":
            return load_stage("s03_bigram").BigramLanguageModel(arguments["vocab_size"])
        config = load_stage("s08_gpt").GPTConfig(**arguments["config"])
        if arguments["fast"]:
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


def check_learner(folder: Path, preset: Preset, tokenizer: str = "characters") -> tuple[list[str], bool]:
    """The stages this preset (with this tokenizer) needs that do not pass yet in `folder`, and whether
    its optional ones (stage 9's fast attention) pass. Verdicts recorded for the same files are reused."""
    needed = [*preset.stages, *(["s12_bpe"] if tokenizer == "bpe" else [])]
    selected = [stage_named(name) for name in (*needed, *preset.optional_stages)]
    statuses = check_stages(folder, selected, reuse_verdicts=True)
    missing = [
        f"{statuses[name].stage.label} ({statuses[name].summary()})" for name in needed if not statuses[name].done
    ]
    return missing, bool(preset.optional_stages) and all(statuses[name].done for name in preset.optional_stages)


def learning_rate(preset: Preset, step: int, steps: int) -> float:
    """The learning rate at `step` of a run of `steps` steps: constant, or a linear warm-up then a
    cosine decay to min_lr."""
    if preset.min_lr is None:
        return preset.lr
    if step < preset.warmup_steps:
        return preset.lr * (step + 1) / preset.warmup_steps
    progress = (step - preset.warmup_steps) / max(1, steps - preset.warmup_steps)
    return preset.min_lr + 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))) * (preset.lr - preset.min_lr)


class TrainingDiverged(Exception):
    """The training loss stopped being a number (nan or infinite)."""


class Run:
    """One training run in its folder: what it trains on, its state, and what it writes."""

    def __init__(
        self,
        stages: LearnerStages,
        *,
        preset: Preset,
        tokenizer: dict,
        model_arguments: dict,
        out: Path,
        device: torch.device,
        seed: int,
        steps: int,
    ):
        self.stages, self.preset, self.out, self.device, self.steps = stages, preset, out, device, steps
        self.tokenizer_spec, self.model_arguments, self.seed = tokenizer, model_arguments, seed
        self.tokenizer = stages.tokenizer(tokenizer)
        data = stages.batches.encode_text(load_corpus(), self.tokenizer)
        self.train_data, self.val_data = stages.batches.train_val_split(data)
        torch.manual_seed(seed)  # the model's initial weights
        self.model = stages.build_model(model_arguments).to(device)
        self.optimizer = adamw(
            self.model.parameters(), lr=preset.lr, betas=(0.9, preset.beta2), weight_decay=preset.weight_decay
        )
        self.generator = torch.Generator().manual_seed(seed)
        self.step = 0
        self.training_seconds = 0.0  # steps and evaluations, over every session of the run
        self.sessions = 1
        self.metrics: list[dict] = []
        self._session_started: float | None = None

    @classmethod
    def start(cls, stages: LearnerStages, preset: Preset, *, fast: bool, tokenizer: str, **settings) -> "Run":
        spec = stages.new_tokenizer(tokenizer, load_corpus())
        arguments = stages.model_arguments(preset, stages.tokenizer(spec).vocab_size, fast)
        return cls(stages, preset=preset, tokenizer=spec, model_arguments=arguments, **settings)

    @classmethod
    def resume(cls, stages: LearnerStages, state: dict, *, out: Path, device: torch.device) -> "Run":
        """The run saved in `state` (a checkpoint), as it was when saved."""
        run = cls(
            stages,
            preset=Preset(**state["preset"]),
            tokenizer=state["tokenizer"],
            model_arguments=state["model_arguments"],
            out=out,
            device=device,
            seed=state["seed"],
            steps=state["steps"],
        )
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        run.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        run.step, run.training_seconds, run.metrics = state["step"], state["training_seconds"], state["metrics"]
        run.sessions = state["sessions"] + 1
        return run

    def batch(self, split: str):
        data = self.train_data if split == "train" else self.val_data
        x, y = self.stages.batches.get_batch(
            data, self.preset.batch_size, self.preset.block_size, generator=self.generator
        )
        return x.to(self.device), y.to(self.device)

    def evaluate(self, iters: int) -> dict[str, float]:
        return {
            split: self.stages.training.estimate_loss(self.model, lambda split=split: self.batch(split), iters)
            for split in ("train", "val")
        }

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        state = dict(
            format=CHECKPOINT_FORMAT,
            model=self.model.state_dict(),
            optimizer=self.optimizer.state_dict(),
            step=self.step,
            steps=self.steps,
            training_seconds=self.training_seconds,
            sessions=self.sessions,
            generator=self.generator.get_state(),
            torch_rng=torch.get_rng_state(),
            metrics=self.metrics,
            preset=dataclasses.asdict(self.preset),
            model_arguments=self.model_arguments,
            tokenizer=self.tokenizer_spec,
            seed=self.seed,
            impl=str(self.stages.folder),
        )
        torch.save(state, self.out / CHECKPOINT)

    def train(self, progress: Progress, thread_count: AutomaticThreads) -> None:
        """Train up to self.steps; raises KeyboardInterrupt after the step in progress on Ctrl-C."""
        task = progress.add_task("training", total=self.steps, completed=self.step, loss=None)
        self._session_started = time.perf_counter()
        thread_count.revisit(now=True)  # from what the other programs did while this one started
        try:
            if not self.metrics:
                self.record(self.evaluate(self.preset.eval_iters), progress)  # where the curve starts
            progress.update(task, loss=self.metrics[-1]["train_loss"])
            self.model.train()
            with _stop_between_steps() as stop_requested:
                while self.step < self.steps and not stop_requested():
                    self.train_one_step(progress, task)
                    thread_count.revisit()
        finally:
            self.training_seconds = self.seconds_so_far()
            self._session_started = None
        if self.step < self.steps:
            raise KeyboardInterrupt

    def seconds_so_far(self) -> float:
        """Seconds of training (steps and evaluations) over every session, this one included."""
        running = time.perf_counter() - self._session_started if self._session_started is not None else 0.0
        return self.training_seconds + running

    def train_one_step(self, progress: Progress, task) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.preset, self.step, self.steps)
        loss = self.stages.training.train_step(self.model, self.optimizer, *self.batch("train"))
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the training loss became {loss} at step {self.step}")
        self.step += 1
        progress.update(task, advance=1, loss=loss)
        if self.step % self.preset.eval_interval == 0 or self.step == self.steps:
            final = self.step == self.steps
            self.record(self.evaluate(self.preset.final_eval_iters if final else self.preset.eval_iters), progress)

    def record(self, losses: dict[str, float], progress: Progress) -> None:
        seconds = self.seconds_so_far()
        self.metrics.append(
            dict(
                step=self.step,
                train_loss=losses["train"],
                val_loss=losses["val"],
                lr=learning_rate(self.preset, max(self.step - 1, 0), self.steps),
                elapsed_s=round(seconds, 2),
            )
        )
        progress.console.print(
            f"step {self.step:>6}: train {losses['train']:.4f}, val {losses['val']:.4f}  ({seconds:.0f} s)"
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
        ids = sample_ids(
            self.model,
            self.tokenizer.encode("\n"),
            tokens=sample_tokens,
            context=self.model_arguments["context"],
            generator=torch.Generator(device=self.device).manual_seed(self.seed),
        )
        (self.out / "sample.txt").write_text(self.tokenizer.decode(ids), encoding="utf-8")
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
    ids = tokenizer.encode(line)
    weights = first_head_attention(model, torch.tensor([ids], device=device)).numpy()
    labels = [repr(tokenizer.decode([token]))[1:-1] for token in ids]  # a character, or a BPE token
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


@torch.no_grad()
def sample_ids(
    model,
    prompt: list[int],
    *,
    tokens: int,
    context: int,
    generator: torch.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
) -> list[int]:
    """The prompt followed by `tokens` sampled ids. The lecture's generate() has no temperature or
    top-k, so sampling happens here, on the logits of the learner's forward pass (as nanoGPT's
    generate does): the last position's logits divided by the temperature, all but the top k dropped."""
    model.eval()
    device = next(model.parameters()).device
    idx = torch.tensor([prompt], dtype=torch.long, device=device)
    for _ in range(tokens):
        logits, _ = model(idx[:, -context:])
        logits = logits[:, -1, :] / temperature
        if top_k is not None:
            kth_largest = torch.topk(logits, top_k).values[:, [-1]]
            logits = logits.masked_fill(logits < kth_largest, float("-inf"))
        next_id = torch.multinomial(torch.softmax(logits, dim=-1), num_samples=1, generator=generator)
        idx = torch.cat((idx, next_id), dim=1)
    return idx[0].tolist()


class FieldColumn(ProgressColumn):
    """One field of a task, formatted; `missing` until it has a value (never 'nan')."""

    def __init__(self, render_value, missing: str):
        super().__init__()
        self.render_value, self.missing = render_value, missing

    def render(self, task) -> Text:
        value = self.render_value(task)
        return Text(self.missing if value is None else value)


def progress_bar(console, tokens_per_step: int) -> Progress:
    def loss(task):
        value = task.fields.get("loss")
        return None if value is None else f"loss {value:.4f}"

    def speed(task):  # rich's estimate over the last 30 s, so one slow step does not make it jump
        return None if not task.speed else f"{task.speed * tokens_per_step:>8,.0f} tokens/s"

    return Progress(
        TextColumn("step {task.completed:>6}/{task.total}"),
        BarColumn(),
        FieldColumn(loss, missing="loss   —   "),
        FieldColumn(speed, missing="       — tokens/s"),
        TimeRemainingColumn(),
        console=console,
    )


def train_command(
    preset_name: str,
    *,
    folder: Path,
    console,
    device: str = "auto",
    steps: int | None = None,
    seed: int = 1337,
    out: Path | None = None,
    resume: bool = False,
    threads: int | None = None,
    tokenizer: str = "characters",
    started: float | None = None,
) -> int:
    """Train `preset_name` on the code in `folder` with its tokenizer ("characters", stage 1's, or "bpe",
    stage 12's); `started` is when the command started (perf_counter)."""
    started = started or time.perf_counter()
    thread_count = AutomaticThreads(threads)
    preset = preset_named(preset_name)
    out = out or Path("runs") / preset.name
    state = None
    if resume:
        if not (out / CHECKPOINT).exists():
            console.print(f"No checkpoint in {display_path(out)} to resume from: start the run without --resume.")
            return 2
        state = load_checkpoint(out)
        preset = Preset(**state["preset"])  # the run goes on as it started, whatever the manifest says now
        tokenizer = state["tokenizer"]["kind"]
    missing, fast = check_learner(folder, preset, tokenizer)
    if missing:
        console.print(f"kata train {preset.name} runs on your own code, and these stages do not pass yet:")
        for line in missing:
            console.print(f"  {line}")
        return 1
    settings = dict(out=out, device=pick_device(device), seed=seed, tokenizer=tokenizer)
    run = _open_run(LearnerStages(folder), preset, state, fast, console, **settings)
    run.steps = steps or run.steps
    console.print(
        f"Training {preset.name} ({sum(p.numel() for p in run.model.parameters()):,} parameters) on {run.device} "
        f"with {thread_count.description()}; run folder {display_path(out)}"
    )
    session = Session(started, run)
    try:
        with progress_bar(console, preset.batch_size * preset.block_size) as progress:
            run.train(progress, thread_count)
    except KeyboardInterrupt:
        run.save()
        console.print(
            f"Stopped at step {run.step:,} of {run.steps:,} after {run.training_seconds:.0f} s of training: "
            f"checkpoint saved. Continue with `kata train {preset.name} --resume --out {display_path(out)}`."
        )
        return 130
    except TrainingDiverged as error:
        console.print(
            f"Training stopped: {error}. The weights are no longer numbers, so nothing was saved. A learning "
            "rate that is too high, or a train_step that does not clear the old gradients, are the usual causes."
        )
        return 1
    run.save()
    for name, path in run.write_outputs(sample_tokens=FINAL_SAMPLE_TOKENS).items():
        console.print(f"{name}: {display_path(path)}")
    console.print(session.summary(run))
    return 0


def _open_run(stages: LearnerStages, preset: Preset, state: dict | None, fast: bool, console, **settings) -> Run:
    """A new run, or the one saved in `state`."""
    if state is not None:
        run = Run.resume(stages, state, out=settings["out"], device=settings["device"])
        console.print(
            f"Resuming {preset.name} at step {run.step:,} of {run.steps:,} "
            f"({run.training_seconds:.0f} s of training so far)."
        )
        return run
    if preset.model == "gpt" and not fast:
        console.print("Stage 9 does not pass yet: training the per-head GPT of stage 8 (slower).")
    if settings["tokenizer"] == "bpe":
        console.print("Training your BPE tokenizer (stage 12) and encoding the corpus with it (a minute or so)...")
    return Run.start(stages, preset, fast=fast, steps=preset.steps, **settings)


class Session:
    """One `kata train` command's share of a run, for a summary whose times add up across resumes."""

    def __init__(self, started: float, run: Run):
        self.started, self.first_step, self.trained_before = started, run.step, run.training_seconds
        self.before_first_step = time.perf_counter() - started

    def summary(self, run: Run) -> str:
        done = f"Done: {counted(run.step, 'step')}, val loss {run.metrics[-1]['val_loss']:.4f}"
        wall = f"{time.perf_counter() - self.started:.0f} s"
        ready = f"{self.before_first_step:.1f} s before step {self.first_step:,}"
        if run.sessions == 1:
            return f"{done}, {run.training_seconds:.0f} s of training ({wall} for the whole command, {ready})."
        return (
            f"{done}, {run.training_seconds:.0f} s of training over {run.sessions} sessions; this command trained "
            f"{counted(run.step - self.first_step, 'step')} in {run.training_seconds - self.trained_before:.0f} s "
            f"({wall} in all, {ready})."
        )


def load_checkpoint(out: Path) -> dict:
    path = out / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint in {display_path(out)}: train a run first, e.g. `kata train gpt-cpu`.")
    state = torch.load(path, map_location="cpu", weights_only=False)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise LookupError(
            f"{display_path(path)} was written by an older kata, without the model's arguments: train the run again."
        )
    if "tokenizer" not in state:  # written before --tokenizer: stage 1's characters
        state["tokenizer"] = dict(kind="characters", vocabulary=state.pop("vocabulary"))
    return state


def sampling_problem(*, tokens: int, temperature: float, top_k: int | None, top_p: float | None, vocab_size: int):
    """Why these sampling options cannot work, in a sentence; None when they can."""
    if tokens < 0:
        return f"--tokens must be 0 or more (got {tokens})."
    if not (math.isfinite(temperature) and temperature > 0):
        return (
            f"--temperature must be a number above 0 (got {temperature:g}): 1 samples from the model's own "
            "probabilities, lower (0.5) makes the text more predictable, higher (1.5) more surprising. For the "
            "single most likely character every time, use --top-k 1."
        )
    if top_k is not None and not 1 <= top_k <= vocab_size:
        return (
            f"--top-k must be between 1 and {vocab_size}, the size of the run's vocabulary (got {top_k}): each "
            "token is drawn from the K most likely ones."
        )
    if top_p is not None and not 0 < top_p <= 1:
        return f"--top-p must lie in (0, 1] (got {top_p:g}): each token is drawn from the likeliest that hold top_p."
    return None


def sample_command(
    out: Path,
    *,
    console,
    tokens: int = 500,
    prompt: str = "\n",
    seed: int | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    folder: Path | None = None,
    threads: int | None = None,
) -> int:
    thread_count = AutomaticThreads(threads)
    state = load_checkpoint(out)
    stages = LearnerStages(folder or Path(state["impl"]))
    tokenizer = stages.tokenizer(state["tokenizer"])
    options = dict(temperature=temperature, top_k=top_k, top_p=top_p)
    problem = sampling_problem(tokens=tokens, vocab_size=tokenizer.vocab_size, **options) or _prompt_problem(
        prompt, state["tokenizer"]
    )
    if problem:
        console.print(problem)
        return 2
    model = stages.build_model(state["model_arguments"])
    model.load_state_dict(state["model"])
    thread_count.revisit(now=True)  # from what the other programs did while the checkpoint loaded
    chosen_seed = secrets.randbelow(2**31) if seed is None else seed
    generation = _learners_generation(stages.folder, state["model_arguments"])
    if generation is not None:
        from kata import sampling

        model = sampling.with_fused_attention(model, load_stage("s09_fast_attention"))
        text = sampling.sample_text(generation, model, tokenizer, prompt, tokens, seed=chosen_seed, **options)
    elif top_p is not None:
        console.print("--top-p comes with your own generation: it works once stage 10 (s10_generation) passes.")
        return 2
    else:
        ids = sample_ids(
            model,
            tokenizer.encode(prompt),
            tokens=tokens,
            context=state["model_arguments"]["context"],
            generator=torch.Generator().manual_seed(chosen_seed),
            temperature=temperature,
            top_k=top_k,
        )
        text = tokenizer.decode(ids)
    console.print(text, markup=False, highlight=False)
    used = "your stage-10 generate, with its KV cache" if generation is not None else "kata's own sampling loop"
    again = f"; add `--seed {chosen_seed}` to get this text again" if seed is None else ""
    console.print(f"(sampled by {used}, seed {chosen_seed}{again})", style="dim")
    return 0


def _prompt_problem(prompt: str, tokenizer: dict) -> str | None:
    if not prompt:
        return "The prompt is empty. Start from a newline (the default) or from text of the corpus, e.g. ROMEO:"
    unknown = sorted(set(prompt) - set(tokenizer.get("vocabulary", prompt)))  # BPE encodes any text
    if unknown:
        return (
            f"The prompt holds characters the run's vocabulary lacks: {', '.join(map(repr, unknown))}. Start from a "
            "newline (the default) or from text of the corpus, e.g. ROMEO:"
        )
    return None


def _learners_generation(folder: Path, model_arguments: dict):
    """The learner's stage-10 module when it passes and the run is a GPT (else None, and kata samples)."""
    if model_arguments["kind"] != "gpt":
        return None
    stage = stage_named("s10_generation")
    if not check_stages(folder, [stage], reuse_verdicts=True)[stage.name].done:
        return None
    return load_stage(stage.name)
