"""Stage 11 · GPT-2 itself: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import knock_on, named, replaced

from catalogs.s09_fast_attention import MISTAKES as S09

STAGE = "s11_gpt2"

LOADER_BODY = """    own = model.state_dict()
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
"""

MISTAKES = [
    # Source: the false-pass hunt of 2026-12-07: it read the docstring's "without gradients" as "turn them off",
    # and passed with full marks.
    Mistake(
        "loader-freezes-the-model",
        "s11_gpt2",
        "returns the loaded model with requires_grad_(False)",
        (("    return model\n", "    return model.requires_grad_(False)\n"),),
        "no longer require a gradient",
    ),
    # Source: minGPT's NewGELU retyped (my last note's list, 2026-12-07): it got only the MLP's generic hint.
    Mistake(
        "gelu-tanh-with-sqrt-two-pi",
        "s11_gpt2",
        "writes GELU's tanh approximation out with sqrt(2 * pi) for sqrt(2 / pi)",
        (
            (
                'return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))',
                "h = self.c_fc(x)\n"
                "        inner = (2.0 * torch.pi) ** 0.5 * (h + 0.044715 * torch.pow(h, 3.0))\n"
                "        h = 0.5 * h * (1.0 + torch.tanh(inner))\n"
                "        return self.dropout(self.c_proj(h))",
            ),
        ),
        "with sqrt(2 * pi) inside the tanh, where it is sqrt(2 / pi)",
    ),
    # Source: a message hunt on stages 10 and 11 (2026-12-07): told to accept lm_head.weight, which it does.
    Mistake(
        "loader-transposes-every-matrix-but-the-embeddings",
        STAGE,
        "transposed every 2-D tensor of the checkpoint but the embeddings, lm_head.weight too",
        (
            (
                "        if key.endswith(CONV1D_WEIGHTS):",
                '        if tensor.ndim == 2 and not key.startswith(("transformer.wte", "transformer.wpe")):',
            ),
        ),
        "lm_head.weight came out transposed",
        misleading=("accept lm_head.weight",),
    ),
    # Source: a message hunt on stages 10 and 11 (2026-12-07): Hugging Face's label shift got only "wrong values".
    Mistake(
        "gpt2-loss-shifts-the-targets-like-hugging-face",
        STAGE,
        "shifted logits and targets by one position, as Hugging Face's labels are",
        (
            (
                "        logits = logits.view(B * T, -1)\n"
                "        return logits, F.cross_entropy(logits, targets.view(B * T))",
                "        V = logits.shape[-1]\n"
                "        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1))\n"
                "        return logits.view(B * T, -1), loss",
            ),
        ),
        "That pairs each position with the target after its own",
    ),
    # Source: the same hunt: a layer built and never called was told something cuts the graph.
    Mistake(
        "gpt2-block-normalises-twice-with-ln-1",
        STAGE,
        "normalised the MLP's input with ln_1 again, so ln_2 is never called",
        (("self.mlp(self.ln_2(x))", "self.mlp(self.ln_1(x))"),),
        "Either the forward never uses them",
    ),
    # Source: a red-team pass (2026-12-07): the grader's check computed the gradients in eval mode, where the test
    # trains, and did not back it; a forged pass of it counted.
    Mistake(
        "gpt2-embeddings-checkpointed-in-training-mode",
        STAGE,
        "checkpointed its embeddings in training mode with use_reentrant=True, so wpe gets no gradient",
        (
            (
                "        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))\n",
                "        def embed(idx):\n"
                "            tokens = self.transformer.wte(idx)\n"
                "            return self.transformer.drop(tokens + self.transformer.wpe(positions))\n\n"
                "        if self.training:  # recompute the embeddings in backward: saves memory\n"
                "            from torch.utils.checkpoint import checkpoint\n\n"
                "            x = checkpoint(embed, idx, use_reentrant=True)\n"
                "        else:\n"
                "            x = embed(idx)\n",
            ),
        ),
        "of its parameters got no gradient",
    ),
    # Source: a false-pass hunt (2026-12-07): it was told to draw c_proj after _init_weights, which it did.
    Mistake(
        "gpt2-scales-the-attention-projection-alone",
        STAGE,
        "scaled the initialisation of attn.c_proj alone, leaving mlp.c_proj at 0.02",
        (('            if name.endswith("c_proj.weight"):', '            if name.endswith("attn.c_proj.weight"):'),),
        "The attention's c_proj starts scaled, the MLP's does not",
        misleading=("drawn before it, they are drawn over",),
    ),
    # Source: a false-pass hunt (2026-12-07): every test passed, and the grade was full, for a GPT-2 that cannot
    # train; stage 8 catches it with a backward pass, which stage 11 lacked.
    Mistake(
        "gpt2-forward-under-no-grad",
        STAGE,
        "put @torch.no_grad() on GPT2's forward",
        (
            (
                "    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):",
                "    @torch.no_grad()\n    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):",
            ),
        ),
        "The loss carries no gradient back to the weights",
    ),
    # A red-team pass of 2026-12-07: dropout is linear and the grader's mask followed the shape alone, so the (T, C)
    # position table drew the pattern the (B, T, C) tokens did, drop(a) + drop(b) equalled drop(a + b) in the
    # check, and a forged pass of the test that catches it counted (14.06 of 15 honestly, 15 forged).
    Mistake(
        "gpt2-drops-the-embeddings-apart",
        STAGE,
        "dropped wte(idx) and wpe(positions) each on its own, then added them",
        (
            (
                "self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))",
                "self.transformer.drop(self.transformer.wte(idx))"
                " + self.transformer.drop(self.transformer.wpe(positions))",
            ),
        ),
        "drops wte(idx) and wpe(positions) apart",
        misleading=("the position embedding is never added",),
    ),
    # A false-pass hunt of 2026-12-07: it was told "the position embedding is never added", which it is.
    Mistake(
        "gpt2-drops-the-token-embedding-alone",
        STAGE,
        "dropped wte(idx) alone and added wpe(positions) after the dropout",
        (
            (
                "self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))",
                "self.transformer.drop(self.transformer.wte(idx)) + self.transformer.wpe(positions)",
            ),
        ),
        "adds wpe(positions) after the dropout",
        misleading=("the position embedding is never added",),
    ),
    # Source: a precision pass (2026-12-07): as stage 8's config-with-nanogpts-bias-field (1.9 of 15).
    Mistake(
        "gpt2-config-with-nanogpts-bias-field",
        "s11_gpt2",
        "added nanoGPT's bias field to GPT2Config",
        (("    dropout: float = 0.0\n\n", "    dropout: float = 0.0\n    bias: bool = True  # nanoGPT's\n\n"),),
        "GPT2Config(): expected GPT-2 small",
    ),
    # Source: a red-team pass (2026-12-06): the check's fresh GPT-2 had two layers, where this equals GPT-2's.
    Mistake(
        "c-proj-std-over-n-layer",
        "s11_gpt2",
        "scaled c_proj's std by 1 / n_layer, not 1 / sqrt(2 n_layer)",
        (("std=0.02 / math.sqrt(2 * config.n_layer)", "std=0.02 / config.n_layer"),),
    ),
    Mistake(
        "gpt2-blocks-capped-at-two",
        "s11_gpt2",
        "built at most two blocks whatever n_layer says",
        (("for _ in range(config.n_layer)]", "for _ in range(min(config.n_layer, 2))]"),),
    ),
    # Source: the eighth precision pass (2026-12-06): its failing test blamed the loading or the architecture.
    Mistake(
        "gpt2-logits-flattened-time-major",
        "s11_gpt2",
        "flattened the logits and targets time-major, so row b*T + t is not position (b, t)",
        (
            (
                "        logits = logits.view(B * T, -1)\n"
                "        return logits, F.cross_entropy(logits, targets.view(B * T))",
                "        logits = logits.transpose(0, 1).reshape(T * B, -1)\n"
                "        return logits, F.cross_entropy(logits, targets.t().reshape(T * B))",
            ),
        ),
        "Row b*T + t holds position (b, t)",
    ),
    # Source: the sixth precision pass (2026-12-06), after nanoGPT's from_pretrained, which builds the model it
    # loads into; every test used the returned model, and the grader's check too.
    Mistake(
        "loader-skips-wte-for-the-head",
        STAGE,
        "skipped transformer.wte.weight, trusting lm_head.weight to bring the shared matrix",
        (
            (
                "        if key.endswith(MASK_BUFFERS):\n",
                '        if key.endswith(MASK_BUFFERS) or key == "transformer.wte.weight":  # lm_head.weight has it\n',
            ),
        ),
        "the checkpoint's transformer.wte.weight is the shared matrix: load it",
    ),
    Mistake(
        "loader-builds-a-new-model",
        STAGE,
        "loaded into a new GPT2 of the same config and returned it, leaving the given model as it was built",
        (("    own = model.state_dict()\n", "    model = GPT2(model.config)\n    own = model.state_dict()\n"),),
        "returned another model than the one it was given",
    ),
    # Source: the second backing hunt of 2026-12-05: the suite accepted it.
    Mistake(
        "loader-demands-the-head-key",
        "s11_gpt2",
        "counted lm_head.weight as missing, though the head shares the token embedding",
        (
            (
                "missing = {name for name, _ in model.named_parameters()} - set(state_dict)",
                "missing = set(own) - set(state_dict)",
            ),
        ),
        "under either key",
    ),
    # Source: the backing hunt of 2026-12-05: the suite accepted it; the same checkpoint did not load twice.
    Mistake(
        "loader-transposes-the-callers-dict",
        "s11_gpt2",
        "wrote the transposed weights back into the caller's state dict",
        (("            tensor = tensor.t()\n", "            tensor = state_dict[key] = tensor.t()\n"),),
        "changed the state dict it was given",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "missing-check-blocks-only",
        "s11_gpt2",
        "checked only the blocks' keys for missing ones",
        (
            (
                "    missing = {name for name, _ in model.named_parameters()} - set(state_dict)",
                '    missing = {name for name, _ in model.named_parameters() if ".h." in name} - set(state_dict)',
            ),
        ),
    ),
    Mistake(
        "logits-unflattened-with-targets",
        "s11_gpt2",
        "returned unflattened logits with targets",
        (
            (
                "        logits = logits.view(B * T, -1)\n        return logits, F.cross_entropy(l"
                "ogits, targets.view(B * T))",
                "        return logits, F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))",
            ),
        ),
    ),
    Mistake(
        "mlp-dropout-fixed-0.2",
        "s11_gpt2",
        "dropped the MLP's output with the lecture's 0.2, not the config's dropout",
        (
            (
                "        self.c_proj = nn.Linear(4 * n_embd, n_embd)\n        self.dropout = nn.Dropout(dropout)",
                "        self.c_proj = nn.Linear(4 * n_embd, n_embd)\n        self.dropout = nn.Dropout(0.2)",
            ),
        ),
    ),
    Mistake(
        "missing-check-ignores-head-key-only",
        "s11_gpt2",
        "checked for missing keys among all but the final layer norm's",
        (
            (
                "    missing = {name for name, _ in model.named_parameters()} - set(state_dict)",
                "    missing = {name for name, _ in model.named_parameters() if not name.startswi"
                'th("transformer.ln_f")} - set(state_dict)',
            ),
        ),
    ),
    Mistake(
        "block-size-check-ge",
        "s11_gpt2",
        "rejected a sequence of exactly block_size tokens",
        (
            (
                '        if T > self.config.block_size:\n            raise ValueError(f"a sequence'
                ' of {T} tokens is longer than block_size {self.config.block_size}")\n        posi'
                "tions",
                '        if T >= self.config.block_size:\n            raise ValueError(f"a sequenc'
                'e of {T} tokens is longer than block_size {self.config.block_size}")\n        pos'
                "itions",
            ),
        ),
    ),
    Mistake(
        "gpt2-loss-summed",
        STAGE,
        "summed GPT-2's cross-entropy over the positions",
        (
            (
                "F.cross_entropy(logits, targets.view(B * T))",
                'F.cross_entropy(logits, targets.view(B * T), reduction="sum")',
            ),
        ),
        "the loss is their mean",
    ),
    Mistake(
        "gpt2-head-with-a-zero-bias",
        STAGE,
        "gave the tied head a bias (GPT-2's initialisation sets it to zero, so the logits do not show it)",
        (
            (
                "self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)",
                "self.lm_head = nn.Linear(config.n_embd, config.vocab_size)",
            ),
            (
                "    missing = {name for name, _ in model.named_parameters()} - set(state_dict)\n",
                "    missing = {name for name, _ in model.named_parameters()} - set(state_dict) - {'lm_head.bias'}\n",
            ),
        ),
        "bias",
    ),
    Mistake(
        "gpt2-loader-keeps-mask-buffers",
        STAGE,
        "refused the attention masks that older transformers saved beside the weights",
        (("        if key.endswith(MASK_BUFFERS):\n            continue\n", ""),),
        "attn.bias",
    ),
    Mistake(
        "erf-gelu",
        STAGE,
        "used the exact GELU",
        (('F.gelu(self.c_fc(x), approximate="tanh")', "F.gelu(self.c_fc(x))"),),
        "exact (erf) GELU",
        misleading=("flattened to (B*T, V)", "Skip the keys"),
    ),
    Mistake(
        "relu-mlp",
        STAGE,
        "kept the lecture's ReLU",
        (('F.gelu(self.c_fc(x), approximate="tanh")', "F.relu(self.c_fc(x))"),),
        "This is ReLU",
        misleading=("flattened to (B*T, V)", "Skip the keys"),
    ),
    Mistake(
        "untied-head",
        STAGE,
        "gave lm_head a matrix of its own",
        (
            (
                "        self.lm_head.weight = self.transformer.wte.weight"
                "  # one matrix embeds tokens and scores them\n",
                "",
            ),
        ),
        "tie it to the token embedding",
    ),
    Mistake(
        "head-with-bias",
        STAGE,
        "gave lm_head a bias",
        (
            (
                "nn.Linear(config.n_embd, config.vocab_size, bias=False)",
                "nn.Linear(config.n_embd, config.vocab_size)",
            ),
        ),
        "lm_head has a bias",
    ),
    Mistake(
        "c-attn-without-bias",
        STAGE,
        "kept stage 9's bias-free c_attn",
        (("        self.c_attn = nn.Linear(n_embd, 3 * n_embd)\n", ""),),
        "c_attn has no bias",
    ),
    Mistake(
        "square-c-proj-not-transposed",
        STAGE,
        "transposed only the Conv1D weights whose shape gave them away",
        (
            (
                'CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")',
                'CONV1D_WEIGHTS = ("attn.c_attn.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")',
            ),
        ),
        "untransposed",
    ),
    # Source: the notebook walkthrough of stages 7-12 (a helper, 2026-12-06, later): the test of a checkpoint
    # without lm_head.weight blamed the shared matrix for the shape error the whole checkpoint meets too.
    Mistake(
        "c-fc-not-transposed",
        STAGE,
        "transposed three of the four Conv1D weights, leaving out mlp.c_fc.weight",
        (
            (
                'CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")',
                'CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_proj.weight")',
            ),
        ),
        "It refuses the whole checkpoint too, lm_head.weight included",
        misleading=("The head shares the token embedding",),
    ),
    Mistake(
        "mask-skip-eats-c-attn-bias",
        STAGE,
        "skipped every key ending in attn.bias, c_attn.bias included",
        (('MASK_BUFFERS = (".attn.bias", ".attn.masked_bias")', 'MASK_BUFFERS = ("attn.bias", "attn.masked_bias")'),),
        "is a real weight",
    ),
    Mistake(
        "no-residual-scaling",
        STAGE,
        "initialised c_proj like every other weight",
        (
            (
                '            if name.endswith("c_proj.weight"):\n',
                '            if name.endswith("c_proj.weight") and False:\n',
            ),
        ),
        "0.02 / sqrt(2 * n_layer)",
    ),
    Mistake(
        "gpt2-default-initialisation",
        STAGE,
        "kept PyTorch's default initialisation",
        (("        self.apply(self._init_weights)\n", ""),),
        "every other weight with std 0.02",
    ),
    Mistake(
        "gpt2-post-norm-block",
        STAGE,
        "normalised after the residual addition",
        (("        x = x + self.attn(self.ln_1(x))\n", "        x = self.ln_1(x + self.attn(x))\n"),),
        "x + attn(ln_1(x))",
    ),
    Mistake(
        "gpt2-no-position-embedding",
        STAGE,
        "left out the position embedding",
        (
            (
                "self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))",
                "self.transformer.drop(self.transformer.wte(idx))",
            ),
        ),
        "the position embedding is never added",
        misleading=("applies no dropout of p=0.5",),
    ),
    Mistake(
        "loader-leaves-missing-weights",
        STAGE,
        "loaded a checkpoint that lacks some weights without a word",
        (("    if missing:\n", "    if False:\n"),),
        "should raise ValueError: name the key",
    ),
    # The precision pass's subm11unknown: no test or probe passed a key that is not the model's.
    Mistake(
        "loader-skips-keys-not-its-own",
        STAGE,
        "skipped the checkpoint's keys that are not the model's, without a word",
        (('            raise ValueError(f"{key} is not a parameter of this GPT2")\n', "            continue\n"),),
        "one with a block more",
    ),
    Mistake(
        "loader-without-shape-check",
        STAGE,
        "copied without checking shapes",
        (("        if tensor.shape != own[key].shape:\n", "        if False:\n"),),
        "raised RuntimeError",
    ),
    Mistake(
        "gpt2-no-length-check",
        STAGE,
        "did not reject sequences longer than block_size",
        (("        if T > self.config.block_size:\n", "        if False:\n"),),
        "IndexError",
    ),
    Mistake(
        "gpt2-positions-made-on-the-cpu",
        "s11_gpt2",
        "made the positions without device=idx.device",
        (("positions = torch.arange(T, device=idx.device)", "positions = torch.arange(T)"),),
        "torch.arange(...) without device=",
    ),
    # The precision pass's C6: nothing checked GPT-2's dropout (GPT2Config's default is 0).
    Mistake(
        "gpt2-embeddings-never-dropped",
        "s11_gpt2",
        "never applied transformer.drop to the embeddings",
        (
            (
                "x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))",
                "x = self.transformer.wte(idx) + self.transformer.wpe(positions)",
            ),
        ),
        "self.transformer.drop(tok_emb + pos_emb)",
    ),
    Mistake(
        "gpt2-mlp-never-drops",
        "s11_gpt2",
        "left the dropout out of GPT2MLP's forward",
        (
            (
                'return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))',
                'return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))',
            ),
        ),
        "applied no dropout to the output of its c_proj",
    ),
    Mistake(
        "gpt2-attention-without-dropout",
        "s11_gpt2",
        "built each block's attention without the config's dropout",
        (
            (
                "GPT2Attention(config.n_embd, config.n_head, config.block_size, config.dropout)",
                "GPT2Attention(config.n_embd, config.n_head, config.block_size)",
            ),
        ),
        "attn applies no dropout of p=0.5",
    ),
    # The loud cases of the Conv1D transpose, which learners meet first: the loader's own shape check raises.
    Mistake(
        "loader-never-transposes",
        "s11_gpt2",
        "copied the Conv1D weights without transposing them",
        (("        if key.endswith(CONV1D_WEIGHTS):\n            tensor = tensor.t()\n", ""),),
        "each other's transpose",
    ),
    Mistake(
        "loader-transposes-every-matrix",
        "s11_gpt2",
        "transposed every matrix, the embeddings too",
        (("        if key.endswith(CONV1D_WEIGHTS):", "        if tensor.dim() == 2:"),),
        "each other's transpose",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "loader-shares-the-checkpoints-memory",
        "s11_gpt2",
        "set each parameter's .data to the checkpoint's tensor, so the model and the checkpoint share memory",
        (
            replaced(
                "s11_gpt2",
                "load_gpt2_state_dict",
                """
