"""Stage 11 · GPT-2 itself (reference).

After the lecture: nanoGPT's model.py. GPT-2 is the lecture's GPT with a few changes: biases on
every projection, GELU (tanh approximation) instead of ReLU, the token embedding shared with the
output head, a scaled initialisation of the projections that feed the residual stream, and the
module names of OpenAI's checkpoint, so that a Hugging Face state_dict loads into it.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from s07_transformer import LayerNorm
from s09_fast_attention import CausalSelfAttention
from torch.nn import functional as F

# Hugging Face's GPT-2 keeps these four projections as Conv1D modules, whose weight is the
# transpose of nn.Linear's (in_features, out_features).
CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
# Older transformers versions store the causal mask as buffers; they hold no weights.
MASK_BUFFERS = (".attn.bias", ".attn.masked_bias")


@dataclass
class GPT2Config:
    vocab_size: int = 50257
    block_size: int = 1024
    n_embd: int = 768
    n_head: int = 12
    n_layer: int = 12
    dropout: float = 0.0


class GPT2Attention(CausalSelfAttention):
    """Your stage-9 attention, with a bias on c_attn as GPT-2 has."""

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__(n_embd, n_head, block_size, dropout)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)


class GPT2MLP(nn.Module):
    def __init__(self, n_embd: int, dropout: float = 0.0):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class GPT2Block(nn.Module):
    def __init__(self, config: GPT2Config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd)
        self.attn = GPT2Attention(config.n_embd, config.n_head, config.block_size, config.dropout)
        self.ln_2 = LayerNorm(config.n_embd)
        self.mlp = GPT2MLP(config.n_embd, config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    def __init__(self, config: GPT2Config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([GPT2Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # one matrix embeds tokens and scores them
        self.apply(self._init_weights)
        for name, parameter in self.named_parameters():
            # The projections that add to the residual stream, two per layer: scaled so that the
            # stream's variance does not grow with depth.
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"a sequence of {T} tokens is longer than block_size {self.config.block_size}")
        positions = torch.arange(T, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        logits = logits.view(B * T, -1)
        return logits, F.cross_entropy(logits, targets.view(B * T))


@torch.no_grad()
def load_gpt2_state_dict(model: GPT2, state_dict: dict[str, torch.Tensor]) -> GPT2:
    own = model.state_dict()
    for key, tensor in state_dict.items():
        if key.endswith(MASK_BUFFERS):
            continue
        if key not in own:
            raise ValueError(f"{key} is not a parameter of this GPT2")
        if key.endswith(CONV1D_WEIGHTS):
            tensor = tensor.t()
        if tensor.shape != own[key].shape:
            raise ValueError(
                f"{key}: the checkpoint's shape {tuple(tensor.shape)} does not fit {tuple(own[key].shape)}"
            )
        own[key].copy_(tensor)
    # named_parameters lists the shared embedding and head matrix once, so a checkpoint may leave out either.
    missing = {name for name, _ in model.named_parameters()} - set(state_dict)
    if missing:
        raise ValueError(f"the checkpoint has no {', '.join(sorted(missing))}")
    return model
