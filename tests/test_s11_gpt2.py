"""Stage 11 · GPT-2 itself. The graded implementation's own LayerNorm (stage 7) and CausalSelfAttention
(stage 9) are used; the oracle is Hugging Face's GPT2LMHeadModel, built from a small GPT2Config with
random weights (nothing is downloaded), through a record of what it computes (hugging_face_gpt2.pt)."""

import copy
import dataclasses
import functools
import math
from pathlib import Path

import pytest
import torch
from feedback import close, expect_equal_tensors, expect_value_error, fail, rearranged_like, show, time_major_hint
from strategies import random_floats, random_tokens
from support import (
    attention_by_hand,
    expect_dropout_last,
    expect_every_parameter_learns,
    expect_tensors_on_the_inputs_device,
    fixed_seed,
    recorded_dropout,
    recorded_fused_attention,
    shapes_only,
)
from torch import nn
from torch.nn import functional as F

from kata.implementation import StageModule

stage = StageModule("s11_gpt2")
fast = StageModule("s09_fast_attention")

GPT2_SMALL = dict(vocab_size=50257, block_size=1024, n_embd=768, n_head=12, n_layer=12, dropout=0.0)
GPT2_SMALL_PARAMETERS = 124_439_808  # GPT2LMHeadModel(GPT2Config()), the head tied to the token embedding
TINY = dict(vocab_size=50, block_size=16, n_embd=32, n_head=4, n_layer=2, dropout=0.0)
CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


RECORD = Path(__file__).with_name("hugging_face_gpt2.pt")
# (seed, shape of idx): Hugging Face's logits on random_tokens(shape, vocab_size, seed) are recorded for each.
RECORDED_CASES = ((0, (2, 16)), (1, (2, 16)), (2, (2, 10)), (3, (1, 12)))


@functools.cache
def hugging_face_record() -> dict:
    """What transformers' GPT2LMHeadModel is and computes at the TINY size: its parameters' names and shapes,
    its state_dict's keys, and its logits on each recorded case. Importing transformers takes 3 s, more than
    this whole stage's tests, so they read this record instead; tests/meta/test_hugging_face_record.py
    rebuilds it with transformers and checks it is what is stored."""
    return torch.load(RECORD, weights_only=True)


def hugging_face_state_dict(seed: int) -> dict[str, torch.Tensor]:
    """The state_dict of a small GPT2LMHeadModel whose every weight, bias and norm is random, so a tensor loaded
    into the wrong place, or not loaded, always shows: each parameter in turn is torch.randn(shape) * 0.3 from
    a generator seeded with `seed`, as hugging_face_gpt2 in the record's rebuilder sets them."""
    record = hugging_face_record()
    generator = torch.Generator().manual_seed(seed)
    parameters = {name: torch.randn(shape, generator=generator) * 0.3 for name, shape in record["parameters"]}
    return {key: parameters[record["tied"].get(key, key)] for key in record["state_dict"]}


