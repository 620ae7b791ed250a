"""Stage 9 · Fast attention. The graded implementation's own stages 6 to 8 are used."""

import copy
import math

import torch
from feedback import close, expect_equal_tensors, expect_value_error, fail, times
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import random_floats, random_tokens, seeds
from support import (
    attention_by_hand,
    expect_dropout_last,
    fixed_seed,
    recorded_dropout,
    recorded_forward,
    recorded_fused_attention,
)
from torch import nn

from kata.implementation import StageModule
from kata.torch_calls import torchs_layer_norm_runs

stage = StageModule("s09_fast_attention")
transformer = StageModule("s07_transformer")
gpt = StageModule("s08_gpt")

PROJECTIONS = ("query", "key", "value")  # the order c_attn stacks them in


def multihead(n_embd, n_head, block_size, seed, dropout=0.0):
    with fixed_seed(seed):
        return transformer.MultiHeadAttention(n_embd, n_head, block_size, dropout).eval()


def causal_attention(x: torch.Tensor, head) -> torch.Tensor:
    """One head's standard causal attention, from its weights: softmax(q @ k^T * head_size ** -0.5) @ v."""
    return attention_by_hand(*(x.double() @ getattr(head, name).weight.double().T for name in PROJECTIONS))


def expect_standard_multihead(mha, x: torch.Tensor) -> None:
    """A correct CausalSelfAttention computes standard attention; it can only match a MultiHeadAttention that
    does too. Where the learner's earlier stages compute something else, say so instead of blaming this stage."""
    heads, proj = list(getattr(mha, "heads", [])), getattr(mha, "proj", None)
    layers = [getattr(head, name, None) for head in heads for name in PROJECTIONS]
    if not heads or not isinstance(proj, nn.Linear) or not all(isinstance(layer, nn.Linear) for layer in layers):
        fail(
            "Your MultiHeadAttention (stage 7) lacks the heads (each with key, query and value) or the proj that "
            "from_multihead copies. Make `pytest -m s07_transformer` pass first"
        )
    if not close(heads[0](x), causal_attention(x, heads[0]), atol=1e-5):
        fail(
            "Your Head (stage 6) does not compute softmax(q @ k^T * head_size ** -0.5) @ v with a causal mask, "
            "which scaled_dot_product_attention computes: no correct CausalSelfAttention can match it. "
            "Make `pytest -m s06_attention` pass first"
        )
    standard = torch.cat([causal_attention(x, head) for head in heads], dim=-1)
    standard = standard @ proj.weight.double().T + (0.0 if proj.bias is None else proj.bias.double())
    if not close(mha(x), standard, atol=1e-5):
        fail(
            "Your MultiHeadAttention (stage 7) does not compute proj(torch.cat([head(x) for head in heads], dim=-1)) "
            "in eval mode: no correct CausalSelfAttention can match it. Make `pytest -m s07_transformer` pass first"
        )


def fused_diagnosis(attention, x) -> str:
    """Name the mistake of a forward that does not compute what the heads compute, where it can tell."""
    c_proj = getattr(attention, "c_proj", None)
    if not isinstance(c_proj, nn.Module):
        return "CausalSelfAttention needs its output projection as c_proj = nn.Linear(n_embd, n_embd)."
    with recorded_fused_attention() as calls, recorded_forward(c_proj) as projected:
        attention(x)
    if not projected:
        return "The forward never applies c_proj: end with c_proj(y), then the dropout."
    if getattr(c_proj, "bias", None) is None:
        return "c_proj has no bias, so it cannot add mha.proj's: make it nn.Linear(n_embd, n_embd), which has one."
    masks = [call.get("attn_mask") for call in calls if isinstance(call.get("attn_mask"), torch.Tensor)]
    causal = any(call.get("is_causal") for call in calls) or any(mask.dtype == torch.bool for mask in masks)
    changed = x.clone()
    changed[:, 1:] += 1.0
    if x.shape[1] > 1 and not torch.allclose(attention(x)[:, :1], attention(changed)[:, :1], atol=1e-6):
        if not causal and masks:
            return (
                "A float attn_mask is added to the scores, so it masks nothing: torch.tril(torch.ones(T, T)) holds 0 "
                "over the future, not -inf. Pass is_causal=True instead."
            )
        if not causal:
            return "Position 0 changes when later tokens change: pass is_causal=True to scaled_dot_product_attention."
        return (
            "Position 0 changes when later tokens change, although is_causal=True is passed: the heads are split or "
            "joined wrong. Split with q.view(B, T, n_head, head_size).transpose(1, 2), which keeps each position's "
            "features together; join with y.transpose(1, 2).contiguous().view(B, T, C). Viewing (B, T, C) directly "
            "as (B, n_head, T, head_size) mixes positions into heads."
        )
    if any(call.get("scale") is not None for call in calls):
        return "Leave out scale=: scaled_dot_product_attention scales by head_size ** -0.5 by itself, as the heads do."
    return (
        "c_attn(x).split(C, dim=2) gives q, k and v in that order; the heads must be split from C as "
        "(B, T, n_head, head_size), transposed to (B, n_head, T, head_size), and joined back the same way."
    )