def load_gpt2_state_dict(model, state_dict):
    params = dict(model.named_parameters(remove_duplicate=False))
    for key, tensor in state_dict.items():
        if key.endswith(MASK_BUFFERS):
            continue
        if key not in params:
            raise ValueError(f"{key} is not a parameter of this model")
        if key.endswith(CONV1D_WEIGHTS):
            tensor = tensor.t()
        if tensor.shape != params[key].shape:
            raise ValueError(f"{key}: {tuple(tensor.shape)} != {tuple(params[key].shape)}")
        params[key].data = tensor
    missing = {n for n, _ in model.named_parameters()} - set(state_dict)
    if missing:
        raise ValueError(f"missing {missing}")
    return model
""",
            ),
        ),
        "share memory with the checkpoint",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "mlp-drops-in-eval-mode",
        "s11_gpt2",
        "dropped the MLP's output with F.dropout(x, p) without training=self.training",
        (
            replaced(
                "s11_gpt2",
                "GPT2MLP.__init__",
                """
def __init__(self, n_embd, dropout=0.0):
    super().__init__()
    self.c_fc = nn.Linear(n_embd, 4 * n_embd)
    self.c_proj = nn.Linear(4 * n_embd, n_embd)
    self.p = dropout
""",
            ),
            replaced(
                "s11_gpt2",
                "GPT2MLP.forward",
                """
