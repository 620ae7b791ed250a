"""Stage 6 · Self-attention: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

HEAD_SCORES = "wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)"
HEAD_MASK = 'wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))'
HEAD_DROPOUT = "        wei = self.dropout(wei)\n"
HEAD_BUFFER = 'self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))'

MISTAKES = [
    # Source: a red-team pass (2026-12-07): the check called the head short then long, and only the aspects called
    # after that met the mistake, which backed tests it passed: the honest stage scored 0 as forged.
    Mistake(
        "head-mask-kept-from-the-longest-input",
        "s06_attention",
        "kept the mask of the longest input it had met and used it for shorter ones",
        (
            (
                '        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))',
                '        if getattr(self, "future", None) is None or self.future.shape[0] < T:\n'
                "            self.future = self.tril[:T, :T] == 0\n"
                '        wei = wei.masked_fill(self.future, float("-inf"))',
            ),
        ),
        "",
    ),
    # Source: a misleading-message hunt (2026-12-07): lines copied from the one above got only "wrong values".
    Mistake(
        "head-values-from-the-key-layer",
        "s06_attention",
        "copied the key line for the values, v = self.key(x)",
        (("        v = self.value(x)  # (B, T, hs)", "        v = self.key(x)  # (B, T, hs)"),),
        "The weights mix the keys",
    ),
    Mistake(
        "head-queries-from-the-key-layer",
        "s06_attention",
        "copied the key line for the queries, q = self.key(x)",
        (("        q = self.query(x)  # (B, T, hs)", "        q = self.key(x)  # (B, T, hs)"),),
        "The queries are the keys",
    ),
    # Source: a misleading-message hunt (2026-12-07): it was told its rows do not sum to 1 because it fills 0 after
    # the softmax, that it attends to the future, and to scale its affinities, none of which it does.
    Mistake(
        "mask-hides-each-position-from-itself",
        "s06_attention",
        "masked with triu(ones(T, T)) without diagonal=1, hiding each position from itself too",
        (
            (
                "    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))\n"
                '    wei = wei.masked_fill(~tril, float("-inf"))\n',
                "    future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=q.device))\n"
                '    wei = wei.masked_fill(future, float("-inf"))\n',
            ),
        ),
        "Each position is masked from itself too",
        misleading=("not 0 after it", "position t must not attend to t+1", "Multiply q @ k^T by head_size"),
    ),
    # Source: a precision pass over stages 5 to 7 (2026-12-06): the check's head size equalled T on 22 of 300
    # draws, where this one cannot show.
    Mistake(
        "weights-scaled-by-k-shape-1",
        "s06_attention",
        "took the head size from k.shape[1], which is T",
        (("T, head_size = q.shape[-2], k.shape[-1]", "T, head_size = q.shape[-2], k.shape[1]"),),
    ),
    # Source: a precision pass over stages 5 to 7 (2026-12-06): the first passed every test, and the grader's check
    # then scored the stage as forged; the others got no hint, or one that blamed what was right.
    Mistake(
        "head-keeps-the-first-calls-mask",
        "s06_attention",
        "cut the mask to the first call's length and kept it for every later call",
        (
            (
                "        self.dropout = nn.Dropout(dropout)\n",
                "        self.dropout = nn.Dropout(dropout)\n        self.cached = None\n",
            ),
            (
                HEAD_MASK,
                "if self.cached is None:\n"
                "            self.cached = self.tril[:T, :T] == 0\n"
                '        wei = wei.masked_fill(self.cached, float("-inf"))',
            ),
        ),
        "keeps something from an earlier call",
    ),
    Mistake(
        "transposes-k-in-place",
        "s06_attention",
        "transposed the caller's k in place, k.transpose_(-2, -1)",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n",
                "    wei = q @ k.transpose_(-2, -1) * head_size**-0.5\n",
            ),
        ),
        "changed its argument k (its shape is now",
        misleading=("could not use what your code gave it",),
    ),
    Mistake(
        "head-multiplied-by-the-square-root",
        "s06_attention",
        "multiplied the head's affinities by sqrt(head_size), the minus sign forgotten",
        ((HEAD_SCORES, "wei = q @ k.transpose(-2, -1) * k.shape[-1] ** 0.5  # (B, T, T)"),),
        "The affinities are multiplied by sqrt(head_size)",
        misleading=("It computes other values with dropout=0.0 too",),
    ),
    Mistake(
        "head-masked-after-the-softmax",
        "s06_attention",
        "took the head's softmax unmasked, then zeroed the future",
        (
            (
                HEAD_MASK + "\n        wei = F.softmax(wei, dim=-1)\n",
                "wei = F.softmax(wei, dim=-1)\n        wei = wei.masked_fill(self.tril[:T, :T] == 0, 0.0)\n",
            ),
        ),
        "Zeroing it after still lets the future into each row's normalisation",
        misleading=("0..5: mask the future", "It computes other values with dropout=0.0 too"),
    ),
    Mistake(
        "head-dropout-made-in-forward",
        "s06_attention",
        "made an nn.Dropout inside forward, which head.eval() never reaches",
        (
            ("        self.dropout = nn.Dropout(dropout)\n", "        self.p = dropout\n"),
            (HEAD_DROPOUT, "        wei = nn.Dropout(self.p)(wei)\n"),
        ),
        "an nn.Dropout made inside forward is a new module each call",
        misleading=("nn.Dropout turns itself off after head.eval()",),
    ),
    Mistake(
        "head-dropout-on-the-values",
        "s06_attention",
        "dropped the values instead of the weights",
        (
            (HEAD_DROPOUT, ""),
            ("        v = self.value(x)  # (B, T, hs)", "        v = self.dropout(self.value(x))  # (B, T, hs)"),
        ),
        "It dropped the values",
        misleading=("Dropping the head's output",),
    ),
    # Source: the seventh precision pass (2026-12-06): each got no hint, or one about dropout.
    Mistake(
        "head-divides-by-head-size",
        "s06_attention",
        "divided the head's affinities by head_size",
        ((HEAD_SCORES, "wei = q @ k.transpose(-2, -1) / k.shape[-1]  # (B, T, T)"),),
        "The affinities are divided by head_size",
        misleading=("In eval mode the head must not drop",),
    ),
    Mistake(
        "head-mask-result-thrown-away",
        "s06_attention",
        "called masked_fill without assigning its result",
        ((HEAD_MASK, 'wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))'),),
        "No position is masked",
        misleading=("In eval mode the head must not drop",),
    ),
    Mistake(
        "weights-multiplied-by-the-square-root",
        "s06_attention",
        "multiplied the affinities by sqrt(head_size)",
        (("wei = q @ k.transpose(-2, -1) * head_size**-0.5", "wei = q @ k.transpose(-2, -1) * head_size**0.5"),),
        "multiplied by sqrt(head_size)",
    ),
    # Source: the seventh precision pass (2026-12-06).
    Mistake(
        "head-mask-made-on-the-cpu",
        "s06_attention",
        "made the head's mask afresh in forward with torch.ones(T, T), without device=",
        (
            (
                '        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))',
                '        wei = wei.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))',
            ),
        ),
        "without device=",
    ),
    Mistake(
        "head-by-the-fused-call",
        "s06_attention",
        "computed the head with F.scaled_dot_product_attention, its dropout the fused call's",
        (
            (
                "        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)\n",
                "        v = self.value(x)\n"
                "        p = self.dropout.p if self.training else 0.0\n"
                "        return F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)\n"
                "        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)\n",
            ),
        ),
        "whose dropout this test cannot see",
        misleading=("applied no dropout",),
    ),
    Mistake(
        "head-softmax-over-the-queries",
        "s06_attention",
        "took the head's softmax over dim 1, the queries",
        (
            (
                "        wei = F.softmax(wei, dim=-1)\n        wei = self.dropout(wei)",
                "        wei = F.softmax(wei, dim=1)\n        wei = self.dropout(wei)",
            ),
        ),
        misleading=("In eval mode the head must not drop",),
    ),
    Mistake(
        "head-mask-cropped-on-its-rows",
        "s06_attention",
        "cropped the mask on its rows only, self.tril[:T]",
        (("self.tril[:T, :T] == 0", "self.tril[:T] == 0"),),
        "cropped on its rows only",
        misleading=("register the mask as large as the longest input",),
    ),
    # Source: the backing hunt of 2026-12-05: the suite accepted it, and training with dropout raised.
    Mistake(
        "dropout-in-place",
        "s06_attention",
        "dropped the weights in place, which breaks the softmax's gradient",
        (
            (
                "        self.dropout = nn.Dropout(dropout)\n",
                "        self.dropout = nn.Dropout(dropout, inplace=True)\n",
            ),
        ),
        "not in place",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "scales-q-in-place",
        "s06_attention",
        "scaled the caller's q in place",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n",
                "    q *= head_size**-0.5\n    wei = q @ k.transpose(-2, -1)\n",
            ),
        ),
        "changed its argument q",
    ),
    # Source: the precision pass of 2026-12-05: .to(dtype) stays on the CPU, which the device check took for a move.
    Mistake(
        "mask-converted-but-not-moved",
        "s06_attention",
        "made the mask on the CPU and converted it with .to(torch.bool), which keeps it there",
        (
            (
                "    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))\n",
                "    tril = torch.tril(torch.ones(T, T)).to(torch.bool)\n",
            ),
        ),
        "torch.ones(...) without device=",
    ),
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
        "attention-weights-masked-with-zero",
        "s06_attention",
        "filled the future with 0 instead of -inf before the softmax",
        (('wei = wei.masked_fill(~tril, float("-inf"))', "wei = wei.masked_fill(~tril, 0.0)"),),
        "fill -inf",
    ),
    Mistake(
        "attention-weights-masked-after-softmax",
        "s06_attention",
        "zeroed the future after the softmax, so rows no longer sum to 1",
        (
            (
                '    wei = wei.masked_fill(~tril, float("-inf"))\n    return F.softmax(wei, dim=-1)',
                "    return F.softmax(wei, dim=-1).masked_fill(~tril, 0.0)",
            ),
        ),
        "should sum to 1",
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
                HEAD_BUFFER,
                "self.tril = nn.Parameter(torch.tril(torch.ones(block_size, block_size)), requires_grad=False)",
            ),
        ),
        "register_buffer",
    ),
    # Source: ryansenn/byteGPT self_attention.py (the mask kept as self.tril = torch.tril(...)).
    Mistake(
        "mask-as-plain-attribute",
        "s06_attention",
        "kept the mask in a plain attribute, which .to(device) does not move",
        ((HEAD_BUFFER, "self.tril = torch.tril(torch.ones(block_size, block_size))"),),
        "register_buffer",
    ),
    Mistake(
        "mask-not-sliced",
        "s06_attention",
        "used the whole block_size mask for shorter sequences",
        (("self.tril[:T, :T] == 0", "self.tril == 0"),),
    ),
    Mistake(
        "head-mask-filled-with-zero",
        "s06_attention",
        "filled the head's future affinities with 0 instead of -inf",
        ((HEAD_MASK, "wei = wei.masked_fill(self.tril[:T, :T] == 0, 0.0)"),),
        "The future affinities are filled with 0",
    ),
    # Source: the line of the video, karpathy/ng-video-lecture gpt.py before its fix, as learners kept it
    # (sebastianvlad1/Transformer head.py, Manikanta5112/custom_tiny_gpt v2.py).
    Mistake(
        "head-scaled-by-n-embd",
        "s06_attention",
        "scaled the head's affinities by C ** -0.5 with C = n_embd, as the video first did",
        ((HEAD_SCORES, "wei = q @ k.transpose(-2, -1) * C**-0.5"),),
        "n_embd ** -0.5",
    ),
    # Source: ryansenn/byteGPT self_attention.py (no scaling at all).
    Mistake(
        "head-unscaled",
        "s06_attention",
        "left the head's affinities unscaled",
        ((HEAD_SCORES, "wei = q @ k.transpose(-2, -1)"),),
        "The affinities are not scaled",
    ),
    Mistake(
        "head-keys-times-queries",
        "s06_attention",
        "computed k @ q^T",
        ((HEAD_SCORES, "wei = k @ q.transpose(-2, -1) * k.shape[-1] ** -0.5"),),
        "k @ q^T",
    ),
    Mistake(
        "head-aggregates-queries",
        "s06_attention",
        "aggregated the queries instead of the values",
        (("v = self.value(x)  # (B, T, hs)", "v = self.query(x)  # (B, T, hs)"),),
        "mix the queries",
    ),
    Mistake(
        "head-without-dropout",
        "s06_attention",
        "never applied the head's dropout",
        ((HEAD_DROPOUT, ""),),
        "applied no dropout",
    ),
    Mistake(
        "head-dropout-on-output",
        "s06_attention",
        "dropped the head's output instead of its weights",
        ((HEAD_DROPOUT, ""), ("        return wei @ v", "        return self.dropout(wei @ v)")),
        "not to the (2, 6, 6) weights",
    ),
    Mistake(
        "head-dropout-before-softmax",
        "s06_attention",
        "dropped the affinities before the softmax",
        (
            (
                "        wei = F.softmax(wei, dim=-1)\n" + HEAD_DROPOUT,
                HEAD_DROPOUT + "        wei = F.softmax(wei, dim=-1)\n",
            ),
        ),
        "not the softmaxed weights",
    ),
    Mistake(
        "head-dropout-in-eval-mode",
        "s06_attention",
        "called F.dropout with training=True, so it drops in eval mode too",
        ((HEAD_DROPOUT, "        wei = F.dropout(wei, self.dropout.p, training=True)\n"),),
        "eval mode",
    ),
    # The precision pass's subm6fixedp: the lecture's global dropout = 0.2, kept when it became an argument.
    Mistake(
        "head-ignores-its-dropout-argument",
        "s06_attention",
        "hard-coded nn.Dropout(0.2) instead of the dropout it was given",
        (("        self.dropout = nn.Dropout(dropout)\n", "        self.dropout = nn.Dropout(0.2)\n"),),
        "not the dropout=0.5 it was given",
    ),
    Mistake(
        "head-mask-not-cropped",
        "s06_attention",
        "used the whole block_size mask on a shorter input",
        ((HEAD_MASK, HEAD_MASK.replace("self.tril[:T, :T]", "self.tril")),),
        "self.tril[:T, :T]",
    ),
    # Passes on a CPU, fails on a GPU (kata train picks one where there is one).
    Mistake(
        "attention-mask-made-on-the-cpu",
        "s06_attention",
        "made the mask without device=q.device",
        (("torch.ones(T, T, dtype=torch.bool, device=q.device)", "torch.ones(T, T, dtype=torch.bool)"),),
        "torch.ones(...) without device=",
    ),
    # Source: the precision pass of 2026-12-05 (a helper's learner-style mistakes): both met the hint to crop the
    # mask, which their code already did or never needed.
    Mistake(
        "affinities-from-transposed-queries",
        "s06_attention",
        "multiplied the transposed queries by the keys, (B, hs, T) @ (B, T, hs)",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n",
                "    wei = q.transpose(-2, -1) @ k * head_size**-0.5\n",
            ),
        ),
        "the affinities of T positions are (B, T, T), q @ k.transpose(-2, -1)",
        misleading=("crop it to the input's length",),
    ),
    Mistake(
        "mask-sized-by-the-width",
        "s06_attention",
        "registered the mask n_embd × n_embd instead of block_size × block_size, and cropped it",
        ((HEAD_BUFFER, HEAD_BUFFER.replace("block_size, block_size", "n_embd, n_embd")),),
        "register the mask as large as the longest input",
        misleading=("crop it to the input's length",),
    ),
    # Source: a learner's walk-through of stages 1 to 8 (a helper, 2026-12-06): each got torch's or Python's bare
    # error, or the hint of another mistake, before its own hint.
    Mistake(
        "keys-transposed-with-dot-T",
        "s06_attention",
        "transposed the keys with k.T, which reverses all three dims",
        (
            (
                "wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)",
                "wei = q @ k.T * k.shape[-1] ** -0.5  # (B, T, T)",
            ),
        ),
        ".T reverses every dim",
        # a read of graded notebooks (2026-12-06): the dropout test blamed an in-place dropout for the forward's error
        misleading=("not in place (inplace=True)",),
    ),
    Mistake(
        "scaled-by-the-number-of-positions",
        "s06_attention",
        "scaled the affinities by q.shape[1] ** -0.5, T rather than head_size",
        (
            ("T, head_size = q.shape[-2], k.shape[-1]", "T, head_size = q.shape[-2], q.shape[1]"),
            ("* k.shape[-1] ** -0.5  # (B, T, T)", "* q.shape[1] ** -0.5  # (B, T, T)"),
        ),
        "scaled by T ** -0.5, the number of positions",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "weights-masked-with-the-lectures-tril",
        "s06_attention",
        "masked with a module-level tril of the lecture's block_size 8, cut to each input's T",
        (
            ("import torch\n", "import torch\n\nLECTURE_TRIL = torch.tril(torch.ones(8, 8))  # block_size = 8\n"),
            (
                "    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))\n",
                "    tril = LECTURE_TRIL[:T, :T].to(q.device).bool()\n",
            ),
        ),
    ),
]

VARIANTS = [
    # Source: a precision pass over stages 5 to 7 (2026-12-06): the row-sum test's own comparison raised on it.
    Variant(
        "attention-weights-in-float64",
        "s06_attention",
        "computes the weights in float64 and returns them so",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n",
                "    wei = q.double() @ k.double().transpose(-2, -1) * head_size**-0.5\n",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-05 (the device check took these moves for mixes).
    Variant(
        "mask-moved-with-as-tensor",
        "s06_attention",
        "moves a CPU mask with torch.as_tensor(..., device=q.device)",
        (
            (
                "    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))\n",
                "    tril = torch.as_tensor(torch.tril(torch.ones(T, T, dtype=torch.bool)), device=q.device)\n",
            ),
        ),
    ),
    Variant(
        "mask-made-with-new-tensor",
        "s06_attention",
        "makes the mask on q's device with q.new_tensor",
        (
            (
                "    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))\n",
                "    tril = q.new_tensor(torch.tril(torch.ones(T, T))).bool()\n",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-05 (the grader's dropout missed it: the stage scored 0).
    Variant(
        "head-drops-with-torch-dropout",
        "s06_attention",
        "drops the weights with torch.dropout, which F.dropout calls",
        (("        wei = self.dropout(wei)\n", "        wei = torch.dropout(wei, self.dropout.p, self.training)\n"),),
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
                "dtype=torch.bool, device=q.device).triu(1)\n"
                '    return torch.softmax(wei.masked_fill(future, float("-inf")), dim=-1)',
            ),
        ),
    ),
    Variant(
        "attention-weights-by-einsum",
        "s06_attention",
        "computes the affinities with einsum and the softmax as a method",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n",
                '    wei = torch.einsum("btd,bsd->bts", q, k) * head_size**-0.5\n',
            ),
            ("    return F.softmax(wei, dim=-1)", "    return wei.softmax(-1)"),
        ),
    ),
    # Source: karpathy/nanoGPT model.py, the manual attention of CausalSelfAttention (without flash):
    # scaled by 1.0 / math.sqrt(k.size(-1)), masked where the buffer is 0.
    Variant(
        "head-scaled-with-math-sqrt",
        "s06_attention",
        "scales by 1 / math.sqrt(k.size(-1)), as nanoGPT's manual attention does",
        (
            ("import torch\nimport torch.nn as nn\n", "import math\n\nimport torch\nimport torch.nn as nn\n"),
            (HEAD_SCORES, "wei = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))"),
        ),
    ),
    Variant(
        "head-mask-as-bool-buffer",
        "s06_attention",
        "keeps the mask as a bool buffer and fills where it is False",
        (
            (HEAD_BUFFER, 'self.register_buffer("tril", torch.ones(block_size, block_size, dtype=torch.bool).tril())'),
            (HEAD_MASK, 'wei = wei.masked_fill(~self.tril[:T, :T], float("-inf"))'),
        ),
    ),
    Variant(
        "head-masked-with-the-lowest-float",
        "s06_attention",
        "fills the future with the lowest finite float instead of -inf",
        ((HEAD_MASK, "wei = wei.masked_fill(self.tril[:T, :T] == 0, torch.finfo(wei.dtype).min)"),),
    ),
    Variant(
        "head-values-first",
        "s06_attention",
        "computes v first and drops with the functional dropout of its module's rate and mode",
        (
            (
                "        k = self.key(x)  # (B, T, hs)\n",
                "        v = self.value(x)\n        k = self.key(x)  # (B, T, hs)\n",
            ),
            ("        v = self.value(x)  # (B, T, hs)\n", ""),
            (HEAD_DROPOUT, "        wei = F.dropout(wei, self.dropout.p, self.training)\n"),
        ),
    ),
    # The precision pass's sub6fdrop: a recorder that patched F.dropout once missed this and said "no dropout".
    Variant(
        "head-dropout-imported-by-name",
        "s06_attention",
        "drops with torch.nn.functional's dropout imported by name",
        (
            (
                "from torch.nn import functional as F\n",
                "from torch.nn import functional as F\nfrom torch.nn.functional import dropout\n",
            ),
            (HEAD_DROPOUT, "        wei = dropout(wei, self.dropout.p, self.training)\n"),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "mask-by-where-and-mT",
        "s06_attention",
        "masks with torch.where on a boolean tril and transposes k with .mT",
        (
            replaced(
                "s06_attention",
                "attention_weights",
                """
