"""What a written-out LayerNorm costs a training step of the gpt-cpu model, by how it takes the variance:

    .venv/bin/python benchmarks/layer_norm.py [--rounds 4] [--steps 100] [--threads 1] [--nanogpt DIR]

Trains the references' GPT at the gpt-cpu size (random batches of 12), its attention fused as stage 9
fuses it and its layer norms stage 7's, with three LayerNorm forwards in turn, alternating, `--steps`
steps each per round: the lecture's `x.var(-1, unbiased=False)`, the references' variance from the
centred values, and torch's own F.layer_norm (which stage 7 does not accept, and stage 9's fast_gpt
puts in place of stage 7's, as `kata train` trains it); where nanoGPT's recipe is present
(../shared/baselines/nanogpt/, as for benchmarks/nanogpt_race.py), nanoGPT's GPT of the same size
too, in the same rounds. Prints each one's milliseconds per step, every round and the median, and
each median's ratio to the lecture's.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kata.adamw import AdamW  # noqa: E402
from kata.implementation import activate, load_stage  # noqa: E402
from kata.manifest import presets  # noqa: E402


def lecture_variance(self, x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def torch_layer_norm(self, x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)


def nanogpt(folder: Path, config, preset) -> tuple[torch.nn.Module, AdamW]:
    """nanoGPT's GPT of the same size as the references' (its recipe: no biases, no dropout), with the same AdamW."""
    sys.path.insert(0, str(folder))
    import model as nanogpt_model  # nanoGPT's model.py, run as the baseline

    size = dict(n_layer=config.n_layer, n_head=config.n_head, n_embd=config.n_embd)
    their_config = nanogpt_model.GPTConfig(block_size=config.block_size, vocab_size=65, dropout=0.0, bias=False, **size)
    theirs = nanogpt_model.GPT(their_config)
    return theirs, AdamW(theirs.parameters(), lr=preset.lr, betas=(0.9, preset.beta2), weight_decay=preset.weight_decay)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--nanogpt", type=Path, default=ROOT.parent / "shared" / "baselines" / "nanogpt")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    activate(ROOT / "solutions")
    layer_norm = load_stage("s07_transformer").LayerNorm
    forwards = {"lecture's x.var": lecture_variance, "references' centred": layer_norm.forward}
    forwards["torch's F.layer_norm"] = torch_layer_norm
    preset = presets()["gpt-cpu"]
    config = load_stage("s08_gpt").GPTConfig(vocab_size=65, block_size=preset.block_size, **preset.gpt)
    torch.manual_seed(0)
    model = load_stage("s08_gpt").GPTLanguageModel(config)  # stage 7's layer norms, which fast_gpt replaces
    for block in model.blocks:
        block.sa = load_stage("s09_fast_attention").CausalSelfAttention.from_multihead(block.sa)
    optimizer = AdamW(model.parameters(), lr=preset.lr, betas=(0.9, preset.beta2), weight_decay=preset.weight_decay)

    models = {name: (model, optimizer) for name in forwards}
    if (arguments.nanogpt / "model.py").is_file():
        models["nanoGPT's GPT"] = nanogpt(arguments.nanogpt, config, preset)

    def step(name: str) -> None:
        trained, its_optimizer = models[name]
        x, y = (torch.randint(65, (preset.batch_size, preset.block_size)) for _ in range(2))
        _, loss = trained(x, y)
        its_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        its_optimizer.step()

    milliseconds = {name: [] for name in models}
    for _ in range(arguments.rounds):
        for name in models:
            layer_norm.forward = forwards.get(name, layer_norm.forward)
            for _ in range(5):  # settle the allocator after the switch
                step(name)
            started = time.perf_counter()
            for _ in range(arguments.steps):
                step(name)
            milliseconds[name].append(1000 * (time.perf_counter() - started) / arguments.steps)
    baseline = statistics.median(milliseconds["lecture's x.var"])
    print(f"ms per training step, gpt-cpu size, {arguments.threads} thread(s), {arguments.steps} steps a round:")
    for name, values in milliseconds.items():
        median = statistics.median(values)
        rounds = " ".join(f"{value:.1f}" for value in values)
        print(f"  {name:22s} {rounds}  median {median:.1f} ({median / baseline:.2f}x the lecture's {baseline:.1f})")


if __name__ == "__main__":
    main()