def forward(self, x):
    return F.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")), self.p)
""",
            ),
        ),
        "something still drops after model.eval()",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "embeddings-drop-in-eval-mode",
        "s11_gpt2",
        "dropped the embeddings with F.dropout(x, p) without training=self.training",
        (
            replaced(
                "s11_gpt2",
                "GPT2.forward",
                """
def forward(self, idx, targets=None):
    B, T = idx.shape
    if T > self.config.block_size:
        raise ValueError("sequence longer than block_size")
    positions = torch.arange(T, device=idx.device)
    x = F.dropout(self.transformer.wte(idx) + self.transformer.wpe(positions), self.config.dropout)
    for block in self.transformer.h:
        x = block(x)
    logits = self.lm_head(self.transformer.ln_f(x))
    if targets is None:
        return logits, None
    logits = logits.view(B * T, -1)
    return logits, F.cross_entropy(logits, targets.view(B * T))
""",
            ),
        ),
        "something still drops after model.eval()",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "head-tied-through-data",
        "s11_gpt2",
        "tied the head by copying wte's data into it, two parameters that drift apart in training",
        (
            replaced(
                "s11_gpt2",
                "GPT2.__init__",
                """
def __init__(self, config):
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

    self.lm_head.weight.data = self.transformer.wte.weight.data
    self.apply(self._init_weights)
    for name, parameter in self.named_parameters():
        if name.endswith("c_proj.weight"):
            torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