def copying_diagnosis(fast, mha) -> str:
    """A hint where from_multihead did not copy mha's weights as test_from_multihead_copies_the_weights wants."""
    stacked = torch.cat([torch.cat([getattr(head, name).weight for head in mha.heads]) for name in PROJECTIONS])
    c_attn, c_proj = getattr(fast, "c_attn", None), getattr(fast, "c_proj", None)
    copied = (
        close(getattr(c_attn, "weight", None), stacked, 0)
        and close(getattr(c_proj, "weight", None), mha.proj.weight, 0)
        and close(getattr(c_proj, "bias", None), mha.proj.bias, 0)
    )
    if copied:
        return ""
    return (
        "from_multihead did not copy mha's weights as it should (test_from_multihead_copies_the_weights says "
        "which): the forward may well be right."
    )


def expect_copied_weights(fast, mha, n_embd: int) -> None:
    """c_attn stacks the heads' query weights, then key weights, then value weights; c_proj is proj."""
    c_attn, c_proj = getattr(fast, "c_attn", None), getattr(fast, "c_proj", None)
    call = f"CausalSelfAttention.from_multihead(MultiHeadAttention({n_embd}, {len(mha.heads)}, ...))"
    if not isinstance(c_attn, nn.Linear) or tuple(c_attn.weight.shape) != (3 * n_embd, n_embd):
        fail(f"{call}.c_attn: expected nn.Linear({n_embd}, {3 * n_embd}, bias=False), got {c_attn!r}")
    stacked = {name: torch.cat([getattr(head, name).weight for head in mha.heads]) for name in PROJECTIONS}
    for part, name in enumerate(PROJECTIONS):
        rows = c_attn.weight[part * n_embd : (part + 1) * n_embd]
        if not torch.equal(rows, stacked[name]):
            held = next((other for other in PROJECTIONS if torch.equal(rows, stacked[other])), None)
            # each head's weight transposed, side by side: torch.cat([head.query.weight.T ...], dim=1)
            transposed = next((other for other in PROJECTIONS if close(rows, stacked[other].T, 0)), None)
            fail(
                f"{call}: rows {part * n_embd} to {(part + 1) * n_embd - 1} of c_attn.weight should hold the heads' "
                f"{name} weights"
                + (f", they hold their {held} weights" if held else "")
                + (f", they hold their {transposed} weights transposed" if transposed else ""),
                "c_attn.weight stacks all query weights (head after head), then all key weights, then all value "
                "weights: torch.cat([head.query.weight for head in mha.heads]) fills the first n_embd rows.",
            )
    if not isinstance(c_proj, nn.Linear) or not (
        torch.equal(c_proj.weight, mha.proj.weight)
        and isinstance(c_proj.bias, torch.Tensor)
        and torch.equal(c_proj.bias, mha.proj.bias)
    ):
        transposed = isinstance(c_proj, nn.Linear) and torch.equal(c_proj.weight, mha.proj.weight.T)
        fail(
            f"{call}.c_proj should be a copy of mha.proj, weight and bias: "
            "c_proj.load_state_dict(mha.proj.state_dict())",
            "Its weight holds mha.proj.weight transposed: both are nn.Linear weights, (out, in), so copy it as it is."
            if transposed
            else "",
        )


