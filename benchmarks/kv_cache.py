"""The KV cache's speed-up (stage 10), measured side by side on the references:

    .venv/bin/python benchmarks/kv_cache.py

Generates 500 tokens after a one-token prompt with a GPT of the gpt-cpu preset's size (4 layers, 4
heads, width 128, the corpus' 65 characters), with and without the cache, from the same generator, and
checks that both give the same tokens. Two context lengths:
- block_size 512: the whole generation fits in the context, so every step after the first reads one
  new token with the cache and the whole sequence so far without it;
- block_size 64, the preset's own: past 64 tokens the position embeddings run out, the context slides,
  and the cache must be refilled from the last 64 tokens every step, so it saves only the first steps.
"""

import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kata.implementation import activate, load_stage  # noqa: E402
from kata.train import PRESETS  # noqa: E402

NEW_TOKENS = 500
ROUNDS = 3  # the fastest of three, to keep other work on the machine out of the figure


def gpt_cpu_sized(block_size: int):
    preset = PRESETS["gpt-cpu"]
    config = load_stage("s08_gpt").GPTConfig(vocab_size=65, block_size=block_size, **preset.gpt)
    torch.manual_seed(0)
    return load_stage("s09_fast_attention").fast_gpt(config).eval()


def seconds_to_generate(model, use_cache: bool) -> tuple[float, torch.Tensor]:
    generate = load_stage("s10_generation").generate
    best, tokens = float("inf"), None
    for _ in range(ROUNDS):
        started = time.perf_counter()
        tokens = generate(
            model, torch.zeros(1, 1, dtype=torch.long), NEW_TOKENS, generator=torch.Generator().manual_seed(0),
            use_cache=use_cache,
        )  # fmt: skip
        best = min(best, time.perf_counter() - started)
    return best, tokens


def main() -> None:
    torch.set_num_threads(1)  # as the suite runs: small tensors, and steadier figures on a shared machine
    activate(ROOT / "solutions")
    print(f"{NEW_TOKENS} new tokens, gpt-cpu size (4 layers, 4 heads, width 128), torch threads: 1")
    for block_size in (512, 64):
        model = gpt_cpu_sized(block_size)
        uncached, expected = seconds_to_generate(model, use_cache=False)
        cached, got = seconds_to_generate(model, use_cache=True)
        assert torch.equal(got, expected), "the cache changed the tokens"
        print(
            f"block_size {block_size:>3}: without the cache {uncached:.2f} s ({NEW_TOKENS / uncached:,.0f} tokens/s), "
            f"with it {cached:.2f} s ({NEW_TOKENS / cached:,.0f} tokens/s): {uncached / cached:.2f}x"
        )


if __name__ == "__main__":
    main()