def attention_weights(q, k):
    T, hs = q.shape[-2], q.shape[-1]
    wei = (q @ k.mT) / hs ** 0.5
    causal = torch.ones(T, T, device=q.device).tril().bool()
    wei = torch.where(causal, wei, torch.tensor(float("-inf"), device=q.device))
    return wei.softmax(dim=-1)
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "q-and-k-scaled-by-a-fourth-root",
        "s06_attention",
        "scales q and k by head_size ** -0.25 each, masks with triu and takes the softmax in float32",
        (
            replaced(
                "s06_attention",
                "attention_weights",
                """
def attention_weights(q, k):
    hs = k.shape[-1]
    T = q.shape[-2]
    wei = (q * hs ** -0.25) @ (k * hs ** -0.25).transpose(-2, -1)
    mask = torch.triu(torch.ones(T, T, device=q.device, dtype=torch.bool), diagonal=1)
    wei = wei.masked_fill(mask, float("-inf"))
    return F.softmax(wei.float(), dim=-1).type_as(wei)
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "head-calls-attention-weights",
        "s06_attention",
        "computes the head's weights with the stage's own attention_weights",
        (
            replaced(
                "s06_attention",
                "Head.forward",
                """
def forward(self, x):
    q, k, v = self.query(x), self.key(x), self.value(x)
    wei = self.dropout(attention_weights(q, k))
    return wei @ v
""",
            ),
        ),
    ),
    # The fourth precision pass of 2026-12-07: the weights dropped as one row per query; the test looked for a
    # dropout on a (B, T, T) tensor only.
    Variant(
        "head-drops-its-weights-as-rows",
        "s06_attention",
        "drops its weights reshaped to (B*T, T), one row per query, and views them back",
        ((HEAD_DROPOUT, "        wei = self.dropout(wei.reshape(B * T, T)).view(B, T, T)  # one row per query\n"),),
    ),
    # Source: the grader's dropout for other layouts (2026-12-07): weights laid out keys before queries drew the
    # mask transposed, and the dropout tests lost their points in a grade, though they passed.
    Variant(
        "weights-keys-before-queries",
        "s06_attention",
        "lays its weights out keys before queries, (B, T_k, T_q), and softmaxes and drops them that way",
        (
            replaced(
                "s06_attention",
                "Head.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    k, q, v = self.key(x), self.query(x), self.value(x)
    wei = k @ q.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T_k, T_q)
    wei = wei.masked_fill(self.tril[:T, :T].T == 0, float("-inf")).softmax(dim=-2)
    return self.dropout(wei).transpose(-2, -1) @ v
""",
            ),
        ),
    ),
]
