"""Stage 8 · The full GPT.

Lecture: "scaling up the model! creating a few variables. adding dropout" (1:37:49).

Tokens and their positions are embedded and added, pass through n_layer Blocks, are normalised
once more, and a linear head gives each position logits over the vocabulary. Forward and generate
keep the contracts of the bigram model (stage 3).

This stage builds on your Block and LayerNorm from stage 7.

Beyond the lecture's video, and checked by the tests:
- the initialisation of the lecture's gpt.py, which the video did not show: every Linear and
  Embedding weight drawn from a normal with std 0.02, every Linear bias 0 (PyTorch's defaults
  fail the tests);
- forward raises ValueError for a sequence longer than block_size (the video's code fails later,
  with an IndexError in the position embedding);
- generate takes a `generator` and passes it to torch.multinomial, so a seed gives the same sample.

Check it with `.venv/bin/kata check s08_gpt` (or `.venv/bin/pytest -m s08_gpt`) from the kata's
folder; `.venv/bin/kata hint s08_gpt` gives a hint.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
from s07_transformer import Block, LayerNorm  # noqa: F401  (yours: stages import each other by file name)
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


@dataclass
class GPTConfig:
    """The lecture's model: about 10.79 M parameters."""

    vocab_size: int = 65
    block_size: int = 256
    n_embd: int = 384
    n_head: int = 6
    n_layer: int = 6
    dropout: float = 0.2


class GPTLanguageModel(nn.Module):
    def __init__(self, config: GPTConfig):
        """Keep `config`; create `token_embedding_table` (vocab_size x n_embd),
        `position_embedding_table` (block_size x n_embd), `blocks` (nn.Sequential of n_layer Blocks,
        each with n_head heads and config.dropout), `ln_f` (LayerNorm) and `lm_head`
        (nn.Linear(n_embd, vocab_size)). Then initialise as the lecture's gpt.py does, with
        self.apply(self._init_weights): every Linear and Embedding weight from a normal with mean 0
        and std 0.02, every Linear bias at zero."""
        super().__init__()
        raise NotImplementedError("stage s08_gpt: GPTLanguageModel.__init__")

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx: (B, T) with T <= block_size (else ValueError). Return (logits, loss) exactly as the
        bigram model does: (B, T, V) and None without targets, (B*T, V) and the mean cross-entropy with.
        Every position's logits, even without targets (not only the last one, as nanoGPT returns).
        Make the positions on idx's device, torch.arange(T, device=idx.device), so it runs on a GPU too."""
        raise NotImplementedError("stage s08_gpt: GPTLanguageModel.forward")

    def generate(self, idx: torch.Tensor, max_new_tokens: int, generator: torch.Generator | None = None):
        """As the bigram's generate, but feed the model only the last block_size tokens of idx
        (it has no position embedding beyond), so generation can run past block_size. Sample with
        torch.multinomial(probs, num_samples=1, generator=generator)."""
        raise NotImplementedError("stage s08_gpt: GPTLanguageModel.generate")
