"""Stage 2 · Encoded corpus and batches: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

MISTAKES = [
    # Source: the seventh precision pass (2026-12-06): the test without a generator blamed the generator for
    # every wrong batch.
    Mistake(
        "targets-one-token-earlier",
        "s02_batches",
        "took x one token later than drawn and y from the start drawn, so y is x one token earlier",
        (
            (
                "    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)\n",
                "    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator) + 1\n",
            ),
            ("data[i + 1 : i + block_size + 1] for i in ix", "data[i - 1 : i + block_size - 1] for i in ix"),
        ),
        "y is x one token earlier",
        misleading=("Without a generator, draw from torch's global one",),
    ),
    Mistake(
        "starts-drawn-one-too-far",
        "s02_batches",
        "drew the starts from len(data) - block_size + 1 values, one past the last full window",
        (("randint(len(data) - block_size, (batch_size,)", "randint(len(data) - block_size + 1, (batch_size,)"),),
        "One window came out shorter than the others",
        misleading=("Without a generator, draw from torch's global one",),
    ),
    # Source: the backing hunt of 2026-12-05: the suite accepted it, and the lecture's loop trained on one batch.
    Mistake(
        "batch-from-a-fresh-generator",
        "s02_batches",
        "made a new torch.Generator() when given none, which starts from the same seed every call",
        (
            (
                "    ix = torch.randint(",
                "    if generator is None:\n        generator = torch.Generator()\n    ix = torch.randint(",
            ),
        ),
        "draw from torch's global one",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "batch-rejects-exactly-one-window",
        "s02_batches",
        "refused data that holds exactly one window",
        (
            (
                "    _check_sizes(data, batch_size, block_size)\n    ix",
                "    _check_sizes(data, batch_size, block_size)\n    if len(data) <= block_size + "
                '1:\n        raise ValueError("not enough data for a batch")\n    ix',
            ),
        ),
    ),
    Mistake(
        "split-rejects-only-0-and-1",
        "s02_batches",
        "rejected only the fractions 0 and 1, not those outside them",
        (("if not 0 < train_fraction < 1:", "if train_fraction in (0, 1):"),),
    ),
    Mistake(
        "pairs-without-length-check",
        "s02_batches",
        "left out context_target_pairs' length check",
        (("    _check_sizes(data, batch_size=1, block_size=block_size)\n", ""),),
        "should raise ValueError: it needs 9 tokens",
    ),
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
]

VARIANTS = [
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
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "windows-by-unfold",
        "s02_batches",
        "cuts every window of block_size + 1 tokens with data.unfold, then picks the drawn ones",
        (
            replaced(
                "s02_batches",
                "get_batch",
                """
def get_batch(data, batch_size, block_size, generator=None):
    if min(batch_size, block_size) < 1:
        raise ValueError("batch_size and block_size must be positive")
    if data.numel() <= block_size:
        raise ValueError("not enough data")
    windows = data.unfold(0, block_size + 1, 1)
    ix = torch.randint(low=0, high=len(data) - block_size, size=(batch_size,), generator=generator)
    chosen = windows[ix]
    return chosen[:, :-1].contiguous(), chosen[:, 1:].contiguous()
""",
            ),
        ),
    ),
]
