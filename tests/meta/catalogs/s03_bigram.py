"""Stage 3 · Bigram language model: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

MISTAKES = [
    # Source: the red-team pass of 2026-12-07: the check sampled under torch.no_grad(), where the tests do not, so a
    # forged copy of this took full marks.
    Mistake(
        "generate-probabilities-through-numpy",
        "s03_bigram",
        "samples from probabilities passed through numpy, which a tensor that requires grad refuses",
        (
            (
                "            probs = F.softmax(logits, dim=-1)\n",
                "            probs = torch.from_numpy(F.softmax(logits, dim=-1).numpy())\n",
            ),
        ),
        "",
    ),
    # The same pass: the check's tokens held 0 only now and then.
    Mistake(
        "embedding-padding-idx-0",
        "s03_bigram",
        "marks token 0 as padding, whose row then gets no gradient",
        (
            (
                "self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)\n",
                "self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)\n"
                "        self.token_embedding_table.padding_idx = 0\n",
            ),
        ),
        "",
    ),
    # Source: the false-pass hunt of 2026-12-07: every test passed with full marks, and stage 4's train and
    # `kata train bigram` then failed at their first step.
    Mistake(
        "forward-detached-from-the-table",
        "s03_bigram",
        "read the logits from the table's .data, which the loss cannot train",
        (("logits = self.token_embedding_table(idx)", "logits = self.token_embedding_table.weight.data[idx]"),),
        "the loss does not depend on the table's weight",
    ),
    Mistake(
        "embedding-with-sparse-gradients",
        "s03_bigram",
        "built the table with sparse=True, whose gradient AdamW refuses",
        (
            (
                "self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)",
                "self.token_embedding_table = nn.Embedding(vocab_size, vocab_size, sparse=True)",
            ),
        ),
        "a sparse gradient, which AdamW refuses",
    ),
    Mistake(
        "embedding-scales-grad-by-frequency",
        "s03_bigram",
        "built the table with scale_grad_by_freq=True",
        (
            (
                "self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)",
                "self.token_embedding_table = nn.Embedding(vocab_size, vocab_size, scale_grad_by_freq=True)",
            ),
        ),
        "scale_grad_by_freq=True",
    ),
    # Source: a red-team pass (2026-12-07): the check called it otherwise than the test does, and a forged pass of
    # the test it fails counted.
    Mistake(
        "bigram-builds-a-head-it-never-uses",
        "s03_bigram",
        "built an lm_head for later, which it never uses but which draws its weights",
        (
            (
                "        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)",
                "        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)\n"
                "        self.lm_head = nn.Linear(vocab_size, vocab_size)  # for later",
            ),
        ),
        "where its table alone has",
    ),
    Mistake(
        "generate-seeds-a-generator-of-its-own",
        "s03_bigram",
        "made a generator seeded with torch.initial_seed() when given none",
        (
            (
                "        for _ in range(max_new_tokens):",
                "        if generator is None:  # reproducible: the seed torch was given\n"
                "            generator = torch.Generator().manual_seed(torch.initial_seed())\n"
                "        for _ in range(max_new_tokens):",
            ),
        ),
        "",
    ),
    # Source: a misleading-message hunt (2026-12-07): a negative loss got no hint.
    Mistake(
        "loss-by-nll-of-raw-logits",
        "s03_bigram",
        "took F.nll_loss of the raw logits, which expects log-probabilities",
        (
            (
                "        loss = F.cross_entropy(logits, targets.view(B * T))",
                "        loss = F.nll_loss(logits, targets.view(B * T))",
            ),
        ),
        "That is F.nll_loss of the raw logits",
    ),
    # Source: a misleading-message hunt (2026-12-07): it was told it returns the new tokens alone, and to sample
    # rather than take the argmax, which it does.
    Mistake(
        "generate-returns-inside-the-loop",
        "s03_bigram",
        "indented generate's return into its loop, so it returns after one step",
        (
            (
                "            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)\n        return idx",
                "            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)\n            return idx",
            ),
        ),
        "generate returned after its first step",
        misleading=("Those are the new tokens alone", "not argmax"),
    ),
    # A false-pass hunt of 2026-12-07: the lecture's torch.manual_seed(1337) copied into __init__ reproduces the
    # lecture's numbers whatever seed the caller set (the grader's check scored it 0; every test passed).
    Mistake(
        "model-seeds-itself-1337",
        "s03_bigram",
        "called torch.manual_seed(1337) in __init__",
        (("        super().__init__()\n", "        super().__init__()\n        torch.manual_seed(1337)\n"),),
        "it seeds torch itself",
    ),
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
        # a read of graded notebooks (2026-12-06): argmax's tokens equalled the global generator's on one example
        misleading=("These are the draws of torch's global generator",),
    ),
    Mistake(
        "generate-ignores-generator",
        "s03_bigram",
        "sampled from the global generator",
        (("num_samples=1, generator=generator)", "num_samples=1)"),),
        "These are the draws of torch's global generator",  # a learner's walk-through had the whole recipe again
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
        "These logits are 2-D",
    ),
    # The notebook walkthrough's forward: the message once showed the (2, 3, 5) logits split into two (3, 5) tensors.
    Mistake(
        "forward-returns-logits-alone-without-targets",
        "s03_bigram",
        "returned only the logits when there are no targets",
        (("            return logits, None\n", "            return logits\n"),),
        "should return a pair (logits, loss)",
    ),
    # Source: a read of graded notebooks (2026-12-06): generate's tests showed Python's unpacking error alone.
    Mistake(
        "forward-without-the-pair-met-in-generate",
        "s03_bigram",
        "returned only the logits without targets, which generate's `logits, _ = self(idx)` then meets",
        (("            return logits, None\n", "            return logits\n"),),
        "The model returned something other than the pair (logits, loss)",
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
    # Source: the tenth precision pass (2026-12-06): a very common learner bug (forum question "loss stuck near ln
    # V"): softmax applied before cross_entropy.
    # No hint before this pass: the messages gave the wrong loss, not that F.cross_entropy takes the logits.
    Mistake(
        "softmax-before-cross-entropy",
        "s03_bigram",
        "passed softmax probabilities, not the logits, to F.cross_entropy",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.forward",
                """
