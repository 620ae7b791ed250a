"""Stage 11 · GPT-2 itself.

After the lecture: nanoGPT's model.py builds GPT-2 and loads OpenAI's weights into it. GPT-2 is
the lecture's GPT with a few changes:
- every Linear has a bias except the output head;
- the MLP uses GELU with the tanh approximation (F.gelu(x, approximate="tanh")) instead of ReLU;
- the output head shares the token embedding's matrix (weight tying: 38.6 M fewer parameters);
- the projections that add to the residual stream (c_proj, two per block) start with a smaller std,
  0.02 / sqrt(2 * n_layer), so the stream's variance does not grow with depth;
- OpenAI's module names, so that a checkpoint's keys match yours: transformer.wte (tokens),
  transformer.wpe (positions), transformer.drop, transformer.h (the blocks), transformer.ln_f, lm_head;
  in each block ln_1, attn (c_attn, c_proj), ln_2, mlp (c_fc, c_proj).

The tests check your model against Hugging Face's GPT2LMHeadModel: built from a small GPT2Config with
random weights, its state_dict loaded into yours must give the same logits.

This stage builds on your LayerNorm (stage 7) and CausalSelfAttention (stage 9).

Check it with `.venv/bin/kata check s11_gpt2` (or `.venv/bin/pytest -m s11_gpt2`) from the kata's
folder; `.venv/bin/kata hint s11_gpt2` gives a hint.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
from s07_transformer import LayerNorm  # noqa: F401  (yours, for ln_1, ln_2 and ln_f)
from s09_fast_attention import CausalSelfAttention
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


@dataclass
class GPT2Config:
    """GPT-2 small: 124,439,808 parameters."""

    vocab_size: int = 50257
    block_size: int = 1024
    n_embd: int = 768
    n_head: int = 12
    n_layer: int = 12
    dropout: float = 0.0


class GPT2Attention(CausalSelfAttention):
    """Your stage-9 attention with a bias on c_attn: after super().__init__(...), replace c_attn
    with nn.Linear(n_embd, 3 * n_embd). Its forward is the one you wrote."""

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__(n_embd, n_head, block_size, dropout)
        raise NotImplementedError("stage s11_gpt2: GPT2Attention.__init__")


class GPT2MLP(nn.Module):
    """`c_fc` = nn.Linear(n_embd, 4 * n_embd), GELU (tanh approximation), `c_proj` = nn.Linear(4 * n_embd,
    n_embd), then dropout: (B, T, n_embd) -> (B, T, n_embd)."""

    def __init__(self, n_embd: int, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError("stage s11_gpt2: GPT2MLP.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("stage s11_gpt2: GPT2MLP.forward")


class GPT2Block(nn.Module):
    """Pre-norm, as your Block: x + attn(ln_1(x)), then x + mlp(ln_2(x)); `ln_1`, `ln_2` are your
    LayerNorm, `attn` a GPT2Attention, `mlp` a GPT2MLP, both given config.dropout."""

    def __init__(self, config: GPT2Config):
        super().__init__()
        raise NotImplementedError("stage s11_gpt2: GPT2Block.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("stage s11_gpt2: GPT2Block.forward")


class GPT2(nn.Module):
    def __init__(self, config: GPT2Config):
        """Keep `config`; `transformer` = nn.ModuleDict with wte (vocab_size x n_embd), wpe (block_size x
        n_embd), drop (nn.Dropout), h (nn.ModuleList of n_layer GPT2Blocks) and ln_f (LayerNorm);
        `lm_head` = nn.Linear(n_embd, vocab_size, bias=False) whose weight IS transformer.wte.weight.

        Initialise like GPT-2: every Linear and Embedding weight normal with std 0.02, biases zero, then
        every parameter whose name ends in "c_proj.weight" normal with std 0.02 / sqrt(2 * n_layer)."""
        super().__init__()
        raise NotImplementedError("stage s11_gpt2: GPT2.__init__")

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """As your GPT's forward: wte(idx) + wpe(positions), drop, the blocks, ln_f, lm_head. Return (logits
        (B, T, V), None) without targets, (logits (B*T, V), mean cross-entropy) with them. Raise ValueError
        when T > block_size. Make the positions on idx's device (device=idx.device)."""
        raise NotImplementedError("stage s11_gpt2: GPT2.forward")


def load_gpt2_state_dict(model: GPT2, state_dict: dict[str, torch.Tensor]) -> GPT2:
    """Copy a Hugging Face GPT2LMHeadModel's state_dict into `model` (in place, under torch.no_grad(),
    its parameters still requiring gradients: it trains further) and return `model`. Its keys are your
    parameter names. Hugging Face keeps attn.c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj as Conv1D
    modules, whose weight is (in_features, out_features): copy the transpose of those four; every other
    tensor as it is. Skip the keys ending in ".attn.bias" or
    ".attn.masked_bias": older transformers versions store their causal mask there, not weights.

    Raise ValueError naming the key when a tensor's shape does not fit, a key is not yours, or one of
    your parameters is missing from state_dict (lm_head.weight may be missing: it is wte's matrix)."""
    raise NotImplementedError("stage s11_gpt2: load_gpt2_state_dict")