def redrawn_diagnosis(fast, slow) -> str:
    """The parameters outside the attention that fast_gpt's model holds otherwise than the per-head GPT from the same
    seed: weights drawn again after the model was built (an init applied after the conversion, say)."""
    theirs = dict(slow.named_parameters())
    redrawn = [
        name
        for name, value in fast.named_parameters()
        if ".sa." not in name
        and name in theirs
        and theirs[name].shape == value.shape
        and not torch.equal(theirs[name], value)
    ]
    if not redrawn:
        return ""
    shown = ", ".join(redrawn[:3]) + (", ..." if len(redrawn) > 3 else "")
    return (
        f"Its {shown} differ from GPTLanguageModel(config)'s from the same seed, outside the attention: fast_gpt "
        "should keep the weights the model was built with, and draw none again after (no second init)."
    )


def conversion_diagnosis(mha) -> str:
    """Why fast_gpt's model differs from the per-head one: from_multihead, where it does not compute what `mha`
    computes, else fast_gpt itself."""
    x = random_floats((2, 8, mha.proj.in_features), 5)
    try:
        converted = stage.CausalSelfAttention.from_multihead(copy.deepcopy(mha)).eval()
        converts = close(converted(x), mha.eval()(x).detach(), atol=1e-5)
    except Exception:  # the test's own message stands; the tests of from_multihead say what raised
        converts = False
    if not converts:
        return (
            "CausalSelfAttention.from_multihead(block.sa) does not compute what the heads compute "
            "(test_from_multihead_computes_what_the_heads_compute says how): fix that first."
        )
    return (
        "fast_gpt should start from GPTLanguageModel(config) and replace each block.sa by "
        "CausalSelfAttention.from_multihead(block.sa), which keeps its weights."
    )