def forward(self, idx, targets=None):
    logits = self.token_embedding_table(idx)
    if targets is None:
        return logits, None
    B, T, V = logits.shape
    logits = logits.view(B * T, V)
    probs = F.softmax(logits, dim=-1)
    loss = F.cross_entropy(probs, targets.view(B * T))
    return logits, loss
""",
            ),
        ),
        "F.cross_entropy applies log_softmax itself",
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: squeeze the sampled token and unsqueeze it back;
    # .squeeze() drops the batch dim when B == 1. The grader's check never drew B = 1.
    # No hint before this pass: a bare RuntimeError, and the check never drew a batch of one.
    Mistake(
        "squeeze-drops-batch-of-one",
        "s03_bigram",
        "squeezed the sampled tokens, which drops the batch dimension when B is 1",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1, generator=generator).squeeze()
        idx = torch.cat((idx, idx_next.unsqueeze(-1)), dim=1)
    return idx
""",
            ),
        ),
        ".squeeze() also removes the batch dimension",
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: softmax and multinomial over every position (B*T
    # rows), then keeps the last position's draw; right in distribution but not the docstring's recipe (the draws for
    # the other rows consume the generator).
    # No hint before this pass: the message blamed a softmax over dim 0, across the batch.
    Mistake(
        "samples-every-position-keeps-last",
        "s03_bigram",
        "sampled a token at every position and kept the last position's",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx)
        B, T, V = logits.shape
        probs = F.softmax(logits.view(B * T, V), dim=-1)
        nxt = torch.multinomial(probs, num_samples=1, generator=generator).view(B, T)
        idx = torch.cat((idx, nxt[:, -1:]), dim=1)
    return idx
""",
            ),
        ),
        "every position is sampled and the last draw kept",
    ),
    # Source: the tenth precision pass (2026-12-06): learner bug: softmax over dim=1 of the (B, T, V) logits (time,
    # not vocabulary), then the last position.
    Mistake(
        "softmax-over-time",
        "s03_bigram",
        "took the softmax over dim=1, across time, not over the vocabulary",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx)
        probs = F.softmax(logits, dim=1)[:, -1, :]
        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
""",
            ),
        ),
        "softmax of the last position's logits (dim=-1)",
    ),
    # Source: the tenth precision pass (2026-12-06): learner style (returning only what was generated, as many chat
    # APIs do): idx[:, T:].
    # No hint before this pass: the messages showed the wrong shape, not that generate returns the prompt too.
    Mistake(
        "returns-only-new-tokens",
        "s03_bigram",
        "returned only the new tokens, without the prompt",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    T = idx.shape[1]
    for _ in range(max_new_tokens):
        logits, _ = self(idx)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx = torch.cat((idx, torch.multinomial(probs, num_samples=1, generator=generator)), dim=1)
    return idx[:, T:]
""",
            ),
        ),
        "Those are the new tokens alone",
    ),
    # Source: the tenth precision pass (2026-12-06): the lecture's next step (self.lm_head = nn.Linear(n_embd,
    # vocab_size)) taken early, with n_embd = vocab_size.
    # No hint before this pass: no message said the model has parameters beyond the table.
    Mistake(
        "lm-head-added-early",
        "s03_bigram",
        "added the lecture's later lm_head layer after the table",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.__init__",
                """
def __init__(self, vocab_size):
    super().__init__()
    self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)
    self.lm_head = nn.Linear(vocab_size, vocab_size)
""",
            ),
            replaced(
                "s03_bigram",
                "BigramLanguageModel.forward",
                """