def hugging_face_case(seed: int, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tokens of `shape`, and the logits GPT2LMHeadModel(small config) with hugging_face_state_dict(seed)
    computes on them, as recorded (a case missing from RECORDED_CASES raises KeyError)."""
    return recorded_tokens(seed, shape), hugging_face_record()["logits"][record_case(seed, shape)]


def record_case(seed: int, shape: tuple[int, ...]) -> str:
    return f"seed {seed}, idx {tuple(shape)}"


def recorded_tokens(seed: int, shape) -> torch.Tensor:
    return random_tokens(tuple(shape), TINY["vocab_size"], seed)


def tiny_gpt2(seed: int = 0, **changes):
    with fixed_seed(seed):
        return stage.GPT2(stage.GPT2Config(**{**TINY, **changes})).eval()


def loaded_gpt2(seed: int):
    model = tiny_gpt2(seed)  # the learner's code first: a stub fails at once
    state_dict = hugging_face_state_dict(seed)
    returned = loaded_into(model, state_dict)
    if not isinstance(returned, nn.Module):
        fail(f"load_gpt2_state_dict(model, state_dict) should return the model it loaded into, got {returned!r}")
    if returned is not model:
        fail(
            "load_gpt2_state_dict(model, state_dict) returned another model than the one it was given, which keeps "
            "the weights it was built with",
            "Copy the checkpoint into the given model's own parameters (in place, under torch.no_grad()) and return "
            "that model: nanoGPT's from_pretrained builds a new one, which this function must not.",
        )
    return model, state_dict


def loaded_into(model, state_dict: dict):
    """load_gpt2_state_dict(model, state_dict) of a checkpoint that fits; where it refuses lm_head.weight, say why."""
    try:
        return stage.load_gpt2_state_dict(model, state_dict)
    except ValueError as error:
        if "lm_head.weight" not in str(error):
            raise
        head = state_dict.get("lm_head.weight")
        transposed = head is not None and f"{tuple(head.shape[::-1])}" in str(error).replace("torch.Size(", "")
        fail(
            f"load_gpt2_state_dict(model, state_dict) raised ValueError: {error}",
            "lm_head.weight came out transposed: transpose only the four Conv1D weights (attn.c_attn, attn.c_proj, "
            "mlp.c_fc, mlp.c_proj), which Hugging Face keeps as (in, out); lm_head and the embeddings are stored as "
            "this model's are."
            if transposed
            else "model.named_parameters() lists the matrix that wte and lm_head share once, as "
            "transformer.wte.weight, while a checkpoint (as model.state_dict()) holds it under both keys: accept "
            "lm_head.weight, copying it into that matrix or skipping it.",
        )


SHARED_MATRIX = (
    "The head shares the token embedding: a checkpoint may hold that matrix under either key, so count as missing "
    "only the parameters the model has (model.named_parameters() lists the shared one once)."
)


def whole_checkpoint_first() -> str:
    """Where the loader refuses the whole checkpoint too, that refusal is the mistake (its own test says why)."""
    try:
        stage.load_gpt2_state_dict(tiny_gpt2(3), hugging_face_state_dict(3))
    except Exception as error:
        return (
            f"It refuses the whole checkpoint too, lm_head.weight included ({type(error).__name__}: {error}): fix "
            "that first, as test_logits_equal_hugging_faces_after_loading_its_state_dict says."
        )
    return ""


def loading_diagnosis(model, state_dict) -> str:
    """Which parameter does not hold what the checkpoint says, and how."""
    own = dict(model.named_parameters())
    for key, tensor in state_dict.items():
        if key not in own:
            continue
        expected = tensor.t() if key.endswith(CONV1D_WEIGHTS) else tensor
        got = own[key].detach()
        if got.shape == expected.shape and torch.equal(got, expected):
            continue
        if key.endswith(CONV1D_WEIGHTS) and got.shape == tensor.shape and torch.equal(got, tensor):
            return f"{key} holds the checkpoint's matrix untransposed: Conv1D weights are (in, out), copy tensor.t()."
        if key.endswith(".attn.c_attn.bias"):
            return f"{key} was not loaded: it ends in 'attn.bias' but is a real weight; skip only '.attn.bias'."
        return f"{key} does not hold the checkpoint's values after loading."
    return ""


NO_POSITIONS = (
    "the position embedding is never added: x = self.transformer.drop(tok_emb + pos_emb), with "
    "pos_emb = self.transformer.wpe(torch.arange(T, device=idx.device))."
)


def architecture_diagnosis(model) -> str:
    block = model.transformer.h[0]
    if model.lm_head.weight is not model.transformer.wte.weight:
        return "lm_head must share the token embedding's matrix: self.lm_head.weight = self.transformer.wte.weight."
    if ignores_positions(model):
        return f"The logits stay the same when wpe's weights change: {NO_POSITIONS}"
    if wrong_attention := attention_diagnosis(block.attn):
        return wrong_attention
    x = random_floats((1, 3, TINY["n_embd"]), 0)
    with torch.no_grad():
        hidden = block.mlp.c_fc(x)
        if torch.allclose(block.mlp(x), block.mlp.c_proj(F.gelu(hidden)), atol=1e-6):
            return "The MLP uses the exact (erf) GELU: GPT-2 uses the tanh approximation, approximate='tanh'."
        if torch.allclose(block.mlp(x), block.mlp.c_proj(F.relu(hidden)), atol=1e-6):
            return "The MLP uses ReLU, the lecture's choice: GPT-2 uses GELU, F.gelu(x, approximate='tanh')."
    return ""


def tanh_constant_diagnosis(got, hidden, c_proj) -> str:
    """GELU's tanh approximation written out (minGPT's NewGELU) with one of its constants mistyped."""
    right = "0.5 * x * (1 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))"
    slips = (
        ((2 * math.pi) ** 0.5, 0.044715, "sqrt(2 * pi) inside the tanh, where it is sqrt(2 / pi)"),
        (math.pi / 2, 0.044715, "pi / 2 inside the tanh, where it is sqrt(2 / pi)"),
        (2 / math.pi, 0.044715, "2 / pi inside the tanh without its square root"),
        ((2 / math.pi) ** 0.5, 0.44715, "0.44715 for the cube's factor, where it is 0.044715"),
    )
    for scale, cubic, slip in slips:
        written = 0.5 * hidden * (1 + torch.tanh(scale * (hidden + cubic * hidden**3)))
        if torch.allclose(got, c_proj(written), atol=1e-6):
            return f"This is GELU's tanh approximation with {slip}: {right}, or F.gelu(x, approximate='tanh')."
    return ""


def causal_attention_by_hand(attention, x: torch.Tensor) -> torch.Tensor:
    """Causal self-attention from c_attn and c_proj, biases included, in float64, TINY's heads."""
    B, T, C = x.shape
    head_size = C // TINY["n_head"]
    weights = {
        name: (layer.weight.double(), layer.bias.double())
        for name, layer in (("qkv", attention.c_attn), ("out", attention.c_proj))
    }
    q, k, v = (x.double() @ weights["qkv"][0].T + weights["qkv"][1]).split(C, dim=2)
    q, k, v = (t.view(B, T, TINY["n_head"], head_size).transpose(1, 2) for t in (q, k, v))
    y = attention_by_hand(q, k, v).transpose(1, 2).reshape(B, T, C)
    return y @ weights["out"][0].T + weights["out"][1]