""",
            ),
        ),
        "the very Parameter",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "gelu-after-c-proj",
        "s11_gpt2",
        "applied GELU after c_proj instead of between c_fc and c_proj",
        (
            replaced(
                "s11_gpt2",
                "GPT2MLP.forward",
                """
def forward(self, x):
    return self.dropout(F.gelu(self.c_proj(self.c_fc(x)), approximate="tanh"))
""",
            ),
        ),
        "something runs between the c_proj and the dropout",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "loader-refuses-the-head-key",
        "s11_gpt2",
        "looked each key up in named_parameters(), which lists the shared matrix once, and refused lm_head.weight",
        (
            replaced(
                "s11_gpt2",
                "load_gpt2_state_dict",
                """
def load_gpt2_state_dict(model, state_dict):
    params = dict(model.named_parameters())
    with torch.no_grad():
        for key, tensor in state_dict.items():
            if key.endswith((".attn.bias", ".attn.masked_bias")):
                continue
            if key not in params:
                raise ValueError(f"{key} is not a parameter of this model")
            if key.endswith(CONV1D_WEIGHTS):
                tensor = tensor.t()
            if tensor.shape != params[key].shape:
                raise ValueError(f"{key}: {tuple(tensor.shape)} != {tuple(params[key].shape)}")
            params[key].copy_(tensor)
    for key in params:
        if key not in state_dict:
            raise ValueError(f"{key} is missing")
    return model
