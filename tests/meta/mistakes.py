"""Realistic learner mistakes, each applied to a copy of the references; the suite must reject every one."""

from catalog import Edited as Mistake

MISTAKES = [
    # Stage 1 · tokenizer
    Mistake(
        "vocabulary-in-order-of-appearance",
        "s01_tokenizer",
        "kept characters in the order they first appear",
        (("return sorted(set(text))", "return list(dict.fromkeys(text))"),),
        "first appear",
    ),
    Mistake(
        "vocabulary-with-repeats",
        "s01_tokenizer",
        "sorted the text without removing repeats",
        (("return sorted(set(text))", "return sorted(text)"),),
        "more than once",
    ),
    Mistake(
        "ids-count-from-one",
        "s01_tokenizer",
        "numbered the characters from 1",
        (
            ("enumerate(vocabulary)}", "enumerate(vocabulary, start=1)}"),
            ("chars.append(self.vocabulary[token_id])", "chars.append(self.vocabulary[token_id - 1])"),
            ("if not 0 <= token_id < self.vocab_size:", "if not 1 <= token_id <= self.vocab_size:"),
        ),
        "one too high",
    ),
    Mistake(
        "negative-ids-accepted",
        "s01_tokenizer",
        "checked only the upper bound of an id",
        (("if not 0 <= token_id < self.vocab_size:", "if token_id >= self.vocab_size:"),),
        "negative id",
    ),
    Mistake(
        "unknown-characters-skipped",
        "s01_tokenizer",
        "skipped characters outside the vocabulary",
        (('raise ValueError(f"character {char!r} at position {position} is not in the vocabulary")', "continue"),),
        "expected ValueError",
    ),
    Mistake(
        "error-without-position",
        "s01_tokenizer",
        "named the character but not its position",
        (('f"character {char!r} at position {position} is not in the vocabulary"', 'f"unknown character {char!r}"'),),
        "position 7",
    ),
    Mistake(
        "repeated-vocabulary-accepted",
        "s01_tokenizer",
        "did not check the vocabulary for repeats",
        (("        if repeated:\n", "        if False:\n"),),
        "appear twice",
    ),
    Mistake(
        "decode-looks-up-tensors-in-a-dict",
        "s01_tokenizer",
        "decoded through a dict, which a tensor id does not hit",
        (
            (
                "self.vocab_size = len(vocabulary)\n",
                "self.vocab_size = len(vocabulary)\n        self.id_to_string = dict(enumerate(vocabulary))\n",
            ),
            ("            token_id = int(token_id)\n", ""),
            ("chars.append(self.vocabulary[token_id])", "chars.append(self.id_to_string[token_id])"),
        ),
        "KeyError",
    ),
    # Stage 2 · batches
    Mistake(
        "encoded-text-without-dtype",
        "s02_batches",
        "left the dtype to torch.tensor",
        (("torch.tensor(tokenizer.encode(text), dtype=torch.long)", "torch.tensor(tokenizer.encode(text))"),),
        "dtype=torch.long",
    ),
    Mistake(
        "split-rounds",
        "s02_batches",
        "rounded the split point instead of truncating",
        (("n = int(train_fraction * len(data))", "n = round(train_fraction * len(data))"),),
        "int(train_fraction * len(data))",
    ),
    Mistake(
        "split-drops-a-token",
        "s02_batches",
        "started validation one token late",
        (("return data[:n], data[n:]", "return data[:n], data[n + 1 :]"),),
    ),
    Mistake(
        "split-accepts-0-and-1",
        "s02_batches",
        "allowed fractions of 0 and 1",
        (("if not 0 < train_fraction < 1:", "if not 0 <= train_fraction <= 1:"),),
        "should raise ValueError",
    ),
    Mistake(
        "context-excludes-current-token",
        "s02_batches",
        "sliced the context as data[:t]",
        (("(x[: t + 1], int(y[t]))", "(x[:t], int(y[t]))"),),
        "includes token t",
    ),
    Mistake(
        "target-is-current-token",
        "s02_batches",
        "took the current token as the target",
        (("(x[: t + 1], int(y[t]))", "(x[: t + 1], int(x[t]))"),),
        "right after it",
    ),
    Mistake(
        "last-window-never-drawn",
        "s02_batches",
        "drew starts below len(data) - block_size - 1",
        (
            (
                "torch.randint(len(data) - block_size, (batch_size,)",
                "torch.randint(len(data) - block_size - 1, (batch_size,)",
            ),
        ),
        "never draws the last window",
    ),
    Mistake(
        "targets-not-shifted",
        "s02_batches",
        "took y from the same window as x",
        (
            (
                "torch.stack([data[i + 1 : i + block_size + 1] for i in ix])",
                "torch.stack([data[i : i + block_size] for i in ix])",
            ),
        ),
        "y equals x",
    ),
    Mistake(
        "batch-ignores-generator",
        "s02_batches",
        "drew the starts from the global generator",
        (("(batch_size,), generator=generator)", "(batch_size,))"),),
        "generator",
    ),
    Mistake(
        "batch-without-size-checks",
        "s02_batches",
        "did not check the sizes",
        (("    _check_sizes(data, batch_size, block_size)\n    ix", "    ix"),),
        "should raise ValueError",
    ),
    # Stage 3 · bigram
    Mistake(
        "generate-reads-first-position",
        "s03_bigram",
        "predicted from the first position",
        (("logits = logits[:, -1, :]", "logits = logits[:, 0, :]"),),
        "*last* position",
    ),
    Mistake(
        "softmax-over-the-batch",
        "s03_bigram",
        "took the softmax over dim 0",
        (("probs = F.softmax(logits, dim=-1)", "probs = F.softmax(logits, dim=0)"),),
    ),
    Mistake(
        "greedy-decoding",
        "s03_bigram",
        "took the most likely token instead of sampling",
        (
            (
                "idx_next = torch.multinomial(probs, num_samples=1, generator=generator)",
                "idx_next = probs.argmax(dim=-1, keepdim=True)",
            ),
        ),
        "not argmax",
    ),
    Mistake(
        "generate-ignores-generator",
        "s03_bigram",
        "sampled from the global generator",
        (("num_samples=1, generator=generator)", "num_samples=1)"),),
    ),
    Mistake(
        "loss-summed",
        "s03_bigram",
        "summed the cross-entropy over positions",
        (("targets.view(B * T))", 'targets.view(B * T), reduction="sum")'),),
        "sum over the positions",
    ),
    Mistake(
        "logits-kept-3d-with-targets",
        "s03_bigram",
        "flattened the logits only inside the loss",
        (
            (
                "        logits = logits.view(B * T, V)\n        loss = F.cross_entropy(logits, targets.view(B * T))",
                "        loss = F.cross_entropy(logits.view(B * T, V), targets.view(B * T))",
            ),
        ),
        "flattened for cross_entropy",
    ),
    Mistake(
        "loss-against-the-inputs",
        "s03_bigram",
        "scored the logits against idx instead of targets",
        (("targets.view(B * T))", "idx.view(B * T))"),),
        "mean cross-entropy",
    ),
    Mistake(
        "table-too-narrow",
        "s03_bigram",
        "gave the table 32 columns (n_embd) instead of vocab_size",
        (("nn.Embedding(vocab_size, vocab_size)", "nn.Embedding(vocab_size, 32)"),),
        "nn.Embedding(7, 7)",
    ),
    Mistake(
        "flattened-without-targets",
        "s03_bigram",
        "flattened the logits before checking for targets",
        (
            (
                "        if targets is None:\n            return logits, None\n        B, T, V = logits.shape\n",
                "        B, T, V = logits.shape\n        if targets is None:\n            return logits.view(B * "
                "T, V), None\n",
            ),
        ),
    ),
    # Stage 4 · training
    Mistake(
        "no-zero-grad",
        "s04_training",
        "never cleared the gradients",
        (("    optimizer.zero_grad(set_to_none=True)  # gradients add up across backward calls unless cleared\n", ""),),
        "hand-written AdamW",
    ),
    Mistake(
        "zero-grad-after-backward",
        "s04_training",
        "cleared the gradients between backward and step",
        (
            (
                "    optimizer.zero_grad(set_to_none=True)  # gradients add up across backward calls unless "
                "cleared\n    loss.backward()\n",
                "    loss.backward()\n    optimizer.zero_grad(set_to_none=True)\n",
            ),
        ),
        "hand-written AdamW",
    ),
    Mistake(
        "step-returns-a-tensor",
        "s04_training",
        "returned the loss tensor",
        (("    optimizer.step()\n    return loss.item()", "    optimizer.step()\n    return loss"),),
        "Python float",
    ),
    Mistake(
        "evaluates-in-training-mode",
        "s04_training",
        "never switched to eval mode",
        (("    model.eval()  # dropout and the like behave as at inference time\n", ""),),
        "model.eval()",
    ),
    Mistake(
        "eval-leaves-training-mode-on",
        "s04_training",
        "always switched back to training mode",
        (("model.train(was_training)", "model.train()"),),
        "came back from estimate_loss",
    ),
    Mistake(
        "evaluates-with-gradients",
        "s04_training",
        "evaluated with gradients on",
        (("@torch.no_grad()\n", ""),),
        "torch.no_grad()",
    ),
    Mistake(
        "estimate-reports-last-batch",
        "s04_training",
        "returned the last batch's loss",
        (("return losses.mean().item()", "return losses[-1].item()"),),
        "mean of the 5 losses",
    ),
    Mistake(
        "train-reuses-one-batch",
        "s04_training",
        "fetched one batch before the loop",
        (
            (
                "    for _ in range(steps):\n        xb, yb = next_batch()\n",
                "    xb, yb = next_batch()\n    for _ in range(steps):\n",
            ),
        ),
        "once per step",
    ),
    Mistake(
        "train-ignores-lr",
        "s04_training",
        "hard-coded the learning rate",
        (("AdamW(model.parameters(), lr=lr)", "AdamW(model.parameters(), lr=1e-3)"),),
        "lr=0.05",
    ),
    Mistake(
        "train-with-sgd",
        "s04_training",
        "used SGD instead of AdamW",
        (("torch.optim.AdamW(model.parameters(), lr=lr)", "torch.optim.SGD(model.parameters(), lr=lr)"),),
        "AdamW",
    ),
    # Stage 5 · averaging
    Mistake(
        "triu-for-tril",
        "s05_averaging",
        "kept the upper triangle",
        (("wei = torch.tril(torch.ones(T, T))\n    return", "wei = torch.triu(torch.ones(T, T))\n    return"),),
        "torch.tril, not torch.triu",
    ),
    Mistake(
        "columns-normalised",
        "s05_averaging",
        "divided by the column sums",
        (("wei.sum(1, keepdim=True)", "wei.sum(0, keepdim=True)"),),
        "columns sum to 1",
    ),
    Mistake(
        "softmax-over-columns",
        "s05_averaging",
        "took the softmax down each column",
        (("F.softmax(wei, dim=-1)", "F.softmax(wei, dim=0)"),),
        "along each row, dim=-1",
    ),
    Mistake(
        "mask-hides-the-past",
        "s05_averaging",
        "masked where tril == 1",
        (("masked_fill(tril == 0,", "masked_fill(tril == 1,"),),
        "all -inf",
    ),
    Mistake(
        "mask-filled-with-zero",
        "s05_averaging",
        "filled the masked affinities with 0, not -inf",
        (('masked_fill(tril == 0, float("-inf"))', "masked_fill(tril == 0, 0.0)"),),
        "future included",
    ),
    Mistake(
        "loop-excludes-current-token",
        "s05_averaging",
        "averaged x[b, :t]",
        (("xprev = x[b, : t + 1]", "xprev = x[b, :t]"),),
        "mean of no values",
    ),
    Mistake(
        "loop-sums",
        "s05_averaging",
        "summed instead of averaging",
        (("torch.mean(xprev, 0)", "torch.sum(xprev, 0)"),),
        "running sums",
    ),
    Mistake(
        "loop-buffer-is-float32",
        "s05_averaging",
        "wrote into torch.zeros((B, T, C)) as the lecture does",
        (("xbow = torch.zeros_like(x)", "xbow = torch.zeros((B, T, C))"),),
        "keep the input's dtype",
    ),
    Mistake(
        "weights-not-cast",
        "s05_averaging",
        "multiplied float32 weights into a float64 x",
        (("wei = tril_average_weights(x.shape[1]).to(x)", "wei = tril_average_weights(x.shape[1])"),),
        "Your code raised",
    ),
    # Stage 6 · self-attention
    Mistake(
        "unscaled-affinities",
        "s06_attention",
        "forgot the 1/sqrt(head_size) scaling",
        (("wei = q @ k.transpose(-2, -1) * head_size**-0.5", "wei = q @ k.transpose(-2, -1)"),),
        "not scaled",
    ),
    Mistake(
        "scaled-by-head-size",
        "s06_attention",
        "divided by head_size instead of its square root",
        (("wei = q @ k.transpose(-2, -1) * head_size**-0.5", "wei = q @ k.transpose(-2, -1) / head_size"),),
        "divided by head_size",
    ),
    Mistake(
        "mask-inverted",
        "s06_attention",
        "masked the past instead of the future",
        (('wei = wei.masked_fill(~tril, float("-inf"))', 'wei = wei.masked_fill(tril, float("-inf"))'),),
    ),
    Mistake(
        "softmax-over-queries",
        "s06_attention",
        "took the softmax down the columns",
        (("    return F.softmax(wei, dim=-1)", "    return F.softmax(wei, dim=-2)"),),
    ),
    Mistake(
        "head-projections-with-bias",
        "s06_attention",
        "left the bias on the key projection",
        (("self.key = nn.Linear(n_embd, head_size, bias=False)", "self.key = nn.Linear(n_embd, head_size)"),),
        "bias=False",
    ),
    Mistake(
        "mask-as-parameter",
        "s06_attention",
        "made the mask a parameter instead of a buffer",
        (
            (
                'self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))',
                "self.tril = nn.Parameter(torch.tril(torch.ones(block_size, block_size)), requires_grad=False)",
            ),
        ),
        "register_buffer",
    ),
    Mistake(
        "mask-not-sliced",
        "s06_attention",
        "used the whole block_size mask for shorter sequences",
        (("self.tril[:T, :T] == 0", "self.tril == 0"),),
    ),
    # Stage 7 · transformer block
    Mistake(
        "heads-full-width",
        "s07_transformer",
        "gave every head the full width n_embd",
        (("Head(n_embd, head_size, block_size, dropout)", "Head(n_embd, n_embd, block_size, dropout)"),),
    ),
    Mistake(
        "no-divisibility-check",
        "s07_transformer",
        "did not check that n_head divides n_embd",
        (
            (
                '        if n_embd % n_head != 0:\n            raise ValueError(f"n_embd ({n_embd}) must be '
                'divisible by n_head ({n_head})")\n',
                "",
            ),
        ),
        "should raise ValueError",
    ),
    Mistake(
        "feed-forward-not-widened",
        "s07_transformer",
        "kept the hidden layer n_embd wide",
        (
            ("nn.Linear(n_embd, 4 * n_embd),", "nn.Linear(n_embd, n_embd),"),
            ("nn.Linear(4 * n_embd, n_embd),", "nn.Linear(n_embd, n_embd),"),
        ),
        "Linear(6, 24)",
    ),
    Mistake(
        "feed-forward-without-relu",
        "s07_transformer",
        "left out the non-linearity",
        (("            nn.ReLU(),\n", ""),),
        "ReLU",
    ),
    Mistake(
        "layernorm-unbiased-variance",
        "s07_transformer",
        "used the unbiased variance",
        (("unbiased=False", "unbiased=True"),),
        "biased variance",
    ),
    Mistake(
        "layernorm-over-the-batch",
        "s07_transformer",
        "took the mean over the first dimension",
        (("mean = x.mean(-1, keepdim=True)", "mean = x.mean(0, keepdim=True)"),),
    ),
    Mistake(
        "layernorm-eps-outside-sqrt",
        "s07_transformer",
        "added eps after the square root",
        (("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)"),),
        "torch.sqrt(var + eps)",
    ),
    Mistake(
        "post-norm-block",
        "s07_transformer",
        "normalised after the residual addition",
        (("x = x + self.sa(self.ln1(x))", "x = self.ln1(x + self.sa(x))"),),
        "normalise before each sublayer",
    ),
    Mistake(
        "no-residual-around-feed-forward",
        "s07_transformer",
        "replaced x by the feed-forward output",
        (("x = x + self.ffwd(self.ln2(x))", "x = self.ffwd(self.ln2(x))"),),
    ),
    # Stage 8 · GPT
    Mistake(
        "no-position-embedding",
        "s08_gpt",
        "never added the position embedding",
        (("x = self.blocks(tok_emb + pos_emb)", "x = self.blocks(tok_emb)"),),
        "position embedding",
    ),
    Mistake(
        "no-final-layernorm",
        "s08_gpt",
        "skipped ln_f",
        (("logits = self.lm_head(self.ln_f(x))", "logits = self.lm_head(x)"),),
    ),
    Mistake(
        "generate-without-cropping",
        "s08_gpt",
        "fed the whole sequence to the model",
        (("idx_cond = idx[:, -self.config.block_size :]", "idx_cond = idx"),),
    ),
    Mistake(
        "default-initialisation",
        "s08_gpt",
        "kept PyTorch's default initialisation",
        (("        self.apply(self._init_weights)\n", ""),),
        "std 0.02",
    ),
    Mistake(
        "lm-head-without-bias",
        "s08_gpt",
        "left the bias off lm_head",
        (
            (
                "self.lm_head = nn.Linear(config.n_embd, config.vocab_size)",
                "self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)",
            ),
        ),
        "10,788,929",
    ),
    Mistake(
        "no-length-check",
        "s08_gpt",
        "did not reject sequences longer than block_size",
        (("        if T > self.config.block_size:\n", "        if False:\n"),),
        "IndexError",
    ),
    # Stage 9 · fast attention
    Mistake(
        "not-causal",
        "s09_fast_attention",
        "left out is_causal=True",
        (("is_causal=True", "is_causal=False"),),
        "Position 0 changes when later tokens change",
    ),
    Mistake(
        "heads-not-transposed",
        "s09_fast_attention",
        "reshaped to heads without moving them before T",
        (
            (
                "t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)",
                "t.view(B, self.n_head, T, C // self.n_head)",
            ),
        ),
    ),
    Mistake(
        "keys-before-queries",
        "s09_fast_attention",
        "copied the key weights where the queries go",
        (('("query", "key", "value")', '("key", "query", "value")'),),
        "c_attn.weight stacks",
    ),
    Mistake(
        "dropout-in-eval-mode",
        "s09_fast_attention",
        "applied attention dropout in eval mode",
        (("dropout = self.dropout if self.training else 0.0", "dropout = self.dropout"),),
        "dropout_p=0",
    ),
    Mistake(
        "c-attn-with-bias",
        "s09_fast_attention",
        "kept a bias on c_attn",
        (("nn.Linear(n_embd, 3 * n_embd, bias=False)", "nn.Linear(n_embd, 3 * n_embd)"),),
        "bias=False",
    ),
    Mistake(
        "fast-gpt-keeps-the-heads",
        "s09_fast_attention",
        "returned the per-head GPT",
        (("    for block in model.blocks:\n        block.sa = CausalSelfAttention.from_multihead(block.sa)\n", ""),),
        "CausalSelfAttention",
    ),
]
