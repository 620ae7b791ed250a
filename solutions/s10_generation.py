"""Stage 10 · Generation controls and a KV cache (reference).

After the lecture: nanoGPT's generate (temperature, top_k), nucleus sampling (top_p), and the
key/value cache every production decoder keeps, so that each new token costs one position of work
instead of a forward pass over the whole context.
"""

import torch
from torch.nn import functional as F


def next_token_probabilities(
    logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    vocab_size = logits.shape[-1]
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= vocab_size:
        raise ValueError(f"top_k must be between 1 and the vocabulary size {vocab_size}, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    logits = logits / temperature
    if top_k is not None:
        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs  # the mass of the more likely tokens
        drop_sorted = before >= top_p  # the nucleus is already complete without this token
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs


class KVCache:
    """The keys and values of the positions seen so far, per layer: (B, n_head, T_seen, head_size)."""

    def __init__(self):
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []

    def __len__(self) -> int:
        return self.keys[0].shape[2] if self.keys else 0

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if layer == len(self.keys):  # the first tokens this layer sees
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat((self.keys[layer], k), dim=2)
            self.values[layer] = torch.cat((self.values[layer], v), dim=2)
        return self.keys[layer], self.values[layer]


def attend_with_cache(attention, x: torch.Tensor, cache: KVCache, *, layer: int, n_head: int) -> torch.Tensor:
    B, T, C = x.shape
    q, k, v = attention.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    k, v = cache.update(layer, k, v)
    seen = k.shape[2]
    # New token t (at position seen - T + t) may look at every cached position up to its own.
    allowed = torch.ones(T, seen, dtype=torch.bool, device=x.device).tril(diagonal=seen - T)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    return attention.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


def forward_with_cache(model, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    B, T = idx.shape
    start = len(cache)
    if start + T > model.config.block_size:
        raise ValueError(f"{start} cached positions and {T} new tokens exceed block_size {model.config.block_size}")
    positions = torch.arange(start, start + T, device=idx.device)
    x = model.token_embedding_table(idx) + model.position_embedding_table(positions)
    for layer, block in enumerate(model.blocks):
        x = x + attend_with_cache(block.sa, block.ln1(x), cache, layer=layer, n_head=model.config.n_head)
        x = x + block.ffwd(block.ln2(x))
    return model.lm_head(model.ln_f(x))


@torch.no_grad()
def generate(
    model,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    block_size = model.config.block_size
    cache = KVCache()
    for _ in range(max_new_tokens):
        if not use_cache or len(cache) in (0, block_size):
            # First step, no cache, or no room left: read the whole context (its last block_size tokens).
            cache = KVCache()
            logits = forward_with_cache(model, idx[:, -block_size:], cache)
        else:
            logits = forward_with_cache(model, idx[:, -1:], cache)
        probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)
        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