""",
            ),
        ),
        "share once",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "init-skips-the-embeddings",
        "s11_gpt2",
        "initialised the Linear layers but left the embeddings at nn.Embedding's N(0, 1)",
        (
            replaced(
                "s11_gpt2",
                "GPT2._init_weights",
                """
def _init_weights(self, module):
    if isinstance(module, nn.Linear):
        torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            torch.nn.init.zeros_(module.bias)
""",
            ),
        ),
        "nn.Embedding's default",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "scaled-init-hits-the-biases",
        "s11_gpt2",
        "drew every parameter whose name holds c_proj with the scaled std, the biases too",
        (
            replaced(
                "s11_gpt2",
                "GPT2.__init__",
                """
def __init__(self, config):
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

    self.lm_head.weight = self.transformer.wte.weight
    self.apply(self._init_weights)
    for name, parameter in self.named_parameters():
        if "c_proj" in name:
            torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
""",
            ),
        ),
        "for the weights alone",
    ),
    # Source: the seventh red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "position-table-sized-by-the-width",
        "s11_gpt2",
        "made the position table n_embd rows long, not block_size",
        (("wpe=nn.Embedding(config.block_size, config.n_embd)", "wpe=nn.Embedding(config.n_embd, config.n_embd)"),),
        "The position table has n_embd rows",
    ),
    Mistake(
        "gpt2-logits-squeezed",
        "s11_gpt2",
        "squeezed the logits, which drops the batch dimension of one row",
        (
            (
                "        logits = self.lm_head(self.transformer.ln_f(x))\n",
                "        logits = self.lm_head(self.transformer.ln_f(x)).squeeze()\n",
            ),
        ),
        "Every dim of size 1 is gone",
    ),
    # Source: a learner's walk-through of stages 9 to 12 (a helper, 2026-12-06): told only the two stds.
    Mistake(
        "scaled-init-before-the-general-one",
        "s11_gpt2",
        "drew the c_proj weights with the scaled std before self.apply(self._init_weights) drew over them",
        (
            (
                "        self.apply(self._init_weights)\n        for name, parameter in self.named_parameters():",
                "        for name, parameter in self.named_parameters():",
            ),
            (
                "                torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))",
                "                torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))\n"
                "        self.apply(self._init_weights)",
            ),
        ),
        "after it, draw the c_proj weights again",
    ),
    # A stage-9 mistake that only this stage's suite, run on its own, sees: GPT2Attention inherits stage 9's forward,
    # and the Hugging Face comparisons said only "wrong values" (a graded notebook of 2026-12-06, seed 25).
    knock_on(named(S09, "heads-not-joined-back"), "s11_gpt2", "whose forward GPT2Attention inherits"),
]

VARIANTS = [
    # Source: karpathy/nanoGPT model.py, GPT.from_pretrained, re-expressed in the kata's API (the sixth precision
    # pass, 2026-12-06).
    Variant(
        "loader-like-nanogpt-from-pretrained",
        "s11_gpt2",
        "copies key by key as nanoGPT's from_pretrained does, transposing the Conv1D weights",
        (
            replaced(
                "s11_gpt2",
                "load_gpt2_state_dict",
                """
