"""Stage 9 · Fast attention. The graded implementation's own stages 6 to 8 are used."""

import pytest
import torch
from feedback import expect_equal_tensors, fail
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import random_floats, random_tokens, seeds
from support import fixed_seed
from torch import nn

from kata.implementation import StageModule

stage = StageModule("s09_fast_attention")
transformer = StageModule("s07_transformer")
gpt = StageModule("s08_gpt")


def multihead(n_embd, n_head, block_size, seed):
    with fixed_seed(seed):
        return transformer.MultiHeadAttention(n_embd, n_head, block_size).eval()


def fused_diagnosis(attention, x) -> str:
    changed = x.clone()
    changed[:, 1:] += 1.0
    if x.shape[1] > 1 and not torch.allclose(attention(x)[:, :1], attention(changed)[:, :1], atol=1e-6):
        return "Position 0 changes when later tokens change: pass is_causal=True to scaled_dot_product_attention."
    return (
        "c_attn.weight stacks all query weights (head after head), then all key weights, then all value weights; "
        "the heads must be split from C as (B, T, n_head, head_size) and transposed to (B, n_head, T, head_size)."
    )


class TestCausalSelfAttention:
    def test_has_one_projection_for_q_k_v_and_an_output_projection(self):
        with fixed_seed(0):
            attention = stage.CausalSelfAttention(12, 3, 8)
        c_attn, c_proj = getattr(attention, "c_attn", None), getattr(attention, "c_proj", None)
        if not isinstance(c_attn, nn.Linear) or tuple(c_attn.weight.shape) != (36, 12) or c_attn.bias is not None:
            fail(f"CausalSelfAttention(12, 3, 8).c_attn: expected nn.Linear(12, 36, bias=False), got {c_attn!r}")
        if not isinstance(c_proj, nn.Linear) or tuple(c_proj.weight.shape) != (12, 12):
            fail(f"CausalSelfAttention(12, 3, 8).c_proj: expected nn.Linear(12, 12), got {c_proj!r}")

    def test_rejects_n_embd_not_divisible_by_n_head(self):
        with pytest.raises(ValueError):
            stage.CausalSelfAttention(10, 4, 8)
            fail("CausalSelfAttention(10, 4, 8) should raise ValueError: 10 is not divisible by 4")

    @given(seeds, st.integers(1, 4), st.integers(1, 6), st.integers(1, 3), st.integers(1, 10))
    @example(0, 3, 4, 2, 7)
    def test_from_multihead_computes_what_the_heads_compute(self, seed, n_head, head_size, B, T):
        n_embd = n_head * head_size
        mha = multihead(n_embd, n_head, 10, seed)
        fast = stage.CausalSelfAttention.from_multihead(mha).eval()
        x = random_floats((B, T, n_embd), seed)
        call = (
            f"CausalSelfAttention.from_multihead(MultiHeadAttention({n_embd}, {n_head}, 10)) on x of shape "
            f"({B}, {T}, {n_embd})"
        )
        expect_equal_tensors(fast(x).detach(), mha(x).detach(), call, atol=1e-5, hint=fused_diagnosis(fast, x))

    def test_uses_fused_scaled_dot_product_attention(self, monkeypatch):
        calls = []
        fused = torch.nn.functional.scaled_dot_product_attention

        def spy(*args, **kwargs):
            calls.append(kwargs)
            return fused(*args, **kwargs)

        monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
        with fixed_seed(0):
            attention = stage.CausalSelfAttention(8, 2, 6).eval()
        attention(random_floats((1, 6, 8), 0))
        if not calls or not calls[0].get("is_causal"):
            fail(
                "CausalSelfAttention should call F.scaled_dot_product_attention(q, k, v, ..., is_causal=True) once "
                "per forward"
            )

    def test_the_past_never_depends_on_the_future(self):
        with fixed_seed(1):
            attention = stage.CausalSelfAttention(8, 2, 9).eval()
        x = random_floats((2, 9, 8), 1)
        changed = x.clone()
        changed[:, 3:] *= -2
        if not torch.allclose(attention(x)[:, :3], attention(changed)[:, :3], atol=1e-6):
            fail(
                "CausalSelfAttention: changing tokens after position 2 changed outputs at positions 0..2: pass "
                "is_causal=True"
            )

    def test_dropout_is_off_in_eval_mode(self):
        with fixed_seed(2):
            attention = stage.CausalSelfAttention(8, 2, 6, dropout=0.5).eval()
        x = random_floats((2, 6, 8), 2)
        if not torch.equal(attention(x), attention(x)):
            fail(
                "CausalSelfAttention(dropout=0.5) in eval mode is not deterministic: use dropout_p=0 unless "
                "self.training"
            )


class TestFastGPT:
    def test_is_the_same_model_as_the_per_head_gpt(self):
        config = gpt.GPTConfig(vocab_size=20, block_size=8, n_embd=16, n_head=4, n_layer=2, dropout=0.0)
        with fixed_seed(3):
            slow = gpt.GPTLanguageModel(config).eval()
        with fixed_seed(3):
            fast = stage.fast_gpt(config).eval()
        kinds = {type(block.sa).__name__ for block in fast.blocks}
        if kinds != {"CausalSelfAttention"}:
            fail(f"fast_gpt(config): every block's sa should be a CausalSelfAttention, found {sorted(kinds)}")
        idx = random_tokens((2, 8), 20, 3)
        expect_equal_tensors(
            fast(idx)[0].detach(),
            slow(idx)[0].detach(),
            "fast_gpt(config) vs GPTLanguageModel(config) from the same seed",
            atol=1e-5,
        )
