"""Stage 3 · Bigram language model.

Lecture: "simplest baseline: bigram language model, loss, generation" (22:11).

The simplest language model: token i reads the scores (logits) for the next token straight off
row i of a (vocab_size, vocab_size) table. No token looks at any other yet; that comes with
self-attention. Shapes: B = batch, T = time (tokens per row), V = vocab_size.

Check it with `.venv/bin/kata check s03_bigram` (or `.venv/bin/pytest -m s03_bigram`) from the kata's
folder; `.venv/bin/kata hint s03_bigram` gives a hint.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


class BigramLanguageModel(nn.Module):
    def __init__(self, vocab_size: int):
        """Create the table as `self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)`."""
        super().__init__()
        raise NotImplementedError("stage s03_bigram: BigramLanguageModel.__init__")

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """idx: (B, T) token ids. Return (logits, loss).

        Without targets: logits of shape (B, T, V) and loss None.
        With targets (B, T): logits reshaped to (B*T, V) and loss = F.cross_entropy of those logits
        against the targets flattened to (B*T,): the mean over all B*T positions.
        With torch.manual_seed(1337) before building the model, the lecture's first batch gives 4.8786.
        """
        raise NotImplementedError("stage s03_bigram: BigramLanguageModel.forward")

    def generate(self, idx: torch.Tensor, max_new_tokens: int, generator: torch.Generator | None = None):
        """idx: (B, T). Return (B, T + max_new_tokens): idx followed by sampled tokens.

        Repeat max_new_tokens times: logits of the last position only, softmax over the vocabulary,
        draw one token per row with torch.multinomial(probs, num_samples=1, generator=generator),
        append it. Leave the tensor passed in unchanged.
        """
        raise NotImplementedError("stage s03_bigram: BigramLanguageModel.generate")