def load_gpt2_state_dict(model, state_dict):
    sd = model.state_dict()
    sd_keys = [k for k in sd.keys() if not k.endswith(".attn.bias")]
    sd_keys_hf = [k for k in state_dict.keys() if not k.endswith(".attn.masked_bias") and not k.endswith(".attn.bias")]
    transposed = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]
    for k in sd_keys_hf:
        if k not in sd:
            raise ValueError(f"unexpected key in checkpoint: {k}")
        src = state_dict[k].t() if any(k.endswith(w) for w in transposed) else state_dict[k]
        if src.shape != sd[k].shape:
            raise ValueError(f"mismatched shape for {k}: {tuple(src.shape)} vs {tuple(sd[k].shape)}")
        with torch.no_grad():
            sd[k].copy_(src)
    have = set(sd_keys_hf)
    for k in sd_keys:
        if k not in have and not (k == "lm_head.weight" and "transformer.wte.weight" in have):
            raise ValueError(f"checkpoint is missing {k}")
    return model
""",
            ),
        ),
    ),
    # Source: huggingface/transformers, modeling_gpt2.py GPT2PreTrainedModel._init_weights, re-expressed in the
    # kata's API (the sixth precision pass, 2026-12-06).
    Variant(
        "init-like-hugging-face",
        "s11_gpt2",
        "initialises in one _init_weights as Hugging Face's GPT2PreTrainedModel does, scaling c_proj by name",
        (
            (
                "        self.lm_head.weight = self.transformer.wte.weight"
                "  # one matrix embeds tokens and scores them\n"
                "        self.apply(self._init_weights)\n"
                "        for name, parameter in self.named_parameters():\n"
                "            # The projections that add to the residual stream, two per layer: scaled so that the\n"
                "            # stream's variance does not grow with depth.\n"
                '            if name.endswith("c_proj.weight"):\n'
                "                torch.nn.init.normal_("
                "parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))\n",
                "        self.apply(self._init_weights)\n        self.lm_head.weight = self.transformer.wte.weight\n",
            ),
            replaced(
                "s11_gpt2",
                "GPT2._init_weights",
                '''
def _init_weights(self, module):
    """As transformers' GPT2PreTrainedModel._init_weights."""
    if isinstance(module, nn.Linear):
        module.weight.data.normal_(mean=0.0, std=0.02)
        if module.bias is not None:
            module.bias.data.zero_()
    elif isinstance(module, nn.Embedding):
        module.weight.data.normal_(mean=0.0, std=0.02)
    elif isinstance(module, LayerNorm):
        module.bias.data.zero_()
        module.weight.data.fill_(1.0)
    for name, p in module.named_parameters():
        if name == "c_proj.weight":
            p.data.normal_(mean=0.0, std=0.02 / math.sqrt(2 * self.config.n_layer))