class TestCausalSelfAttention:
    def test_has_one_projection_for_q_k_v_and_an_output_projection(self):
        with fixed_seed(0):
            attention = stage.CausalSelfAttention(12, 3, 8)
        c_attn, c_proj = getattr(attention, "c_attn", None), getattr(attention, "c_proj", None)
        if not isinstance(c_attn, nn.Linear) or tuple(c_attn.weight.shape) != (36, 12) or c_attn.bias is not None:
            fail(f"CausalSelfAttention(12, 3, 8).c_attn: expected nn.Linear(12, 36, bias=False), got {c_attn!r}")
        if not isinstance(c_proj, nn.Linear) or tuple(c_proj.weight.shape) != (12, 12) or c_proj.bias is None:
            fail(
                f"CausalSelfAttention(12, 3, 8).c_proj: expected nn.Linear(12, 12), with a bias, got {c_proj!r}",
                "from_multihead copies stage 7's proj into c_proj, and proj has a bias: leave out bias=False "
                "(nanoGPT's default, which this stage does not use).",
            )

    def test_rejects_n_embd_not_divisible_by_n_head(self):
        call = "CausalSelfAttention(10, 4, 8)"
        expect_value_error(lambda: stage.CausalSelfAttention(10, 4, 8), call, "10 is not divisible by 4")

    def test_from_multihead_copies_the_weights(self):
        mha = multihead(12, 3, 8, seed=1)
        expect_standard_multihead(mha, random_floats((2, 5, 12), 1))
        expect_copied_weights(stage.CausalSelfAttention.from_multihead(mha), mha, 12)

    @given(seeds, st.integers(1, 4), st.integers(1, 6), st.integers(1, 3), st.integers(1, 10))
    @example(0, 3, 4, 2, 7)
    def test_from_multihead_computes_what_the_heads_compute(self, seed, n_head, head_size, B, T):
        n_embd = n_head * head_size
        mha = multihead(n_embd, n_head, 10, seed)
        x = random_floats((B, T, n_embd), seed)
        expect_standard_multihead(mha, x)
        fast = stage.CausalSelfAttention.from_multihead(mha).eval()
        call = (
            f"CausalSelfAttention.from_multihead(MultiHeadAttention({n_embd}, {n_head}, 10)) on x of shape "
            f"({B}, {T}, {n_embd})"
        )
        got, expected = fast(x), mha(x).detach()
        hint = "" if close(got, expected, atol=1e-5) else copying_diagnosis(fast, mha) or fused_diagnosis(fast, x)
        expect_equal_tensors(
            got.detach() if isinstance(got, torch.Tensor) else got, expected, call, atol=1e-5, hint=hint
        )

    def test_uses_fused_scaled_dot_product_attention(self):
        with fixed_seed(0):
            attention = stage.CausalSelfAttention(8, 2, 6).eval()
        with recorded_fused_attention() as calls:
            attention(random_floats((1, 6, 8), 0))
        if len(calls) != 1 or not calls[0].get("is_causal"):
            mask = calls[0].get("attn_mask") if len(calls) == 1 else None
            fail(
                "CausalSelfAttention should call F.scaled_dot_product_attention(q, k, v, ..., is_causal=True) once "
                f"per forward; it called it {times(len(calls))}"
                + (f", with is_causal={calls[0].get('is_causal', False)}" if len(calls) == 1 else ""),
                "It passes a boolean attn_mask, which computes the same: pass is_causal=True instead, as the "
                "docstring asks (no T x T mask to build, and the fused kernels skip the masked half)."
                if isinstance(mask, torch.Tensor) and mask.dtype == torch.bool
                else "",
            )

    def test_the_past_never_depends_on_the_future(self):
        with fixed_seed(1):
            attention = stage.CausalSelfAttention(8, 2, 9).eval()
        x = random_floats((2, 9, 8), 1)
        changed = x.clone()
        changed[:, 3:] *= -2
        if not torch.allclose(attention(x)[:, :3], attention(changed)[:, :3], atol=1e-6, equal_nan=True):
            fail(
                "CausalSelfAttention: changing tokens after position 2 changed outputs at positions 0..2",
                fused_diagnosis(attention, x),
            )

    def test_dropout_is_off_in_eval_mode(self):
        with fixed_seed(2):
            attention = stage.CausalSelfAttention(8, 2, 6, dropout=0.5).eval()
        x = random_floats((2, 6, 8), 2)
        with recorded_dropout() as dropouts, recorded_fused_attention() as fused:
            first, second = attention(x), attention(x)
        if not torch.equal(first, second):
            fused_drops = any(arguments.get("dropout_p", 0.0) for arguments in fused)
            hint = "use dropout_p=0 unless self.training"
            if any(dropout.active for dropout in dropouts) and not fused_drops:
                hint = (
                    "a dropout outside the fused call drops in eval mode: F.dropout(x, p) drops unless told "
                    "training=self.training; the module self.resid_dropout follows eval() by itself"
                )
            fail(f"CausalSelfAttention(dropout=0.5) in eval mode is not deterministic: {hint}")

    def test_drops_the_attention_weights_and_the_output_in_training_mode(self):
        with fixed_seed(3):
            attention = stage.CausalSelfAttention(8, 2, 6, dropout=0.5)
        x = random_floats((2, 6, 8), 3)
        call = "CausalSelfAttention(8, 2, 6, dropout=0.5) in training mode"
        with fixed_seed(0), recorded_fused_attention() as calls:
            attention.train()(x)
        attention.eval()
        used = [call_arguments.get("dropout_p", 0.0) for call_arguments in calls]
        if used and not all(math.isclose(p, 0.5) for p in used):
            fail(
                f"{call} passed dropout_p={used[0]:g} to scaled_dot_product_attention: pass dropout_p=self.dropout "
                "when self.training (else 0.0); it drops attention weights, as each Head's dropout did"
            )
        expect_dropout_last(attention, x, getattr(attention, "c_proj", None), call, "c_proj", p=0.5)

    def test_from_multihead_keeps_the_dropout(self):
        mha = multihead(8, 2, 6, seed=4, dropout=0.25)
        fast = stage.CausalSelfAttention.from_multihead(mha)
        x, call = (
            random_floats((2, 6, 8), 4),
            "CausalSelfAttention.from_multihead(MultiHeadAttention(8, 2, 6, dropout=0.25)) in training mode",
        )
        with fixed_seed(0), recorded_fused_attention() as calls:
            fast.train()(x)
        used = [call_arguments.get("dropout_p", 0.0) for call_arguments in calls]
        if used and not all(math.isclose(p, 0.25) for p in used):
            fail(
                f"{call} used dropout_p={used[0]:g}: build it with mha's dropout, cls(n_embd, n_head, block_size, "
                "mha.dropout.p), so that the fast model trains as the per-head one does"
            )
        # mha drops proj's output too: so must the attention built from it, whichever way it gets the rate
        rate_hint = (
            "build it with mha's dropout, cls(n_embd, n_head, block_size, mha.dropout.p), so that the output's "
            "dropout drops at mha's rate as well as the fused attention"
        )
        expect_dropout_last(fast, x, getattr(fast, "c_proj", None), call, "c_proj", p=0.25, rate_hint=rate_hint)


