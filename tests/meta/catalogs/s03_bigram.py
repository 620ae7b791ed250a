"""Stage 3 · Bigram language model: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

MISTAKES = [
    # Source: the seventh precision pass (2026-12-06): a language-model habit (Hugging Face shifts the labels
    # inside the model) where the targets are already shifted; the message had no hint for it.
    Mistake(
        "targets-shifted-again-in-the-loss",
        "s03_bigram",
        "shifted the targets one more position in the loss, as a model given unshifted labels does",
        (
            (
                "        loss = F.cross_entropy(logits, targets.view(B * T))",
                "        shifted = logits.view(B, T, V)[:, :-1].reshape(-1, V)\n"
                "        loss = F.cross_entropy(shifted, targets[:, 1:].reshape(-1))",
            ),
        ),
        "targets already hold the next tokens",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "fresh-generator-when-none",
        "s03_bigram",
        "sampled from a fresh generator when given none, not the global one",
        (
            (
                "        for _ in range(max_new_tokens):",
                "        if generator is None:\n            generator = torch.Generator()\n        "
                "for _ in range(max_new_tokens):",
            ),
        ),
    ),
    # Source: the red team's pass 4 (a partial solution with forged verdicts scored full marks).
    Mistake(
        "table-initialised-like-gpt",
        "s03_bigram",
        "initialised the table with std 0.02, as GPT's weights are, not nn.Embedding's N(0, 1)",
        (
            (
                "        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)\n",
                "        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)\n"
                "        nn.init.normal_(self.token_embedding_table.weight, mean=0.0, std=0.02)\n",
            ),
        ),
    ),
    # Source: the seventh precision pass (2026-12-06): the suite checked only the flattened logits' shape.
    Mistake(
        "flattened-logits-time-major",
        "s03_bigram",
        "flattened the logits and targets time-major, so row b*T + t is not position (b, t)",
        (
            (
                "        logits = logits.view(B * T, V)\n        loss = F.cross_entropy(logits, targets.view(B * T))",
                "        logits = logits.transpose(0, 1).reshape(T * B, V)\n"
                "        loss = F.cross_entropy(logits, targets.t().reshape(T * B))",
            ),
        ),
        "Row b*T + t holds position (b, t)",
    ),
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
        "softmax over dim 0, across the batch",
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
        misleading=("and loss",),  # the loss is right: only the shape may be blamed
    ),
    Mistake(
        "loss-returned-as-a-number",
        "s03_bigram",
        "returned loss.item() instead of the loss tensor",
        (("        return logits, loss\n", "        return logits, loss.item()\n"),),
        "not loss.item()",
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
    # The notebook walkthrough's forward: the message once showed the (2, 3, 5) logits split into two (3, 5) tensors.
    Mistake(
        "forward-returns-logits-alone-without-targets",
        "s03_bigram",
        "returned only the logits when there are no targets",
        (("            return logits, None\n", "            return logits\n"),),
        "should return a pair (logits, loss)",
    ),
    # The notebook walkthrough's mistakes that got the recipe but no diagnosis.
    Mistake(
        "cross-entropy-on-unflattened-logits",
        "s03_bigram",
        "passed the (B, T, V) logits and (B, T) targets to cross_entropy as they are",
        (
            (
                "        logits = logits.view(B * T, V)\n        loss = F.cross_entropy(logits, targets.view(B * T))",
                "        loss = F.cross_entropy(logits, targets)",
            ),
        ),
        "flatten both first",
    ),
    Mistake(
        "cross-entropy-with-unflattened-targets",
        "s03_bigram",
        "flattened the logits but not the targets",
        (("loss = F.cross_entropy(logits, targets.view(B * T))", "loss = F.cross_entropy(logits, targets)"),),
        "flatten both first",
    ),
    Mistake(
        "generate-without-return",
        "s03_bigram",
        "forgot generate's return statement",
        (
            (
                "            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)\n        return idx",
                "            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)",
            ),
        ),
        "without a return statement returns None",
        misleading=("torch.multinomial(probs",),  # the sampling recipe is beside the point
    ),
]

VARIANTS = [
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
    # Source: karpathy/makemore lecture 1 (one-hot encoding times W), re-expressed in the kata's API (the
    # seventh precision pass, 2026-12-06).
    Variant(
        "one-hot-times-the-table-like-makemore",
        "s03_bigram",
        "computes the logits as one-hot rows times the table's weight, as makemore's bigram does",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.forward",
                """
def forward(self, idx, targets=None):
    V = self.token_embedding_table.num_embeddings
    xenc = F.one_hot(idx, num_classes=V).float()
    logits = xenc @ self.token_embedding_table.weight
    if targets is None:
        loss = None
    else:
        logits = logits.reshape(-1, V)
        loss = F.cross_entropy(logits, targets.reshape(-1))
    return logits, loss
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "multinomial-on-exponentiated-logits",
        "s03_bigram",
        "samples with torch.multinomial on exp(logits), which it normalises itself",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx)
        idx_next = torch.multinomial(logits[:, -1, :].exp(), num_samples=1, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
""",
            ),
        ),
    ),
]