''',
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-05 (the grader's dropout missed it: the stage scored 0).
    Variant(
        "mlp-drops-with-torch-dropout",
        "s11_gpt2",
        "ends the MLP with torch.dropout, which F.dropout calls",
        (
            (
                '        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))\n',
                '        out = self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))\n'
                "        return torch.dropout(out, self.dropout.p, self.training)\n",
            ),
        ),
    ),
    Variant(
        "gelu-written-out",
        STAGE,
        "writes GELU's tanh approximation out",
        (
            (
                '        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))\n',
                "        h = self.c_fc(x)\n"
                "        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * h**3)))\n"
                "        return self.dropout(self.c_proj(h))\n",
            ),
        ),
    ),
    Variant(
        "gelu-module",
        STAGE,
        "keeps an nn.GELU module",
        (
            (
                "        self.c_proj = nn.Linear(4 * n_embd, n_embd)\n        self.dropout",
                '        self.c_proj = nn.Linear(4 * n_embd, n_embd)\n        self.gelu = nn.GELU(approximate="tanh")\n'
                "        self.dropout",
            ),
            ('F.gelu(self.c_fc(x), approximate="tanh")', "self.gelu(self.c_fc(x))"),
        ),
    ),
    Variant(
        "tied-the-other-way",
        STAGE,
        "ties the embedding to the head's matrix",
        (
            (
                "self.lm_head.weight = self.transformer.wte.weight",
                "self.transformer.wte.weight = self.lm_head.weight",
            ),
        ),
    ),
    Variant(
        "residual-scaling-by-module",
        STAGE,
        "scales the two projections of each block by reaching for them",
        (
            (
                "        for name, parameter in self.named_parameters():\n",
                "        for block in self.transformer.h:\n",
            ),
            (
                '            if name.endswith("c_proj.weight"):\n'
                "                torch.nn.init.normal_(parameter, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))"
                "\n",
                "            for projection in (block.attn.c_proj, block.mlp.c_proj):\n"
                "                torch.nn.init.normal_(projection.weight, std=0.02 / math.sqrt(2 * config.n_layer))\n",
            ),
        ),
    ),
    # The precision pass's sub11rasbt: the grader's check once left out transformer.wte.weight in about one
    # draw in 28 and wanted a ValueError, though lm_head.weight still held the shared matrix.
    Variant(
        "loader-takes-the-shared-matrix-from-either-key",
        STAGE,
        "accepts the shared embedding and head matrix under lm_head.weight alone",
        (
            (
                "    if missing:\n",
                '    if missing == {"transformer.wte.weight"} and "lm_head.weight" in state_dict:\n'
                "        missing = set()  # the shared matrix came as lm_head.weight, already copied\n"
                "    if missing:\n",
            ),
        ),
    ),
    Variant(
        "loader-through-load-state-dict",
        STAGE,
        "converts the checkpoint, then lets load_state_dict check it",
        (
            (
                LOADER_BODY,
                "    converted = {\n"
                "        key: tensor.t() if key.endswith(CONV1D_WEIGHTS) else tensor\n"
                "        for key, tensor in state_dict.items()\n"
                "        if not key.endswith(MASK_BUFFERS)\n"
                "    }\n"
                "    try:\n"
                "        result = model.load_state_dict(converted, strict=False)\n"
                "    except RuntimeError as error:\n"
                "        raise ValueError(str(error)) from None\n"
                "    if result.unexpected_keys:\n"
                '        raise ValueError(f"not parameters of this GPT2: {result.unexpected_keys}")\n',
            ),
        ),
    ),
    # Source: karpathy/build-nanogpt train_gpt2.py (the eighth precision pass, 2026-12-06).
    Variant(
        "scaled-init-by-a-flag-like-build-nanogpt",
        "s11_gpt2",
        "marks the residual projections with a NANOGPT_SCALE_INIT flag and scales their std by it",
        (
            replaced(
                "s11_gpt2",
                "GPT2Attention.__init__",
                """
def __init__(self, n_embd, n_head, block_size, dropout=0.0):
    super().__init__(n_embd, n_head, block_size, dropout)
    self.c_attn = nn.Linear(n_embd, 3 * n_embd)
    self.c_proj.NANOGPT_SCALE_INIT = 1
""",
            ),
            replaced(
                "s11_gpt2",
                "GPT2MLP.__init__",
                """
def __init__(self, n_embd, dropout=0.0):
    super().__init__()
    self.c_fc = nn.Linear(n_embd, 4 * n_embd)
    self.gelu = nn.GELU(approximate="tanh")
    self.c_proj = nn.Linear(4 * n_embd, n_embd)
    self.c_proj.NANOGPT_SCALE_INIT = 1
    self.dropout = nn.Dropout(dropout)
""",
            ),
            replaced(
                "s11_gpt2",
                "GPT2MLP.forward",
                """
def forward(self, x):
    return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))
""",
            ),
            replaced(
                "s11_gpt2",
                "GPT2.__init__",
                """
def __init__(self, config):
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

    # weight sharing scheme
    self.transformer.wte.weight = self.lm_head.weight
    self.apply(self._init_weights)
""",
            ),
            replaced(
                "s11_gpt2",
                "GPT2._init_weights",
                """
def _init_weights(self, module):
    if isinstance(module, nn.Linear):
        std = 0.02
        if hasattr(module, "NANOGPT_SCALE_INIT"):
            std *= (2 * self.config.n_layer) ** -0.5
        torch.nn.init.normal_(module.weight, mean=0.0, std=std)
        if module.bias is not None:
            torch.nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
""",
            ),
        ),
    ),
    # Source: karpathy/nanoGPT model.py (the eighth precision pass, 2026-12-06).
    Variant(
        "attention-written-out-with-a-bias-buffer",
        "s11_gpt2",
        "registers nanoGPT's tril as a buffer named bias and writes the attention out",
        (
            replaced(
                "s11_gpt2",
                "GPT2Attention",
                """
class GPT2Attention(CausalSelfAttention):
    def __init__(self, n_embd, n_head, block_size, dropout=0.0):
        super().__init__(n_embd, n_head, block_size, dropout)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.attn_dropout = nn.Dropout(dropout)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "loader-fills-the-head-and-loads-strictly",
        "s11_gpt2",
        "fills the head from wte and loads with load_state_dict(strict=True), raising ValueError for its RuntimeError",
        (
            replaced(
                "s11_gpt2",
                "load_gpt2_state_dict",
                """
def load_gpt2_state_dict(model, state_dict):
    converted = {}
    for key, tensor in state_dict.items():
        if key.endswith(MASK_BUFFERS):
            continue
        converted[key] = tensor.t() if key.endswith(CONV1D_WEIGHTS) else tensor
    if "lm_head.weight" not in converted and "transformer.wte.weight" in converted:
        converted["lm_head.weight"] = converted["transformer.wte.weight"]
    try:
        model.load_state_dict(converted, strict=True)
    except RuntimeError as error:
        raise ValueError(str(error)) from error
    return model
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "mlp-as-the-lectures-sequential",
        "s11_gpt2",
        "keeps c_fc, GELU, c_proj and the dropout in an nn.Sequential, as the lecture's FeedForward",
        (
            replaced(
                "s11_gpt2",
                "GPT2MLP.__init__",
                """
def __init__(self, n_embd, dropout=0.0):
    super().__init__()
    self.c_fc = nn.Linear(n_embd, 4 * n_embd)
    self.c_proj = nn.Linear(4 * n_embd, n_embd)
    self.net = nn.Sequential(self.c_fc, nn.GELU(approximate="tanh"), self.c_proj, nn.Dropout(dropout))
""",
            ),
            replaced(
                "s11_gpt2",
                "GPT2MLP.forward",
                """
def forward(self, x):
    return self.net(x)
""",
            ),
        ),
    ),
    # The third precision pass of 2026-12-07: the tokens as the rows of one matrix. The tests compared views of
    # different shapes (and blamed something between c_proj and the dropout), and the grader's dropout drew
    # another mask for a (B*T, C) input.
    Variant(
        "mlp-on-flattened-tokens",
        "s11_gpt2",
        "runs c_fc, GELU, c_proj and dropout on the tokens flattened to (B*T, C) and gives back (B, T, C)",
        (
            replaced(
                "s11_gpt2",
                "GPT2MLP.forward",
                """
def forward(self, x):
    shape = x.shape
    h = x.reshape(-1, shape[-1])
    h = F.gelu(self.c_fc(h), approximate="tanh")
    h = self.dropout(self.c_proj(h))
    return h.view(shape)
""",
            ),
        ),
    ),
    Variant(
        "mlp-on-flattened-tokens-dropped-as-three-dims",
        "s11_gpt2",
        "runs c_fc, GELU and c_proj on the tokens flattened to (B*T, C), then drops them as (B, T, C)",
        (
            replaced(
                "s11_gpt2",
                "GPT2MLP.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    h = F.gelu(self.c_fc(x.view(B * T, C)), approximate="tanh")
    return self.dropout(self.c_proj(h).view(B, T, C))
""",
            ),
        ),
    ),
    # The fourth precision pass of 2026-12-07: the embeddings summed and dropped as (B*T, C) rows; the test looked for
    # a dropout on a (B, T, C) tensor only.
    Variant(
        "embeddings-dropped-as-flattened-tokens",
        "s11_gpt2",
        "sums and drops the embeddings of the tokens flattened to (B*T, C), then views them as (B, T, C)",
        (
            (
                "        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))",
                "        x = self.transformer.wte(idx.view(-1)) + self.transformer.wpe(positions).repeat(B, 1)\n"
                "        x = self.transformer.drop(x).view(B, T, -1)",
            ),
        ),
    ),
    # The MLP through F.linear with c_fc's and c_proj's own parameters: the tests looked only for a call of
    # c_proj and said it "never called its c_proj".
    Variant(
        "mlp-through-f-linear",
        STAGE,
        "runs its MLP's c_fc and c_proj through F.linear with their own parameters",
        (
            (
                'return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))',
                'hidden = F.gelu(F.linear(x, self.c_fc.weight, self.c_fc.bias), approximate="tanh")\n'
                "        return self.dropout(F.linear(hidden, self.c_proj.weight, self.c_proj.bias))",
            ),
        ),
    ),
    # Source: my last note's list (2026-12-07): a layer's weight multiplied by hand was not seen as the layer.
    Variant(
        "mlp-by-hand",
        STAGE,
        "multiplies by its MLP's weights by hand, x @ weight.T + bias",
        (
            (
                'return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))',
                'hidden = F.gelu(x @ self.c_fc.weight.T + self.c_fc.bias, approximate="tanh")\n'
                "        return self.dropout(hidden @ self.c_proj.weight.T + self.c_proj.bias)",
            ),
        ),
    ),
    # Source: a precision pass (2026-12-07): more products by hand, told the MLP "never called its c_proj".
    Variant(
        "mlp-with-tensordot-and-mm",
        STAGE,
        "widens with torch.tensordot and projects its (B*T, 4C) rows with torch.mm, adding each bias after",
        (
            (
                'return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))',
                "wide = torch.tensordot(x, self.c_fc.weight, dims=([-1], [1])) + self.c_fc.bias\n"
                '        hidden = F.gelu(wide, approximate="tanh").flatten(0, -2)\n'
                "        projected = torch.mm(hidden, self.c_proj.weight.t()) + self.c_proj.bias\n"
                "        return self.dropout(projected.view(*x.shape[:-1], -1))",
            ),
        ),
    ),
    # Source: a red-team pass (2026-12-07): the grader's check took the gradients in eval mode, where this model builds
    # no graph, and scored the honest stage 0 as forged; its test trains in training mode.
    Variant(
        "gpt2-builds-no-graph-in-eval-mode",
        STAGE,
        "builds no autograd graph in eval mode: torch.set_grad_enabled(self.training and torch.is_grad_enabled())",
        (
            (
                "        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))\n"
                "        for block in self.transformer.h:\n"
                "            x = block(x)\n"
                "        logits = self.lm_head(self.transformer.ln_f(x))\n",
                "        with torch.set_grad_enabled(self.training and torch.is_grad_enabled()):  # no graph in eval\n"
                "            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))\n"
                "            for block in self.transformer.h:\n"
                "                x = block(x)\n"
                "            logits = self.lm_head(self.transformer.ln_f(x))\n",
            ),
        ),
    ),
]