class TestFastGPT:
    def test_is_the_same_model_as_the_per_head_gpt(self):
        # three heads of size 4: where the count equals the size, code that reads one for the other passes
        config = gpt.GPTConfig(vocab_size=20, block_size=8, n_embd=12, n_head=3, n_layer=2, dropout=0.0)
        with fixed_seed(3):
            slow = gpt.GPTLanguageModel(config).eval()
        with fixed_seed(3):
            fast = stage.fast_gpt(config).eval()
        kinds = {type(block.sa).__name__ for block in fast.blocks}
        if kinds != {"CausalSelfAttention"}:
            fail(f"fast_gpt(config): every block's sa should be a CausalSelfAttention, found {sorted(kinds)}")
        expect_standard_multihead(slow.blocks[0].sa, random_floats((2, 8, 12), 3))
        counts = [sum(parameter.numel() for parameter in model.parameters()) for model in (fast, slow)]
        if counts[0] != counts[1]:  # fresh norms hold ones and zeros alike: one shared by all computes the same
            fail(
                f"fast_gpt(config) has {counts[0]} parameters where GPTLanguageModel(config) has {counts[1]}",
                "A module put in several places (one nn.LayerNorm for every norm, say) holds one set of weights for "
                "all of them, which training cannot tell apart: give each place a module of its own."
                if counts[0] < counts[1]
                else "",
            )
        idx = random_tokens((2, 8), 20, 3)
        expect_equal_tensors(
            fast(idx)[0].detach(),
            slow(idx)[0].detach(),
            "fast_gpt(config) vs GPTLanguageModel(config) from the same seed",
            atol=1e-5,
            hint=redrawn_diagnosis(fast, slow) or conversion_diagnosis(slow.blocks[0].sa),
        )

    def test_normalises_with_torch_fused_layer_norm(self):
        config = gpt.GPTConfig(vocab_size=20, block_size=8, n_embd=12, n_head=3, n_layer=2, dropout=0.0)
        with fixed_seed(3):
            fast = stage.fast_gpt(config).eval()
        idx, expected = random_tokens((2, 8), 20, 3), 2 * config.n_layer + 1
        if (runs := torchs_layer_norm_runs(lambda: fast(idx)[0])) != expected:
            x = random_floats((1, 2, config.n_embd), 4)
            written_out = [  # stage 7's norms whose own forward runs no fused kernel (a subclass of them may)
                name
                for name, module in fast.named_modules()
                if isinstance(module, transformer.LayerNorm) and not torchs_layer_norm_runs(lambda m=module: m(x))
            ]
            fail(
                f"fast_gpt(config) with n_layer=2: one forward called torch's fused layer norm (F.layer_norm, which "
                f"nn.LayerNorm calls) {times(runs)}; it should call it {times(expected)}, in each block's ln1 "
                "and ln2 and in ln_f",
                f"These are still your stage 7 LayerNorm, written out: {', '.join(written_out)}. Replace each by "
                "nn.LayerNorm(config.n_embd) holding its weight and bias (fused.load_state_dict({'weight': ln.weight, "
                "'bias': ln.bias})): one fused kernel computes what yours computes in seven operations."
                if written_out
                else "",
            )
