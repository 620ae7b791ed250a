"""Stage 10 · Sampling controls and a KV cache.

After the lecture: nanoGPT's `generate` adds `temperature` and `top_k` to the lecture's sampling,
Hugging Face adds nucleus sampling (`top_p`), and every production decoder keeps a key/value cache.
Without a cache, each new token runs the model over the whole context again. With one, each layer
keeps the keys and values it has already computed, so a new token needs only its own query, key and
value, and attends over the cached ones: the same logits for a fraction of the work.

This stage builds on your GPT (stage 8) with fast attention (stage 9): a model made by `fast_gpt`.
It reads the model's own parts: token_embedding_table, position_embedding_table, blocks (each with
ln1, sa, ln2, ffwd), ln_f, lm_head, config, and each block.sa's c_attn and c_proj.

Check it with `.venv/bin/kata check s10_generation` (or `.venv/bin/pytest -m s10_generation`) from the kata's
folder; `.venv/bin/kata hint s10_generation` gives a hint.
"""

import torch
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


def next_token_probabilities(
    logits: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """logits: (B, V) for the next token. Return (B, V) probabilities, each row summing to 1, in this order:

    1. divide the logits by `temperature` (below 1 sharpens, above 1 flattens);
    2. top_k: keep the k largest logits of each row (nanoGPT keeps those equal to the k-th too; ties are
       too rare in float logits to matter), set the others to -inf;
    3. softmax;
    4. top_p (the nucleus): sort each row's probabilities in descending order and drop a token when the
       tokens before it already add up to top_p or more (so the token that crosses top_p is kept);
       renormalise what is left.

    None leaves a filter out. Raise ValueError unless temperature > 0, 1 <= top_k <= V and 0 < top_p <= 1.
    Leave `logits` as they were (they are the caller's, the model's output): compute on new tensors.
    """
    raise NotImplementedError("stage s10_generation: next_token_probabilities")


class KVCache:
    """The keys and values every layer has computed so far, each of shape (B, n_head, T_seen, head_size).

    len(cache) is the number of positions cached (0 when empty).
    """

    def __init__(self):
        raise NotImplementedError("stage s10_generation: KVCache.__init__")

    def __len__(self) -> int:
        raise NotImplementedError("stage s10_generation: KVCache.__len__")

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append the new keys and values (B, n_head, T_new, head_size) of `layer` after those it
        holds, along the time dim; return all of that layer's keys and values so far."""
        raise NotImplementedError("stage s10_generation: KVCache.update")


def attend_with_cache(attention, x: torch.Tensor, cache: KVCache, *, layer: int, n_head: int) -> torch.Tensor:
    """x: (B, T, C), the normalised stream of the T newest tokens; `attention` is a block's
    CausalSelfAttention (stage 9). Return (B, T, C), what attention would give these positions if it
    ran over the whole sequence so far:

    q, k, v from attention.c_attn(x) split into heads (B, n_head, T, head_size) as in stage 9; put k, v
    into the cache and attend over everything it returns (S positions). New token t sits at position
    S - T + t and may see every cached position up to its own. Then attention.c_proj. No dropout: this is
    for generation. Careful: is_causal=True masks as if the queries started at position 0.
    """
    raise NotImplementedError("stage s10_generation: attend_with_cache")


def forward_with_cache(model, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    """idx: (B, T), the tokens that come after the len(cache) positions already cached. Return their
    logits (B, T, V), equal to what model(whole sequence) gives at those positions.

    The new tokens sit at positions len(cache), ..., len(cache) + T - 1. Each block does
    x + attend_with_cache(block.sa, block.ln1(x), ...), then x + block.ffwd(block.ln2(x)); then ln_f and
    lm_head. Raise ValueError when len(cache) + T > model.config.block_size. Make the positions, and in
    attend_with_cache the mask, on the input's device (device=idx.device), as the model's forward does.
    """
    raise NotImplementedError("stage s10_generation: forward_with_cache")


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
    """Return idx (B, T) with max_new_tokens sampled tokens appended: (B, T + max_new_tokens).

    Each step: logits of the last position, next_token_probabilities(...) with the options, one
    torch.multinomial(probs, num_samples=1, generator=generator). With use_cache, run the prompt (its
    last block_size tokens) once into a fresh KVCache, then only the newest token each step; when the
    cache already holds block_size positions, start a fresh one from the last block_size tokens (the
    position embeddings end there). Without it, run the last block_size tokens each step. Either way
    the tokens are the same. No gradients are needed.
    """
    raise NotImplementedError("stage s10_generation: generate")