def forward(self, idx, targets=None):
    tok_emb = self.token_embedding_table(idx)
    logits = self.lm_head(tok_emb)
    if targets is None:
        return logits, None
    B, T, C = logits.shape
    logits = logits.view(B*T, C)
    loss = F.cross_entropy(logits, targets.view(B*T))
    return logits, loss
""",
            ),
        ),
        "with no layer after it",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "generate-joins-an-empty-list-of-draws",
        "s03_bigram",
        "kept the draws in a list and joined them once at the end, which torch.cat refuses for no new token",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    new_tokens = []
    context = idx
    for _ in range(max_new_tokens):
        logits, _ = self(context)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
        new_tokens.append(idx_next)
        context = torch.cat((context, idx_next), dim=1)
    return torch.cat((idx, torch.cat(new_tokens, dim=1)), dim=1)
""",
            ),
        ),
        "torch.cat was given an empty list",
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
    # Source: the tenth precision pass (2026-12-06): karpathy/minGPT model.py forward: F.cross_entropy(logits.view(-1,
    # logits.size(-1)), targets.view(-1), ignore_index=-1), with the logits returned flattened as the kata asks.
    Variant(
        "mingpt-style-ignore-index",
        "s03_bigram",
        "computes the loss with minGPT's ignore_index=-1",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.forward",
                """
def forward(self, idx, targets=None):
    logits = self.token_embedding_table(idx)
    loss = None
    if targets is not None:
        logits = logits.view(-1, logits.size(-1))
        loss = F.cross_entropy(logits, targets.view(-1), ignore_index=-1)
    return logits, loss
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): karpathy/makemore lecture 1 (counts = logits.exp(); probs =
    # counts / counts.sum(1, keepdims=True); loss = -probs[torch.arange(n), ys].log().mean()), inside the kata's
    # forward.
    Variant(
        "loss-by-hand-like-makemore",
        "s03_bigram",
        "computes the loss by hand from exponentiated, normalised counts, as makemore does",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.forward",
                """
def forward(self, idx, targets=None):
    logits = self.token_embedding_table(idx)
    if targets is None:
        return logits, None
    B, T, C = logits.shape
    logits = logits.view(B*T, C)
    ys = targets.view(B*T)
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(B*T), ys].log().mean()
    return logits, loss
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): nanoGPT model.py generate signature (temperature=1.0,
    # top_k=None), kept with the kata's generator; for a bigram only the last token is fed (idx[:, -1:]), a common
    # speed-up in learner repos.
    Variant(
        "nanogpt-generate-last-token-only",
        "s03_bigram",
        "feeds generate only the last token and takes nanoGPT's temperature and top_k",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
@torch.no_grad()
def generate(self, idx, max_new_tokens, generator=None, temperature=1.0, top_k=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx[:, -1:])
        logits = logits[:, -1, :] / temperature
        if top_k is not None:
            v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
            logits[logits < v[:, [-1]]] = -float('Inf')
        probs = F.softmax(logits, dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: preallocate the output and fill it column by
    # column; log_softmax + nll_loss for the loss.
    Variant(
        "preallocated-generate-and-nll",
        "s03_bigram",
        "fills a preallocated output column by column and takes the loss as nll_loss of log_softmax",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.forward",
                """
def forward(self, idx, targets=None):
    logits = self.token_embedding_table(idx)
    if targets is None:
        return logits, None
    logits = logits.reshape(-1, logits.shape[-1])
    loss = F.nll_loss(F.log_softmax(logits, dim=-1), targets.reshape(-1))
    return logits, loss
""",
            ),
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    B, T = idx.shape
    out = torch.empty(B, T + max_new_tokens, dtype=idx.dtype, device=idx.device)
    out[:, :T] = idx
    for t in range(T, T + max_new_tokens):
        logits, _ = self(out[:, :t])
        probs = torch.softmax(logits[:, -1, :], dim=-1)
        out[:, t:t+1] = torch.multinomial(probs, 1, generator=generator)
    return out
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: multinomial with replacement=True (statistically
    # identical for one sample).
    Variant(
        "multinomial-with-replacement",
        "s03_bigram",
        "samples with torch.multinomial(..., replacement=True)",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1, replacement=True, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style for a bigram: feed only the last token as a 1-D
    # tensor, so the logits are already (B, V).
    Variant(
        "feeds-last-token-1d",
        "s03_bigram",
        "feeds the model only the last token, as a 1-D tensor, so the logits are already (B, V)",
        (
            replaced(
                "s03_bigram",
                "BigramLanguageModel.generate",
                """
def generate(self, idx, max_new_tokens, generator=None):
    for _ in range(max_new_tokens):
        logits, _ = self(idx[:, -1])  # (B, V): a bigram needs only the last token
        probs = F.softmax(logits, dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
""",
            ),
        ),
    ),
]
