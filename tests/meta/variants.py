"""Different but correct implementations, each applied to a copy of the references; the suite must accept every one."""

from catalog import Edited as Variant

VARIANTS = [
    Variant(
        "vocabulary-from-a-dict",
        "s01_tokenizer",
        "distinct characters through dict keys",
        (("return sorted(set(text))", "return sorted({char: None for char in text})"),),
    ),
    Variant(
        "encode-with-list-index",
        "s01_tokenizer",
        "looks ids up with list.index instead of a dict",
        (
            ("            if char not in self.string_to_id:", "            if char not in self.vocabulary:"),
            ("ids.append(self.string_to_id[char])", "ids.append(self.vocabulary.index(char))"),
        ),
    ),
    Variant(
        "vocabulary-as-a-string",
        "s01_tokenizer",
        "keeps the vocabulary as a str and decodes a tensor via tolist",
        (
            ("        self.vocabulary = vocabulary\n", '        self.vocabulary = "".join(vocabulary)\n'),
            (
                "        chars = []\n",
                '        chars = []\n        ids = ids.tolist() if hasattr(ids, "tolist") else ids\n',
            ),
        ),
    ),
    Variant(
        "batch-by-fancy-indexing",
        "s02_batches",
        "gathers all windows with one index tensor",
        (
            (
                "    x = torch.stack([data[i : i + block_size] for i in ix])\n    y = torch.stack([data[i + 1 : i "
                "+ block_size + 1] for i in ix])\n",
                "    offsets = ix.unsqueeze(1) + torch.arange(block_size)\n    x, y = data[offsets], data[offsets "
                "+ 1]\n",
            ),
        ),
    ),
    Variant(
        "batch-from-longer-windows",
        "s02_batches",
        "cuts x and y from windows of block_size + 1",
        (
            (
                "    x = torch.stack([data[i : i + block_size] for i in ix])\n    y = torch.stack([data[i + 1 : i "
                "+ block_size + 1] for i in ix])\n",
                "    windows = torch.stack([data[i : i + block_size + 1] for i in ix])\n    x, y = windows[:, "
                ":-1], windows[:, 1:]\n",
            ),
        ),
    ),
    Variant(
        "split-with-tensor-split",
        "s02_batches",
        "splits with Tensor.split",
        (("    return data[:n], data[n:]", "    train, val = data.split([n, len(data) - n])\n    return train, val"),),
    ),
    Variant(
        "pairs-in-a-loop",
        "s02_batches",
        "builds the pairs with an explicit loop over the data",
        (
            (
                "    x = data[:block_size]\n    y = data[1 : block_size + 1]\n    return [(x[: t + 1], int(y[t])) "
                "for t in range(block_size)]",
                "    pairs = []\n    for t in range(block_size):\n        pairs.append((data[: t + 1], data[t + "
                "1].item()))\n    return pairs",
            ),
        ),
    ),
    Variant(
        "loss-on-batch-time-classes",
        "s03_bigram",
        "computes the loss on (B, V, T) logits, then flattens",
        (
            (
                "        logits = logits.view(B * T, V)\n        loss = F.cross_entropy(logits, targets.view(B * T))",
                "        loss = F.cross_entropy(logits.transpose(1, 2), targets)\n        logits = "
                "logits.reshape(-1, V)",
            ),
        ),
    ),
    Variant(
        "generate-without-grad",
        "s03_bigram",
        "generates under no_grad with Tensor methods",
        (
            ("    def generate(", "    @torch.no_grad()\n    def generate("),
            (
                "            logits, _ = self(idx)\n            logits = logits[:, -1, :]",
                "            logits = self(idx)[0][:, -1]",
            ),
            ("probs = F.softmax(logits, dim=-1)", "probs = logits.softmax(dim=-1)"),
        ),
    ),
    Variant(
        "zero-grad-before-forward",
        "s04_training",
        "clears gradients before the forward pass",
        (
            (
                "    _, loss = model(xb, yb)\n    optimizer.zero_grad(set_to_none=True)  # gradients add up across "
                "backward calls unless cleared\n",
                "    optimizer.zero_grad()\n    _, loss = model(xb, yb)\n",
            ),
        ),
    ),
    Variant(
        "estimate-with-a-list",
        "s04_training",
        "averages Python floats and restores the mode with if",
        (
            ("@torch.no_grad()\n", ""),
            (
                "    losses = torch.zeros(eval_iters)\n    for k in range(eval_iters):\n        xb, yb = "
                "next_batch()\n        _, loss = model(xb, yb)\n        losses[k] = loss.item()\n    "
                "model.train(was_training)\n    return losses.mean().item()",
                "    losses = []\n    with torch.no_grad():\n        for _ in range(eval_iters):\n            "
                "losses.append(model(*next_batch())[1].item())\n    if was_training:\n        model.train()\n    "
                "return sum(losses) / len(losses)",
            ),
        ),
    ),
    Variant(
        "average-by-cumsum",
        "s05_averaging",
        "version 1 as running sums over counts",
        (
            (
                "    B, T, C = x.shape\n    xbow = torch.zeros_like(x)\n    for b in range(B):\n        for t in "
                "range(T):\n            xprev = x[b, : t + 1]  # (t+1, C)\n            xbow[b, t] = "
                "torch.mean(xprev, 0)\n    return xbow",
                "    counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype).view(1, -1, 1)\n    return "
                "x.cumsum(1) / counts",
            ),
        ),
    ),
    Variant(
        "loop-over-time-only",
        "s05_averaging",
        "one loop over t, vectorised over the batch",
        (
            (
                "    for b in range(B):\n        for t in range(T):\n            xprev = x[b, : t + 1]  # (t+1, "
                "C)\n            xbow[b, t] = torch.mean(xprev, 0)\n",
                "    for t in range(T):\n        xbow[:, t] = x[:, : t + 1].mean(1)\n",
            ),
        ),
    ),
    Variant(
        "weights-from-counts",
        "s05_averaging",
        "divides the triangle by 1..T",
        (
            (
                "    wei = torch.tril(torch.ones(T, T))\n    return wei / wei.sum(1, keepdim=True)",
                "    return torch.ones(T, T).tril() / torch.arange(1, T + 1).unsqueeze(1)",
            ),
        ),
    ),
    Variant(
        "matmul-by-einsum",
        "s05_averaging",
        "version 2 with einsum",
        (
            (
                "    wei = tril_average_weights(x.shape[1]).to(x)\n    return wei @ x",
                '    return torch.einsum("ts,bsc->btc", tril_average_weights(x.shape[1]).to(x), x)',
            ),
        ),
    ),
    Variant(
        "softmax-weights-from-triu",
        "s05_averaging",
        "version 3's mask as an upper triangle of -inf",
        (
            (
                "    tril = torch.tril(torch.ones(T, T))\n    wei = torch.zeros((T, T))\n    wei = "
                'wei.masked_fill(tril == 0, float("-inf"))\n',
                '    wei = torch.full((T, T), float("-inf")).triu(1)\n',
            ),
        ),
    ),
    Variant(
        "queries-scaled-first",
        "s06_attention",
        "scales q before the product and masks with triu",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n    tril = torch.tril(torch.ones(T, T, "
                'dtype=torch.bool, device=q.device))\n    wei = wei.masked_fill(~tril, float("-inf"))\n    return '
                "F.softmax(wei, dim=-1)",
                "    wei = (q / head_size**0.5) @ k.transpose(-2, -1)\n    future = torch.ones(T, T, "
                'dtype=torch.bool).triu(1)\n    return torch.softmax(wei.masked_fill(future, float("-inf")), '
                "dim=-1)",
            ),
        ),
    ),
    Variant(
        "layernorm-with-var-mean",
        "s07_transformer",
        "normalises with torch.var_mean and rsqrt",
        (
            (
                "        mean = x.mean(-1, keepdim=True)\n        var = x.var(-1, keepdim=True, unbiased=False)\n  "
                "      return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias",
                "        var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)\n        return "
                "self.weight * (x - mean) * torch.rsqrt(var + self.eps) + self.bias",
            ),
        ),
    ),
    Variant(
        "heads-concatenated-on-dim-2",
        "s07_transformer",
        "concatenates on dim 2 and keeps layers in a list",
        (
            (
                "out = torch.cat([head(x) for head in self.heads], dim=-1)",
                "out = torch.cat(list(map(lambda head: head(x), self.heads)), dim=2)",
            ),
        ),
    ),
    Variant(
        "positions-from-the-table",
        "s08_gpt",
        "slices the position table instead of looking up arange",
        (
            (
                "pos_emb = self.position_embedding_table(torch.arange(T, device=idx.device))  # (T, C)",
                "pos_emb = self.position_embedding_table.weight[:T]",
            ),
        ),
    ),
    Variant(
        "fused-reshape-with-permute",
        "s09_fast_attention",
        "reshapes with permute and reshape",
        (
            (
                "        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))",
                "        q, k, v = [t.reshape(B, T, self.n_head, -1).permute(0, 2, 1, 3) for t in (q, k, v)]",
            ),
            (
                "        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again",
                "        y = y.permute(0, 2, 1, 3).reshape(B, T, C)",
            ),
        ),
    ),
]