def attention_diagnosis(attention) -> str:
    """Where a block's attention does not compute causal attention from c_attn and c_proj, say whose code that is:
    stage 9's forward, which GPT2Attention inherits, or GPT2Attention's own."""
    x, was_training = random_floats((2, 5, TINY["n_embd"]), 4), attention.training
    try:
        with torch.no_grad():
            right = close(attention.eval()(x), causal_attention_by_hand(attention, x), 1e-5)
    except Exception:  # no biases, or parts by other names: the tests of the parts say so
        return ""
    finally:
        attention.train(was_training)
    if right:
        return ""
    if type(attention).forward is fast.CausalSelfAttention.forward:
        return (
            "Your CausalSelfAttention (stage 9), whose forward GPT2Attention inherits, does not compute causal "
            "attention from c_attn and c_proj: make `pytest -m s09_fast_attention` pass first."
        )
    return (
        "GPT2Attention's own forward does not compute causal attention from c_attn and c_proj, biases included: "
        "inherit CausalSelfAttention's."
    )


def ignores_positions(model) -> bool:
    """Whether the model's logits stay the same when its position embedding changes."""
    idx, moved = random_tokens((1, 4), TINY["vocab_size"], 0), copy.deepcopy(model)
    try:
        with torch.no_grad():
            # random, not a constant: the layer norms take out a shift shared by every feature
            moved.transformer.wpe.weight.add_(random_floats(tuple(moved.transformer.wpe.weight.shape), 1))
            return close(moved(idx)[0], model(idx)[0], 1e-6)
    except Exception:  # a model that does not run on this input: the tests that call it say why
        return False


def mask_buffers_diagnosis() -> str:
    """Blame the mask buffers only where the same model loads Hugging Face's weights without them."""
    model, _ = loaded_gpt2(3)
    idx, expected = hugging_face_case(3, (1, 12))
    with torch.no_grad():
        got = model(idx)[0]
    if close(got, expected, 1e-5):
        return "Skip the keys ending in '.attn.bias' or '.attn.masked_bias'."
    return architecture_diagnosis(model) or (
        "The logits are wrong without the mask buffers too: make "
        "test_logits_equal_hugging_faces_after_loading_its_state_dict pass first."
    )


def scaled_in_the_attention(model, scaled: float) -> bool:
    """Whether every attn.c_proj weight of `model` starts with std `scaled`, GPT-2's 0.02 / sqrt(2 * n_layer)."""
    stds = [p.detach().std().item() for name, p in model.named_parameters() if name.endswith("attn.c_proj.weight")]
    return bool(stds) and all(abs(std - scaled) < 0.12 * scaled for std in stds)


class TestConfigAndSize:
    def test_defaults_are_gpt2_small_with_124_439_808_parameters(self):
        got = dataclasses.asdict(stage.GPT2Config())
        if got != GPT2_SMALL:
            fail(f"GPT2Config(): expected GPT-2 small, {GPT2_SMALL}, got {got}")
        with shapes_only():
            model = stage.GPT2(stage.GPT2Config())
        count = sum(parameter.numel() for parameter in model.parameters())
        if count != GPT2_SMALL_PARAMETERS:
            vocab, width = GPT2_SMALL["vocab_size"], GPT2_SMALL["n_embd"]
            likely = {
                vocab * width: "lm_head has a matrix of its own: tie it to the token embedding.",
                vocab: "lm_head has a bias: GPT-2's head has none (bias=False).",
                -GPT2_SMALL["n_layer"] * 3 * width: "c_attn has no bias: GPT-2's has one.",
                (width - GPT2_SMALL["block_size"]) * width: "The position table has n_embd rows: it needs one per "
                "position, nn.Embedding(config.block_size, config.n_embd).",
            }
            fail(
                f"GPT2(GPT2Config()) should have {GPT2_SMALL_PARAMETERS:,} parameters, as GPT-2 small does; "
                f"got {count:,} ({count - GPT2_SMALL_PARAMETERS:+,})",
                likely.get(count - GPT2_SMALL_PARAMETERS, ""),
            )


class TestParts:
    def test_attention_is_your_stage_9_attention_with_biases(self):
        with fixed_seed(0):
            attention = stage.GPT2Attention(32, 4, 16)
        if not isinstance(attention, fast.CausalSelfAttention):
            fail(
                "GPT2Attention should subclass your CausalSelfAttention from stage 9: "
                "class GPT2Attention(CausalSelfAttention)"
            )
        c_attn, c_proj = attention.c_attn, attention.c_proj
        if tuple(c_attn.weight.shape) != (96, 32) or c_attn.bias is None or c_proj.bias is None:
            fail(
                f"GPT2Attention(32, 4, 16): expected c_attn = nn.Linear(32, 96) and c_proj = nn.Linear(32, 32), "
                f"both with a bias; got {c_attn!r} and {c_proj!r}"
            )

    def test_mlp_is_gelu_tanh_between_c_fc_and_c_proj(self):
        with fixed_seed(1):
            mlp = stage.GPT2MLP(8).eval()
        x = random_floats((2, 5, 8), 1) * 2
        with torch.no_grad():
            hidden = mlp.c_fc(x)
            expected = mlp.c_proj(F.gelu(hidden, approximate="tanh"))
            got = mlp(x)
        hint = (
            "Expected c_proj(gelu(c_fc(x), approximate='tanh')) with c_fc = nn.Linear(8, 32) and "
            "c_proj = nn.Linear(32, 8)."
        )
        if isinstance(got, torch.Tensor) and got.shape == expected.shape:
            if torch.allclose(got, mlp.c_proj(F.gelu(hidden)), atol=1e-6):
                hint = "This is the exact (erf) GELU: GPT-2 uses the tanh approximation, F.gelu(x, approximate='tanh')."
            elif torch.allclose(got, mlp.c_proj(F.relu(hidden)), atol=1e-6):
                hint = "This is ReLU, the lecture's choice: GPT-2 uses GELU, F.gelu(x, approximate='tanh')."
            else:
                hint = tanh_constant_diagnosis(got, hidden, mlp.c_proj) or hint
        expect_equal_tensors(
            got.detach(), expected.detach(), "GPT2MLP(8) on x of shape (2, 5, 8)", atol=1e-6, hint=hint
        )

    def test_block_is_pre_norm_with_gpt2_names(self):
        with fixed_seed(2):
            block = stage.GPT2Block(stage.GPT2Config(**TINY)).eval()
        x = random_floats((2, 6, 32), 2)
        with torch.no_grad():
            after_attention = x + block.attn(block.ln_1(x))
            expected = after_attention + block.mlp(block.ln_2(after_attention))
            got = block(x)
        expect_equal_tensors(
            got,
            expected,
            "GPT2Block(config) on x of shape (2, 6, 32)",
            atol=1e-6,
            hint="Expected x + attn(ln_1(x)), then x + mlp(ln_2(x)), with GPT-2's names ln_1, attn, ln_2, mlp.",
        )

    def test_config_dropout_reaches_the_embeddings_and_every_block(self):
        model, idx = tiny_gpt2(7, dropout=0.5).train(), random_tokens((2, 5), TINY["vocab_size"], 7)
        with torch.no_grad():
            tokens_alone, positions_alone = model.transformer.wte(idx), model.transformer.wpe(torch.arange(5))
            embedded = tokens_alone + positions_alone
        with fixed_seed(0), recorded_dropout() as calls:
            model(idx)
        if any(call.active and rearranged_like(call.input, tokens_alone, 1e-6) for call in calls):
            if any(call.active and rearranged_like(call.input, positions_alone, 1e-6) for call in calls):
                fail(
                    "GPT2(config with dropout=0.5) drops wte(idx) and wpe(positions) apart, then adds them: drop "
                    "their sum, x = self.transformer.drop(tok_emb + pos_emb), as GPT-2 does"
                )
            if ignores_positions(model.eval()):
                fail(f"GPT2(config with dropout=0.5) drops wte(idx) alone: {NO_POSITIONS}")
            fail(
                "GPT2(config with dropout=0.5) drops wte(idx) alone and adds wpe(positions) after the dropout: drop "
                "their sum, x = self.transformer.drop(tok_emb + pos_emb), as GPT-2 does"
            )
        if not any(call.active and call.p == 0.5 and rearranged_like(call.input, embedded, 1e-6) for call in calls):
            fail(
                "GPT2(config with dropout=0.5) in training mode applies no dropout of p=0.5 to wte(idx) + "
                "wpe(positions): x = self.transformer.drop(tok_emb + pos_emb), as GPT-2 does"
            )
        for number, block in enumerate(model.transformer.h):
            call = f"GPT2(config with dropout=0.5): block {number}'s"
            x = random_floats((2, 5, TINY["n_embd"]), number)
            with fixed_seed(0), recorded_dropout() as dropped, recorded_fused_attention() as fused:
                block.attn.train()(x)
            if not any(d.active and d.p == 0.5 for d in dropped) and all(f.get("dropout_p") != 0.5 for f in fused):
                fail(f"{call} attn applies no dropout of p=0.5 in training mode: pass config.dropout to GPT2Attention")
            expect_dropout_last(block.mlp, x, block.mlp.c_proj, f"{call} mlp", "c_proj", p=0.5)
        model.eval()
        with torch.no_grad(), fixed_seed(0):
            first = model(idx)[0]
        with torch.no_grad(), fixed_seed(1):
            second = model(idx)[0]
        if not torch.equal(first, second):
            fail(
                "GPT2(config with dropout=0.5) in eval mode gave other logits for the same idx on a second call: "
                "something still drops after model.eval(). nn.Dropout turns itself off; F.dropout needs "
                "training=self.training"
            )

    def test_head_shares_the_token_embedding_and_has_no_bias(self):
        model = tiny_gpt2(3)
        if model.lm_head.weight is not model.transformer.wte.weight:
            fail(
                "GPT2: lm_head.weight should be the very Parameter transformer.wte.weight (GPT-2 ties them): "
                "self.lm_head.weight = self.transformer.wte.weight"
            )
        if model.lm_head.bias is not None:
            fail("GPT2: lm_head should have no bias: nn.Linear(n_embd, vocab_size, bias=False)")

    def test_initialisation_is_gpt2s(self):
        n_layer = 4
        with fixed_seed(4):
            model = stage.GPT2(stage.GPT2Config(vocab_size=200, block_size=64, n_embd=64, n_head=4, n_layer=n_layer))
        scaled = 0.02 / math.sqrt(2 * n_layer)
        # the MLPs' first weights drawn with std 0.02: _init_weights ran, and only the embeddings may have been missed
        initialised = all(
            abs(parameter.detach().std().item() - 0.02) < 0.12 * 0.02
            for name, parameter in model.named_parameters()
            if name.endswith("c_fc.weight")
        )
        for name, parameter in model.named_parameters():
            if name.endswith("bias") and "ln_" not in name:
                expected, what = 0.0, "zeros"
            elif "ln_" in name:
                expected, what = (1.0 if name.endswith("weight") else 0.0), "ones and zeros, as LayerNorm starts"
            else:
                expected = scaled if name.endswith("c_proj.weight") else 0.02
                std = parameter.detach().std().item()
                if abs(std - expected) > 0.12 * expected:
                    reason = (
                        "Every projection that adds to the residual stream (names ending in c_proj.weight) starts with "
                        f"std 0.02 / sqrt(2 * n_layer) = {scaled:.5f}; every other weight with std 0.02"
                    )
                    if (
                        initialised
                        and abs(std - 1.0) < 0.12
                        and name.startswith(("transformer.wte", "transformer.wpe"))
                    ):
                        reason = (
                            "A std of 1 is nn.Embedding's default, N(0, 1): initialise the embeddings with std 0.02 "
                            "too, as _init_weights does for every nn.Embedding"
                        )
                    if name.endswith("c_proj.weight") and abs(std - 0.02) < 0.12 * 0.02:
                        reason = (
                            "That is the 0.02 that self.apply(self._init_weights) gives every Linear: after it, draw "
                            "the c_proj weights again with std 0.02 / sqrt(2 * n_layer) (drawn before it, they are "
                            "drawn over)"
                        )
                        if name.endswith("mlp.c_proj.weight") and scaled_in_the_attention(model, scaled):
                            reason = (
                                "The attention's c_proj starts scaled, the MLP's does not: both add to the residual "
                                "stream, so draw every weight whose name ends in c_proj.weight (attn.c_proj and "
                                "mlp.c_proj) with std 0.02 / sqrt(2 * n_layer)"
                            )
                    fail(f"GPT2 with n_layer={n_layer}: {name} has std {std:.5f}, expected {expected:.5f}", reason)
                continue
            if not torch.all(parameter == expected):
                scaled_bias = (
                    name.endswith("c_proj.bias") and abs(parameter.detach().std().item() - scaled) < 0.2 * scaled
                )
                fail(
                    f"GPT2: {name} should start as {what}",
                    "The scaled initialisation is for the weights alone: test name.endswith('c_proj.weight'), not "
                    "'c_proj' in name."
                    if scaled_bias
                    else "",
                )


class TestAgainstHuggingFace:
    @pytest.mark.parametrize("seed", [0, 1])
    def test_logits_equal_hugging_faces_after_loading_its_state_dict(self, seed):
        model, state_dict = loaded_gpt2(seed)
        idx, expected = hugging_face_case(seed, (2, TINY["block_size"]))
        with torch.no_grad():
            got = model(idx)[0]
        hint = loading_diagnosis(model, state_dict) or architecture_diagnosis(model)
        call = (
            "GPT2(config) after load_gpt2_state_dict(model, GPT2LMHeadModel(small config).state_dict()), on idx (2, 16)"
        )
        expect_equal_tensors(got, expected, call, atol=1e-5, hint=hint)

    def test_the_loss_is_the_mean_cross_entropy_of_the_same_logits(self):
        model, state_dict = loaded_gpt2(2)
        idx, expected_logits = hugging_face_case(2, (2, 10))
        targets = random_tokens((2, 10), TINY["vocab_size"], 3)
        expected_logits = expected_logits.view(20, -1)
        with torch.no_grad():
            logits, loss = model(idx, targets)
        unflattened = isinstance(logits, torch.Tensor) and tuple(logits.shape) == (2, 10, TINY["vocab_size"])
        expect_equal_tensors(
            logits,
            expected_logits,
            "GPT2 after loading, model(idx, targets): the logits",
            atol=1e-5,
            hint="With targets, return the logits flattened to (B*T, V), as your GPT does."
            if unflattened
            else time_major_hint(logits, expected_logits.view(2, 10, -1), 1e-5)
            or loading_diagnosis(model, state_dict)
            or architecture_diagnosis(model),
        )
        expected_loss = F.cross_entropy(expected_logits, targets.view(20))
        by_position = expected_logits.view(2, 10, -1)
        shifted = F.cross_entropy(by_position[:, :-1].reshape(18, -1), targets[:, 1:].reshape(18))
        hint = ""
        if isinstance(loss, torch.Tensor) and close(loss, expected_loss * 20, 1e-3):
            hint = "That is the sum over the 20 positions: the loss is their mean, as F.cross_entropy gives by default."
        elif isinstance(loss, torch.Tensor) and close(loss, shifted, 1e-5):
            hint = (
                "That pairs each position with the target after its own, as Hugging Face's labels do: here targets "
                "already hold the next tokens (y is x one token later), so compare logits and targets unshifted."
            )
        expect_equal_tensors(
            loss, expected_loss, "GPT2 after loading, model(idx, targets): the loss", atol=1e-5, hint=hint
        )

    def test_every_parameter_learns_from_the_loss(self):
        with fixed_seed(4):
            model = stage.GPT2(stage.GPT2Config(**TINY)).train()
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():  # weights of its own: a zero the initialisation leaves would stop a gradient too
            for parameter in model.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
        idx, targets = random_tokens((2, 6), TINY["vocab_size"], 4), random_tokens((2, 6), TINY["vocab_size"], 5)
        output = model(idx, targets)
        loss = output[1] if isinstance(output, tuple) and len(output) == 2 else None
        if not isinstance(loss, torch.Tensor):
            fail(f"GPT2: model(idx, targets) should return (logits, loss), got {show(output)}")
        expect_every_parameter_learns(model, loss, "GPT2(config).train(), model(idx of shape (2, 6), targets)")

    def test_loads_a_state_dict_without_the_head_key(self):
        state_dict = hugging_face_state_dict(3)
        del state_dict["lm_head.weight"]  # the Hub's model.safetensors keeps the shared matrix once, as wte
        call = "load_gpt2_state_dict(model, a state dict without lm_head.weight)"
        try:
            model = stage.load_gpt2_state_dict(tiny_gpt2(3), state_dict)
        except ValueError as error:
            fail(f"{call} raised ValueError: {error}", whole_checkpoint_first() or SHARED_MATRIX)
        idx, expected = hugging_face_case(3, (1, 12))
        hint = loading_diagnosis(model, state_dict) or architecture_diagnosis(model)
        if hint.startswith("transformer.wte.weight does not hold"):
            hint += " Without lm_head.weight, the checkpoint's transformer.wte.weight is the shared matrix: load it."
        with torch.no_grad():
            expect_equal_tensors(model(idx)[0], expected, f"GPT2 after {call}, on idx (1, 12)", atol=1e-5, hint=hint)

    def test_loads_an_older_transformers_state_dict_with_mask_buffers(self):
        model = tiny_gpt2(3)
        state_dict = hugging_face_state_dict(3)
        block_size = TINY["block_size"]
        for layer in range(TINY["n_layer"]):  # what transformers 4.x saved besides the weights
            state_dict[f"transformer.h.{layer}.attn.bias"] = torch.ones(1, 1, block_size, block_size).tril().bool()
            state_dict[f"transformer.h.{layer}.attn.masked_bias"] = torch.tensor(-1e4)
        model = loaded_into(model, state_dict)
        idx, expected = hugging_face_case(3, (1, 12))
        with torch.no_grad():
            got = model(idx)[0]
        hint = "" if close(got, expected, 1e-5) else loading_diagnosis(model, state_dict) or mask_buffers_diagnosis()
        expect_equal_tensors(
            got,
            expected,
            "GPT2 after loading a state_dict that also holds attn.bias and attn.masked_bias mask buffers",
            atol=1e-5,
            hint=hint,
        )

    def test_leaves_the_state_dict_it_was_given_as_it_was(self):
        state_dict = hugging_face_state_dict(4)
        before = {key: tensor.clone() for key, tensor in state_dict.items()}
        model = tiny_gpt2(4)
        loaded_into(model, state_dict)
        changed = sorted(key for key in before if not torch.equal(state_dict[key], before[key]))
        if changed or set(state_dict) != set(before):
            fail(
                f"load_gpt2_state_dict(model, state_dict) changed the state dict it was given ({', '.join(changed)})",
                "transpose into a new tensor (tensor.t()) and copy that into the model's parameter: the caller's "
                "checkpoint must load the same way a second time",
            )
        with torch.no_grad():  # what an optimizer's step does to the loaded model
            for parameter in model.parameters():
                parameter.add_(1.0)
        changed = sorted(key for key in before if not torch.equal(state_dict[key], before[key]))
        if changed:
            fail(
                "After load_gpt2_state_dict(model, state_dict), changing the model's parameters in place (as an "
                f"optimizer's step does) changed the state dict it was given ({', '.join(changed[:3])}"
                + (", ..." if len(changed) > 3 else "")
                + ")",
                "The model's parameters share memory with the checkpoint (param.data = tensor keeps the caller's "
                "tensor): copy the values in, param.copy_(tensor) under torch.no_grad(), so that training the model "
                "leaves the checkpoint as it was.",
            )

    def test_the_loaded_model_can_still_learn(self):
        model = tiny_gpt2(4)
        loaded_into(model, hugging_face_state_dict(4))
        frozen = [name for name, parameter in model.named_parameters() if not parameter.requires_grad]
        if frozen:
            fail(
                f"After load_gpt2_state_dict(model, state_dict), {len(frozen)} of the model's parameters no longer "
                f"require a gradient ({', '.join(frozen[:3])}{', ...' if len(frozen) > 3 else ''}), so it cannot be "
                "trained further",
                "Copy the weights in under torch.no_grad(), which leaves each parameter's requires_grad as it was; "
                "never call requires_grad_(False) on the model.",
            )

    def test_rejects_a_state_dict_that_does_not_fit(self):
        models = [tiny_gpt2(4), tiny_gpt2(4), tiny_gpt2(4)]
        state_dict = hugging_face_state_dict(4)
        extra_layer = f"transformer.h.{TINY['n_layer']}.ln_1.weight"  # from a checkpoint with one more block
        wrong = [
            (
                "one of another vocabulary size",
                {**state_dict, "transformer.wte.weight": torch.zeros(51, TINY["n_embd"])},
            ),
            ("one without ln_f", {k: v for k, v in state_dict.items() if not k.startswith("transformer.ln_f")}),
            (f"one with a block more ({extra_layer})", {**state_dict, extra_layer: torch.ones(TINY["n_embd"])}),
        ]
        for model, (what, candidate) in zip(models, wrong, strict=True):
            expect_value_error(
                lambda model=model, candidate=candidate: stage.load_gpt2_state_dict(model, candidate),
                f"load_gpt2_state_dict(model, {what})",
                "name the key; a checkpoint that does not fit must never leave random weights behind silently",
            )

    def test_makes_its_positions_on_the_inputs_device(self):
        model, idx = tiny_gpt2(6), random_tokens((2, 5), TINY["vocab_size"], 6)
        expect_tensors_on_the_inputs_device(lambda: model(idx, idx), "GPT2 forward on idx of shape (2, 5)")

    def test_rejects_a_sequence_longer_than_block_size(self):
        model, idx = tiny_gpt2(5), random_tokens((1, TINY["block_size"] + 1), TINY["vocab_size"], 5)
        call = "GPT2 with block_size 16 on 17 tokens"
        expect_value_error(lambda: model(idx), call, "there is no position embedding for 16")
