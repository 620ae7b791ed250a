"""The grader's own computations, written out from the definitions (not the references): what each
probe's answer must be. They run only in the grader's process, which never imports a submission."""

import math

import torch
from torch.nn import functional as F

from kata.grading.probe_calls import dropout_mask


def vocabulary(text: str) -> list[str]:
    return sorted(set(text))


def lecture_batch(data: torch.Tensor, batch_size: int, block_size: int, seed: int, *, batches: int = 1):
    """The lecture's batch from a generator seeded `seed`, as [x, y]; with batches=n, n of them drawn one after
    another from that generator, as [x1, y1, x2, y2, ...]."""
    generator, drawn = torch.Generator().manual_seed(seed), []
    for _ in range(batches):
        ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
        drawn += [
            torch.stack([data[i : i + block_size] for i in ix]),
            torch.stack([data[i + 1 : i + block_size + 1] for i in ix]),
        ]
    return drawn


def sample_tokens(
    logits_of, idx: torch.Tensor, new_tokens: int, seed: int | torch.Generator, block_size: int | None = None
):
    """Sampling as the lecture does: softmax of the last position, one multinomial draw per step, from a generator
    seeded `seed` (or from `seed`, a generator, where it stands)."""
    generator = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
    for _ in range(new_tokens):
        context = idx if block_size is None else idx[:, -block_size:]
        probs = F.softmax(logits_of(context)[:, -1, :], dim=-1)
        idx = torch.cat((idx, torch.multinomial(probs, num_samples=1, generator=generator)), dim=1)
    return idx


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def adamw_on_a_table(table: torch.Tensor, batches, lr: float) -> tuple[list[float], torch.Tensor]:
    """torch.optim.AdamW on a bigram table, one step per batch: the losses before each update."""
    parameter = torch.nn.Parameter(table.clone())
    optimizer = torch.optim.AdamW([parameter], lr=lr)
    losses = []
    for x, y in batches:
        loss = cross_entropy(parameter[x], y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, parameter.detach()


def running_mean(x: torch.Tensor) -> torch.Tensor:
    counts = torch.arange(1, x.shape[1] + 1, dtype=torch.float64).view(1, -1, 1)
    return (x.double().cumsum(1) / counts).to(x.dtype)


def average_weights(T: int) -> torch.Tensor:
    rows = torch.arange(T).view(-1, 1)
    return ((torch.arange(T).view(1, -1) <= rows).double() / (rows + 1)).float()


def attention_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    T, head_size = q.shape[-2], k.shape[-1]
    affinities = q.double() @ k.double().transpose(-2, -1) / math.sqrt(head_size)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    return torch.softmax(affinities.masked_fill(future, float("-inf")), dim=-1)


def dropped(x: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout in training mode as the probe sandbox computes it (probe_calls.dropout_mask)."""
    return x * dropout_mask(x.shape, p).double() / (1 - p) if p else x


def head(weights: dict, x: torch.Tensor, p: float = 0.0) -> torch.Tensor:
    q, k, v = (x.double() @ weights[name].double().T for name in ("query", "key", "value"))
    return dropped(attention_weights(q, k), p) @ v


def linear(weights: dict, x: torch.Tensor) -> torch.Tensor:
    out = x.double() @ weights["weight"].double().T
    return out + weights["bias"].double() if "bias" in weights else out


def multihead(weights: dict, x: torch.Tensor, p: float = 0.0) -> torch.Tensor:
    return dropped(linear(weights["proj"], torch.cat([head(h, x, p) for h in weights["heads"]], dim=-1)), p)


def feed_forward(weights: list, x: torch.Tensor, p: float = 0.0) -> torch.Tensor:
    return dropped(linear(weights[1], torch.relu(linear(weights[0], x))), p)


def layer_norm(weights: dict, x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    x = x.double()
    mean, var = x.mean(-1, keepdim=True), x.var(-1, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps) * weights["weight"].double() + weights["bias"].double()


def fused_to_heads(weights: dict, n_head: int) -> dict:
    """Stage 9's layout (c_attn stacks all queries, then all keys, then all values) as stage 7's heads."""
    C = weights["c_attn"].shape[1]
    query, key, value = weights["c_attn"].split(C, dim=0)
    size = C // n_head
    heads = [
        {name: part[h * size : (h + 1) * size] for name, part in (("query", query), ("key", key), ("value", value))}
        for h in range(n_head)
    ]
    return {"heads": heads, "proj": weights["c_proj"]}


def block(weights: dict, x: torch.Tensor, n_head: int, p: float = 0.0) -> torch.Tensor:
    attention = weights["sa"] if "heads" in weights["sa"] else fused_to_heads(weights["sa"], n_head)
    x = x.double() + multihead(attention, layer_norm(weights["ln1"], x), p)
    return x + feed_forward(weights["ffwd"], layer_norm(weights["ln2"], x), p)


def gpt_logits(weights: dict, idx: torch.Tensor, n_head: int, p: float = 0.0, embedding_dropout=False) -> torch.Tensor:
    """The lecture's GPT; with embedding_dropout, also dropout on the embeddings' sum, as nanoGPT has."""
    T = idx.shape[1]
    x = weights["tok"].double()[idx] + weights["pos"].double()[:T]
    x = dropped(x, p) if embedding_dropout else x
    for block_weights in weights["blocks"]:
        x = block(block_weights, x, n_head, p)
    return linear(weights["lm_head"], layer_norm(weights["ln_f"], x))


def next_token_probabilities(logits: torch.Tensor, *, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """Temperature, then top-k (ties with the k-th largest kept), softmax, then the nucleus: a token is
    dropped when the more likely ones already hold top_p of the mass."""
    logits = logits.double() / temperature
    if top_k is not None:
        kth = logits.sort(dim=-1, descending=True).values[..., top_k - 1 : top_k]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p is not None:
        ordered, order = probs.sort(dim=-1, descending=True)
        drop = torch.zeros_like(probs, dtype=torch.bool).scatter(-1, order, (ordered.cumsum(-1) - ordered) >= top_p)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gpt2_attention(weights: dict, x: torch.Tensor, n_head: int, p: float = 0.0) -> torch.Tensor:
    """GPT-2's attention: stage 9's fused layout with a bias on c_attn; with p, dropout on weights and output."""
    C = x.shape[-1]
    qkv = linear(weights["c_attn"], x)
    query, key, value = qkv.split(C, dim=-1)
    size = C // n_head
    heads = [
        dropped(attention_weights(query[..., h * size : (h + 1) * size], key[..., h * size : (h + 1) * size]), p)
        @ value[..., h * size : (h + 1) * size]
        for h in range(n_head)
    ]
    return dropped(linear(weights["c_proj"], torch.cat(heads, dim=-1)), p)


def gpt2_mlp(weights: dict, x: torch.Tensor, p: float = 0.0) -> torch.Tensor:
    return dropped(linear(weights["c_proj"], gelu_tanh(linear(weights["c_fc"], x))), p)


def gpt2_block(weights: dict, x: torch.Tensor, n_head: int, p: float = 0.0) -> torch.Tensor:
    attention = {"c_attn": weights["c_attn"], "c_proj": weights["attn_proj"]}
    x = x.double() + gpt2_attention(attention, layer_norm(weights["ln_1"], x), n_head, p)
    mlp = {"c_fc": weights["c_fc"], "c_proj": weights["mlp_proj"]}
    return x + gpt2_mlp(mlp, layer_norm(weights["ln_2"], x), p)


def gpt2_logits(weights: dict, idx: torch.Tensor, n_head: int, p: float = 0.0) -> torch.Tensor:
    """GPT-2's logits; with p, in training mode: dropout on the embeddings and in every block, as GPT-2 has."""
    T = idx.shape[1]
    x = dropped(weights["wte"].double()[idx] + weights["wpe"].double()[:T], p)
    for block_weights in weights["h"]:
        x = gpt2_block(block_weights, x, n_head, p)
    return layer_norm(weights["ln_f"], x) @ weights["wte"].double().T  # the head is the token embedding


def bpe_train(text: str, vocab_size: int) -> list[list[int]]:
    """The merges [left, right, new id] of byte-level BPE, ties going to the smallest pair."""
    ids, merges = list(text.encode("utf-8")), []
    for new_id in range(256, vocab_size):
        counts: dict[tuple[int, int], int] = {}
        for pair in zip(ids, ids[1:], strict=False):
            counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        pair = min(counts, key=lambda candidate: (-counts[candidate], candidate))
        ids = bpe_merge(ids, pair, new_id)
        merges.append([*pair, new_id])
    return merges


def bpe_encode(text: str, merges: list[list[int]]) -> list[int]:
    """text's UTF-8 bytes with `merges` ([left, right, new id], in the order learned) replayed."""
    encoded = list(text.encode("utf-8"))
    for left, right, new_id in merges:
        encoded = bpe_merge(encoded, (left, right), new_id)
    return encoded


def bpe_merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    merged, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged
