"""Stage 10 · Sampling controls and a KV cache. The graded implementation's own GPT (stages 8 and 9) is used:
the cache runs that model's layers one new token at a time."""

import copy
import traceback

import pytest
import torch
from feedback import (
    NEW_TOKENS_ALONE,
    close,
    expect_accepted,
    expect_equal_tensors,
    expect_value_error,
    explained_if_it_raises,
    fail,
    show,
)
from hypothesis import assume, example, given
from hypothesis import strategies as st
from strategies import at_most, random_floats, random_tokens, seeds
from support import attention_by_hand, expect_tensors_on_the_inputs_device, fixed_seed

from kata.implementation import StageModule, load_stage
from kata.torch_calls import positions_per_call

stage = StageModule("s10_generation")
gpt = StageModule("s08_gpt")
fast = StageModule("s09_fast_attention")

V, BLOCK_SIZE, N_EMBD, N_HEAD = 20, 8, 16, 2
WEIGHT_STD = 0.3  # larger than a fresh model's 0.02, so that every position and every mask makes a visible difference


def redraw_weights(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * WEIGHT_STD)
    return module.eval()


def tiny_model(seed: int = 0):
    """The graded implementation's fast GPT (stage 9) with vocab 20, block_size 8, width 16, 2 heads, 2 layers."""
    config = gpt.GPTConfig(vocab_size=V, block_size=BLOCK_SIZE, n_embd=N_EMBD, n_head=N_HEAD, n_layer=2, dropout=0.0)
    with fixed_seed(seed):
        return redraw_weights(fast.fast_gpt(config), seed)


def tiny_attention(seed: int = 0, dropout: float = 0.0):
    """The graded implementation's CausalSelfAttention (stage 9), in eval mode, as generation runs it."""
    with fixed_seed(seed):
        return redraw_weights(fast.CausalSelfAttention(N_EMBD, N_HEAD, BLOCK_SIZE, dropout), seed)


def probabilities_by_hand(logits, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """The oracle, in float64: temperature, then top-k on the logits, then the top-p nucleus on the probabilities."""
    probs = top_k_by_hand(logits, temperature, top_k).softmax(dim=-1)
    if top_p is not None:
        probs = probs.masked_fill(outside_the_nucleus(probs, top_p), 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs


def top_k_by_hand(logits, temperature=1.0, top_k=None) -> torch.Tensor:
    """The logits in float64, divided by the temperature, -inf outside the top_k."""
    logits = logits.double() / temperature
    if top_k is None:
        return logits
    kth = logits.sort(dim=-1, descending=True).values[..., top_k - 1 : top_k]
    return logits.masked_fill(logits < kth, float("-inf"))


def outside_the_nucleus(probs, top_p) -> torch.Tensor:
    """Where the tokens more likely than each already hold top_p, in the vocabulary's order."""
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    return torch.zeros_like(probs, dtype=torch.bool).scatter(-1, order, mass_before >= top_p)


def nucleus_mistakes(logits, temperature, top_k, top_p) -> dict[str, torch.Tensor]:
    """What three ways of getting the nucleus wrong give, each with what it tells the learner."""
    kept = top_k_by_hand(logits, temperature, top_k).softmax(dim=-1)
    before_top_k = (logits.double() / temperature).softmax(dim=-1)
    wrong_mass = kept.masked_fill(outside_the_nucleus(before_top_k, top_p), 0.0)
    sorted_probs, order = kept.sort(dim=-1, descending=True)
    drop_in_sorted_order = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
    gathered = sorted_probs.masked_fill(drop_in_sorted_order, 0.0).gather(-1, order)  # where scatter undoes the sort
    left_in_sorted_order = kept.masked_fill(drop_in_sorted_order, 0.0)
    return {
        "The nucleus was taken from the probabilities before top_k: softmax what top_k kept, then keep the "
        "top_p nucleus of those probabilities.": wrong_mass / wrong_mass.sum(dim=-1, keepdim=True),
        "The nucleus went back to the vocabulary's order by gather(-1, order), which applies the sort again: put "
        "each value back where it came from with scatter(-1, order, ...).": gathered / gathered.sum(-1, keepdim=True),
        "The nucleus mask was made in sorted order and applied to the probabilities in the vocabulary's order: "
        "put it back where each token is first, scatter(-1, order, mask).": left_in_sorted_order
        / left_in_sorted_order.sum(-1, keepdim=True),
    }


def nucleus_edge_is_clear(logits, temperature=1.0, top_k=None, top_p=None) -> bool:
    """Whether the mass of the tokens more likely than each token is further than float32's rounding (1e-5)
    from top_p. Where it is not, a correct float32 implementation may keep that token or drop it: seed
    100000, 28 tokens, top_k 14, top_p 0.99999 put one 1.4e-7 from the edge, and the references dropped it."""
    sorted_probs = probabilities_by_hand(logits, temperature, top_k).sort(dim=-1, descending=True).values
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    return bool(((mass_before - top_p).abs() > 1e-5).all())


def keeps_the_least_likely(got, logits) -> bool:
    """Whether some row of `got` dropped a token and kept only tokens no more likely than every one it dropped (a
    nucleus taken from probabilities sorted in ascending order)."""
    for row, row_logits in zip(got, logits, strict=True):
        kept, dropped = row_logits[row > 0], row_logits[row == 0]
        if len(kept) and len(dropped) and kept.max() <= dropped.min():
            return True
    return False


def top_k_alone_drops_a_row(logits, temperature, top_k) -> str:
    """Where top_k alone, without top_p, drops every token of a row: what a NaN row comes from then."""
    if top_k is None:
        return ""
    try:
        alone = stage.next_token_probabilities(logits.clone(), temperature=temperature, top_k=top_k)
    except Exception:  # its own tests say what it raises
        return ""
    if not (isinstance(alone, torch.Tensor) and alone.isnan().any()):
        return ""
    return (
        f" With top_k={top_k} alone, without top_p, a row loses every token: keep the logits >= the k-th largest, "
        "masked_fill(logits < kth, -inf) (with <=, the k-th goes too, and with top_k=1 every token)."
    )


def nan_nucleus_diagnosis(got, logits, temperature, top_k, top_p) -> str:
    """Why a nucleus dropped a whole row: the token that crosses top_p dropped (in a row whose most likely token
    alone holds top_p), or a mask made in sorted order applied in the vocabulary's."""
    for hint, wrong in nucleus_mistakes(logits, temperature, top_k, top_p).items():
        if torch.allclose(got, wrong, atol=1e-6, equal_nan=True):
            return f" {hint}"
    probs = top_k_by_hand(logits, temperature, top_k).softmax(dim=-1)
    empty = got.isnan().any(dim=-1)
    if bool((probs[empty].max(dim=-1).values >= top_p).any()):
        return (
            " Even the most likely token was dropped, in a row where it alone holds top_p: the token whose "
            "probability carries the total past top_p belongs to the nucleus. Drop a token only when the tokens "
            "more likely than it already add up to top_p, cumsum - probs >= top_p, not cumsum > top_p."
        )
    return (
        " Keep each token's nucleus mask where the token is: scatter(-1, order, mask) puts a mask made in sorted "
        "order back."
    )


def top_k_from_the_smallest(logits, temperature, top_k) -> bool:
    """Whether next_token_probabilities with top_k alone keeps the logits at or above the k-th smallest (asked
    without top_p: with it, a nucleus taken before top_k may give the same numbers)."""
    alone = answer_or_none(lambda: stage.next_token_probabilities(logits.clone(), temperature=temperature, top_k=top_k))
    if not isinstance(alone, torch.Tensor) or alone.shape != logits.shape:
        return False
    smallest = torch.kthvalue(logits, top_k, dim=-1, keepdim=True).values
    from_the_smallest = probabilities_by_hand(logits.masked_fill(logits < smallest, float("-inf")), temperature)
    return torch.allclose(alone.double(), from_the_smallest, atol=1e-6) and not torch.allclose(
        alone.double(), probabilities_by_hand(logits, temperature, top_k), atol=1e-6
    )


def probabilities_diagnosis(got, logits, temperature=1.0, top_k=None, top_p=None) -> str:
    if not isinstance(got, torch.Tensor) or got.shape != logits.shape:
        return ""
    got = got.double()

    def looks_like(**options) -> bool:
        return torch.allclose(got, probabilities_by_hand(logits, **options), atol=1e-6)

    if got.isnan().any():
        return "A row came back NaN: every token of it was dropped, and renormalising divided 0 by 0." + (
            top_k_alone_drops_a_row(logits, temperature, top_k)
            or (nan_nucleus_diagnosis(got, logits, temperature, top_k, top_p) if top_p and top_p < 1 else "")
        )
    if got.shape[0] > 1 and torch.allclose(got.sum(0), torch.ones(got.shape[1:], dtype=torch.float64), atol=1e-5):
        return "Each column sums to 1: the softmax ran over the batch; take it over the vocabulary, dim=-1."
    if not torch.allclose(got.sum(-1), torch.ones(got.shape[:-1], dtype=torch.float64), atol=1e-5):
        return "Each row should sum to 1: renormalise what is left after filtering."
    if top_p and top_p < 1 and keeps_the_least_likely(got, logits):
        return (
            "The most likely token was dropped: the nucleus keeps the most likely tokens. Sort the probabilities in "
            "descending order, torch.sort(probs, dim=-1, descending=True), and put the mask made in that order back "
            "where each token is, scatter(-1, order, mask)."
        )
    if temperature != 1 and looks_like(top_k=top_k, top_p=top_p):
        return (
            "These are the probabilities at temperature 1: the temperature changed nothing (left out, or applied "
            "after the softmax, where dividing and renormalising cancel out). Divide the logits by the temperature "
            "before the softmax."
        )
    if temperature != 1 and looks_like(temperature=1 / temperature, top_k=top_k, top_p=top_p):
        return "The logits were multiplied by the temperature: divide them by it (a high temperature flattens)."
    if (top_k or top_p) and looks_like(temperature=temperature):
        return "These are the probabilities before any top_k or top_p filtering."
    if top_k and 1 < top_k < logits.shape[-1] and top_k_from_the_smallest(logits, temperature, top_k):
        return (
            f"Each row keeps the logits at or above its {top_k}-th smallest, not its {top_k} largest: "
            "torch.kthvalue counts from the smallest; take the k-th largest, torch.topk(logits, k).values[..., "
            "-1:]."
        )
    if top_p and top_p < 1:
        for hint, wrong in nucleus_mistakes(logits, temperature, top_k, top_p).items():
            if torch.allclose(got, wrong, atol=1e-6):
                return hint
    more_than_k = top_k is not None and bool(((got > 0).sum(-1) > top_k).any())
    if more_than_k and looks_like(temperature=temperature, top_k=top_k + 1, top_p=top_p):
        return f"{top_k + 1} tokens were kept where top_k is {top_k}: keep the logits >= the k-th largest."
    if top_k and top_k > 1 and looks_like(temperature=temperature, top_k=top_k - 1, top_p=top_p):
        return f"{top_k - 1} tokens were kept where top_k is {top_k}: keep the logits >= the k-th largest."
    if top_p and top_p < 1:
        kept, expected = (got > 0).sum(-1), (probabilities_by_hand(logits, temperature, top_k, top_p) > 0).sum(-1)
        if (kept < expected).any():
            return (
                "The token whose probability carries the total past top_p belongs to the nucleus: drop a token "
                "only when the tokens more likely than it already add up to top_p."
            )
        if (kept > expected).any():
            return "Tokens after the nucleus were kept: once the more likely tokens add up to top_p, drop the rest."
    return ""


def hand_generation(model, idx, steps, *, seed, temperature=1.0, top_k=None, top_p=None):
    """Sampling from the full forward pass over the last block_size tokens, one multinomial draw per step."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(steps):
            logits = model(idx[:, -BLOCK_SIZE:])[0][:, -1, :]
            probs = probabilities_by_hand(logits, temperature, top_k, top_p).float()
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1, generator=generator)), dim=1)
    return idx


def probabilities_of_a_copy(logits, **options) -> tuple[object, str]:
    """next_token_probabilities of a copy of `logits` (the test's own stay as they were, to compare with), and a
    hint where it changed the copy."""
    given = logits.clone()
    got = stage.next_token_probabilities(given, **options)
    return got, "" if torch.equal(given, logits) else f"It also changed the logits it was given. {IN_PLACE}"


def shown_options(options: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in options.items())


IN_PLACE = (
    "Divide and mask new tensors, logits / temperature and logits.masked_fill(...), not the given one in place "
    "(logits /= temperature, logits.div_(...) and logits[...] = -inf write into the caller's tensor)."
)
TOP_P_RANGE = "top_p may be anything in (0, 1], and 1.0 keeps every token"
RANGES = f"temperature must be > 0, top_k between 1 and the vocabulary size, {TOP_P_RANGE}"


class TestNextTokenProbabilities:
    def test_makes_its_tensors_on_the_logits_device(self):
        logits, options = random_floats((2, 10), 0) * 3, dict(temperature=0.7, top_k=6, top_p=0.6)
        expect_tensors_on_the_inputs_device(
            lambda: stage.next_token_probabilities(logits, **options),
            f"next_token_probabilities(logits of shape (2, 10), {shown_options(options)})",
            the_input="logits",
        )

    def test_leaves_the_logits_it_was_given_as_they_were(self):
        logits = random_floats((2, 10), 0) * 3
        for options in (dict(top_k=3), dict(temperature=0.7, top_k=3, top_p=0.9)):
            given = logits.clone()
            stage.next_token_probabilities(given, **options)
            if not torch.equal(given, logits):
                fail(
                    f"next_token_probabilities(logits, {shown_options(options)}) changed the logits it was given: the "
                    "caller's tensor (the model's output) must stay as it was",
                    IN_PLACE,
                )

    @given(seeds, st.integers(1, 3), st.integers(2, 30), st.sampled_from([0.5, 1.0, 2.0]))
    @example(0, 2, 10, 0.5)
    def test_temperature_divides_the_logits(self, seed, B, vocab_size, temperature):
        logits = random_floats((B, vocab_size), seed) * 3
        got, changed = probabilities_of_a_copy(logits, temperature=temperature)
        call = f"next_token_probabilities(logits of shape ({B}, {vocab_size}), temperature={temperature})"
        hint = changed or probabilities_diagnosis(got, logits, temperature)
        expect_equal_tensors(got, probabilities_by_hand(logits, temperature).float(), call, atol=1e-6, hint=hint)

    @given(seeds, st.integers(1, 3), st.integers(2, 30), st.integers(1, 30))
    @example(0, 3, 10, 3)
    def test_top_k_keeps_the_k_most_likely_in_each_row(self, seed, B, vocab_size, top_k):
        top_k = min(top_k, vocab_size)
        logits = random_floats((B, vocab_size), seed) * 3
        got = stage.next_token_probabilities(logits, top_k=top_k)
        call = f"next_token_probabilities(logits of shape ({B}, {vocab_size}), top_k={top_k})"
        hint = probabilities_diagnosis(got, logits, top_k=top_k)
        expect_equal_tensors(got, probabilities_by_hand(logits, top_k=top_k).float(), call, atol=1e-6, hint=hint)

    @pytest.mark.parametrize("top_p, kept", [(0.3, 1), (0.7, 2), (0.9, 3), (1.0, 4)])
    def test_top_p_keeps_the_smallest_nucleus_holding_top_p(self, top_p, kept):
        # sorted, their order [3, 0, 1, 2] is not its own inverse: a nucleus put back by gather shows
        logits = torch.tensor([[0.3, 0.15, 0.05, 0.5]]).log()
        call = f"next_token_probabilities(log of [[0.3, 0.15, 0.05, 0.5]], top_p={top_p})"
        got = expect_accepted(lambda: stage.next_token_probabilities(logits, top_p=top_p), call, TOP_P_RANGE)
        hint = probabilities_diagnosis(got, logits, top_p=top_p) or (
            f"The {kept} most likely token{'s hold' if kept > 1 else ' holds'} at least {top_p} of the probability: "
            f"keep {'them' if kept > 1 else 'it'} and renormalise."
        )
        expect_equal_tensors(got, probabilities_by_hand(logits, top_p=top_p).float(), call, atol=1e-6, hint=hint)

    @given(seeds, st.integers(1, 3), st.integers(2, 30), st.floats(0.05, 1.0))
    @example(0, 2, 12, 0.6)
    @example(1, 1, 4, 0.5)  # the nucleus of the probabilities before top_k differs here
    def test_temperature_then_top_k_then_top_p(self, seed, B, vocab_size, top_p):
        logits, top_k = random_floats((B, vocab_size), seed) * 3, max(1, vocab_size // 2)
        options = dict(temperature=0.7, top_k=top_k, top_p=top_p)
        assume(nucleus_edge_is_clear(logits, **options))
        got, changed = probabilities_of_a_copy(logits, **options)
        call = (
            f"next_token_probabilities(logits of shape ({B}, {vocab_size}), temperature=0.7, top_k={top_k}, "
            f"top_p={top_p:.3g})"
        )
        hint = (
            changed
            or probabilities_diagnosis(got, logits, **options)
            or (
                "Apply them in this order: divide by the temperature, keep the top_k logits, softmax, then keep the "
                "top_p nucleus of those probabilities and renormalise."
            )
        )
        expect_equal_tensors(got, probabilities_by_hand(logits, **options).float(), call, atol=1e-6, hint=hint)

    def test_rejects_bad_arguments_and_accepts_the_boundaries(self):
        logits = random_floats((2, 5), 0)
        bad = [dict(temperature=0.0), dict(temperature=-1.0), dict(top_k=0), dict(top_k=6), dict(top_p=0.0)]
        bad += [dict(top_p=1.5), dict(top_p=-0.1)]
        for options in bad:
            shown = shown_options(options)
            expect_value_error(
                lambda options=options: stage.next_token_probabilities(logits, **options),
                f"next_token_probabilities(logits over 5 tokens, {shown})",
                RANGES,
            )
        for options in (dict(top_k=5), dict(top_k=1), dict(top_p=1.0), dict(temperature=1e-3)):
            shown = shown_options(options)
            call = f"next_token_probabilities(logits over 5 tokens, {shown})"
            probs = expect_accepted(
                lambda options=options: stage.next_token_probabilities(logits, **options), call, RANGES
            )
            if not close(probs.sum(-1), torch.ones(2), atol=1e-5):
                fail(f"{call}: rows should sum to 1, got {show(probs.sum(-1))}")


class TestKVCache:
    def test_update_appends_along_time_per_layer(self):
        cache = stage.KVCache()
        if len(cache) != 0:
            fail(f"len(KVCache()) should be 0 (no positions cached yet), got {len(cache)}")
        k1, v1 = random_floats((2, 3, 4, 5), 1), random_floats((2, 3, 4, 5), 2)
        k2, v2 = random_floats((2, 3, 4, 5), 3), random_floats((2, 3, 4, 5), 4)
        cache.update(0, k1, v1)
        cache.update(1, k1 * 2, v1 * 2)
        keys, values = cache.update(0, k2, v2)
        call = "KVCache: update(0, k of shape (2, 3, 4, 5), ...), update(1, ...), update(0, another such k, ...)"
        joined_keys, joined_values = torch.cat((k1, k2), dim=2), torch.cat((v1, v2), dim=2)
        for name, got, expected, new, other in (
            ("keys", keys, joined_keys, k2, joined_values),
            ("values", values, joined_values, v2, joined_keys),
        ):
            hint = "Concatenate along the time dim of (B, n_head, T, head_size): torch.cat((old, new), dim=2)."
            if close(got, new, 0):
                hint = f"Those are the new {name} alone: return all the layer holds now, the joined ones."
            elif close(got, other, 0):
                hint = f"Those are the layer's {'values' if name == 'keys' else 'keys'}: return (keys, values)."
            expect_equal_tensors(got, expected, f"{call}: the {name} it returned", hint=hint)
        keys, _ = cache.update(1, k2, v2)
        expect_equal_tensors(
            keys,
            torch.cat((k1 * 2, k2), dim=2),
            "KVCache: the keys of layer 1 after two updates",
            hint="Each layer keeps its own keys and values: index them by layer.",
        )
        if len(cache) != 8:
            fail(f"After caching 4 then 4 more positions, len(cache) should be 8, got {len(cache)}")
        another = stage.KVCache()
        if len(another) != 0:
            fail(SHARED_CACHE.format(len(another)))


SHARED_CACHE = (
    "A fresh KVCache(), made after another cache was filled, already holds {} positions: make its lists in __init__ "
    "(self.keys = []), not as class attributes, which every cache shares"
)


def fresh_cache():
    """A new KVCache for a test, which must start empty: one whose lists every cache shares (class attributes)
    holds an earlier cache's positions, and the error that meets them would not say why."""
    cache = stage.KVCache()
    held = answer_or_none(lambda: len(cache))
    if isinstance(held, int) and held > 0:
        fail(SHARED_CACHE.format(held))
    return cache


def cached_attention_by_hand(attention, chunks, *, mask="causal", keep=True) -> torch.Tensor:
    """Attention of each chunk of x over everything cached so far, written out from c_attn and c_proj.
    mask: "causal" (the right one), "top-left" (what is_causal=True does when keys outnumber queries), "none",
    "self-hidden" and "one-ahead" (the causal mask's diagonal one short or one past), "added" (the causal mask of
    ones and zeros added to the scores, as scaled_dot_product_attention does with a float attn_mask)."""
    keys, values, outputs = [], [], []
    for x in chunks:
        B, T, C = x.shape
        q, k, v = (x.double() @ attention.c_attn.weight.double().T).split(C, dim=2)
        q, k, v = (t.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2) for t in (q, k, v))
        keys, values = (keys + [k], values + [v]) if keep else ([k], [v])
        k, v = torch.cat(keys, dim=2), torch.cat(values, dim=2)
        S = k.shape[2]
        allowed = {
            "causal": torch.ones(T, S).tril(S - T),
            "self-hidden": torch.ones(T, S).tril(S - T - 1),
            "one-ahead": torch.ones(T, S).tril(S - T + 1),
            "top-left": torch.ones(T, S).tril(),
            "none": torch.ones(T, S),
            "added": torch.ones(T, S),
        }
        added = torch.ones(T, S, dtype=torch.float64).tril(S - T) if mask == "added" else None
        y = attention_by_hand(q, k, v, allowed[mask], added=added).transpose(1, 2).reshape(B, T, C)
        bias = attention.c_proj.bias  # None for a c_proj made without one: stage 9's tests say so, not these
        outputs.append(y @ attention.c_proj.weight.double().T + (0.0 if bias is None else bias.double()))
    return torch.cat(outputs, dim=1)


def cached_attention_diagnosis(got, attention, chunks) -> str:
    if not isinstance(got, torch.Tensor) or got.shape != cached_attention_by_hand(attention, chunks).shape:
        return ""

    def looks_like(**options) -> bool:
        expected = cached_attention_by_hand(attention, chunks, **options)
        seen = ~expected.isnan().any(dim=-1)  # a query that may see no key: torch versions differ on what it gets
        return bool(seen.any()) and torch.allclose(got.double()[seen], expected[seen], atol=1e-5)

    if looks_like(mask="top-left"):
        return (
            "Each new token attends to the first cached positions instead of those up to its own: is_causal=True "
            "aligns the mask to the top-left corner. With S cached keys and T new queries, allow key j for "
            "query t where j <= S - T + t: torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)."
        )
    if looks_like(mask="none"):
        return "New tokens see the ones after them in the same call: mask the future (tril with diagonal S - T)."
    if looks_like(mask="self-hidden"):
        return (
            "Each new token is kept from seeing itself: its own key must be allowed too. Query t sees keys "
            "j <= S - T + t: tril(diagonal=S - T), not S - T - 1."
        )
    if looks_like(mask="one-ahead"):
        return "Each new token also sees the one after it: query t sees keys j <= S - T + t, tril(diagonal=S - T)."
    if looks_like(keep=False):
        return "Each call attends only to its own tokens: attend over the keys and values cache.update returns."
    if looks_like(mask="added"):
        return (
            "The mask's ones and zeros were added to the scores: scaled_dot_product_attention adds a float "
            "attn_mask and hides a key only where a boolean one is False. Make it torch.ones(T, S, "
            "dtype=torch.bool, device=x.device).tril(diagonal=S - T)."
        )
    return ""


def chunks_of(total: int, sizes: list[int]) -> list[int]:
    """Split `total` positions into chunks of the given sizes (the last one takes what is left)."""
    chunks = []
    for size in sizes:
        size = min(size, total - sum(chunks))
        if size > 0:
            chunks.append(size)
    if sum(chunks) < total:
        chunks.append(total - sum(chunks))
    return chunks


class TestAttendWithCache:
    @given(seeds, st.lists(st.integers(1, 4), min_size=1, max_size=8))
    @example(0, [1] * 8)
    @example(1, [3, 2, 3])
    @at_most(25)  # each example builds its own attention: fewer of them keep the suite fast
    def test_calls_in_chunks_equal_attention_over_the_whole_sequence(self, seed, sizes):
        attention = tiny_attention(seed)
        x = random_floats((2, BLOCK_SIZE, N_EMBD), seed)
        sizes = chunks_of(BLOCK_SIZE, sizes)
        chunks = list(x.split(sizes, dim=1))
        cache = fresh_cache()
        with torch.no_grad():
            outputs = [stage.attend_with_cache(attention, chunk, cache, layer=0, n_head=N_HEAD) for chunk in chunks]
        got = torch.cat(outputs, dim=1) if all(isinstance(out, torch.Tensor) for out in outputs) else outputs[0]
        call = f"attend_with_cache on x of shape (2, 8, 16) fed in chunks of {sizes} positions, with one KVCache"
        expected = cached_attention_by_hand(attention, [x]).float()
        hint = (
            ""
            if close(got, expected, atol=1e-5)
            else kv_cache_first() or cached_attention_diagnosis(got, attention, chunks)
        )
        expect_equal_tensors(got, expected, call, atol=1e-5, hint=hint)
        if len(cache) != BLOCK_SIZE:
            fail(f"{call}: afterwards len(cache) should be 8, got {len(cache)}")

    def test_drops_nothing_while_generating(self):
        attention, x = tiny_attention(2, dropout=0.5), random_floats((2, BLOCK_SIZE, N_EMBD), 2)
        cache = fresh_cache()
        with torch.no_grad():
            chunks = x.split([3, 5], dim=1)
            parts = [stage.attend_with_cache(attention, chunk, cache, layer=0, n_head=N_HEAD) for chunk in chunks]
        got = torch.cat(parts, dim=1) if all(isinstance(part, torch.Tensor) for part in parts) else parts[0]
        call = (
            "attend_with_cache on a CausalSelfAttention built with dropout=0.5 and in eval mode, as generate runs "
            "it, fed x of shape (2, 8, 16) in chunks of [3, 5] positions"
        )
        hint = kv_cache_first() or cached_attention_diagnosis(got, attention, list(chunks))
        if not hint and attention_first(2, [3, 5], caller="this test") == "":  # right without dropout
            hint = (
                "Apply no dropout here, as the docstring asks: generation never drops attention weights (no "
                "dropout_p for scaled_dot_product_attention, and F.dropout drops even in eval mode unless told "
                "training=False)."
            )
        expect_equal_tensors(got, cached_attention_by_hand(attention, [x]).float(), call, atol=1e-5, hint=hint)

    def test_each_layer_masks_by_its_own_cached_positions(self):
        fresh_cache()
        sizes = [3, 2, 3]
        first, second, first_expected, second_expected = layer_after_layer(4, sizes)
        call = (
            "attend_with_cache for layer 0, then for layer 1, on each chunk of [3, 2, 3] positions, with one KVCache "
            "(as forward_with_cache runs its blocks): layer 1's output"
        )
        hint = ""
        if not close(second, second_expected, atol=1e-5):
            hint = kv_cache_first() or (SECOND_LAYER if close(first, first_expected, atol=1e-5) else "")
        expect_equal_tensors(second, second_expected, call, atol=1e-5, hint=hint)


def layer_after_layer(seed: int, sizes: list[int]) -> list:
    """attend_with_cache as forward_with_cache runs it: on each chunk, layer 0 then layer 1, one KVCache for both
    (two attentions of their own, on inputs of their own). Each layer's outputs, joined, or what came back."""
    attentions = [tiny_attention(seed + layer) for layer in (0, 1)]
    xs = [random_floats((2, sum(sizes), N_EMBD), seed + layer) for layer in (0, 1)]
    cache, outputs = stage.KVCache(), [[], []]
    with torch.no_grad():
        for chunks in zip(*(x.split(sizes, dim=1) for x in xs), strict=True):
            for layer in (0, 1):
                outputs[layer].append(
                    stage.attend_with_cache(attentions[layer], chunks[layer], cache, layer=layer, n_head=N_HEAD)
                )
    joined = [torch.cat(out, dim=1) if all(isinstance(o, torch.Tensor) for o in out) else out[0] for out in outputs]
    expected = [cached_attention_by_hand(attention, [x]).float() for attention, x in zip(attentions, xs, strict=True)]
    return [*joined, *expected]


SECOND_LAYER = (
    "Layer 0 attends rightly, layer 1 does not, in the same KVCache: attend over the keys and values "
    "cache.update(layer, k, v) returns for this layer, and take the mask's offset from them (with S = k.shape[2] of "
    "them, query t sees keys j <= S - T + t), not from len(cache), which already counts the positions layer 0 has "
    "just added."
)


def attention_first(seed: int, sizes: list[int], caller: str = "forward_with_cache") -> str:
    """Where attend_with_cache, which `caller` runs (through forward_with_cache), is wrong itself, say so first."""
    attention, x, cache = tiny_attention(seed), random_floats((2, sum(sizes), N_EMBD), seed), stage.KVCache()
    with torch.no_grad():
        outputs = answer_or_none(
            lambda: [
                stage.attend_with_cache(attention, chunk, cache, layer=0, n_head=N_HEAD) for chunk in x.split(sizes, 1)
            ]
        )
    if outputs and all(isinstance(out, torch.Tensor) for out in outputs):
        if close(torch.cat(outputs, dim=1), cached_attention_by_hand(attention, [x]).float(), atol=1e-5):
            layers = answer_or_none(lambda: layer_after_layer(seed, sizes)) or [None] * 4
            first, second, first_expected, second_expected = layers
            if close(second, second_expected, atol=1e-5) or not close(first, first_expected, atol=1e-5):
                return ""
    through = "" if caller == "forward_with_cache" else " through forward_with_cache"
    return (
        f"attend_with_cache, which {caller} runs in every block{through}, is wrong on such chunks ({sizes}) too "
        f"(TestAttendWithCache says how): fix it first; {caller} itself may well be right."
    )


def lectures_forward(model, idx) -> torch.Tensor:
    """What the lecture's GPT computes from the model's own parts, all positions at once: what forward_with_cache
    computes, chunk by chunk."""
    x = model.token_embedding_table(idx) + model.position_embedding_table(torch.arange(idx.shape[1]))
    for block in model.blocks:
        x = x + block.sa(block.ln1(x))
        x = x + block.ffwd(block.ln2(x))
    return model.lm_head(model.ln_f(x))


def model_first(model, idx) -> str:
    """Where the graded GPT itself (stages 7 to 9) does not compute the lecture's model from its own parts, say so:
    every test here compares with its forward, and no correct forward_with_cache can match it then."""
    with torch.no_grad():
        logits, composed = answer_or_none(lambda: model(idx)[0]), answer_or_none(lambda: lectures_forward(model, idx))
        if logits is None or composed is None:  # parts by other names: forward_with_cache's own tests say so
            return ""
        if not close(logits, composed, atol=1e-5):
            return (
                "Your GPT's own forward (stages 7 and 8) does not compute x + sa(ln1(x)), then x + ffwd(ln2(x)), in "
                "each block, then lm_head(ln_f(x)), from its own parts, as forward_with_cache does: no correct "
                "forward_with_cache can match it. Make `pytest -m s07_transformer` and `pytest -m s08_gpt` pass first."
            )
        heads = [getattr(block.sa, "n_head", N_HEAD) for block in model.blocks]
        if any(count != N_HEAD for count in heads):
            return (
                f"Your GPT's blocks attend with {heads} heads where its config asks for {N_HEAD}: the model's blocks "
                "(stages 7 and 8) pass n_head on as something else, and the cache reads the config's. Make "
                "`pytest -m s07_transformer` and `pytest -m s08_gpt` pass first."
            )
        x = random_floats((2, idx.shape[1], N_EMBD), 0)
        if not all(close(block.sa(x), cached_attention_by_hand(block.sa, [x]), atol=1e-5) for block in model.blocks):
            return (
                "Your CausalSelfAttention (stage 9) does not compute causal attention from its c_attn and c_proj, as "
                "attend_with_cache does: no correct forward_with_cache can match the model's forward. Make "
                "`pytest -m s09_fast_attention` pass first."
            )
    return ""


def positions_diagnosis(model, idx, sizes) -> str:
    """Zero the position embedding: if the cached logits then match, the positions were wrong."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.position_embedding_table.weight.zero_()
        try:
            got = cached_logits(model, idx, sizes)
        except Exception:
            return ""
        if torch.allclose(got, model(idx)[0], atol=1e-5):
            return (
                "Without position embeddings the cached logits are right, so the positions are wrong: the new "
                "tokens sit at positions len(cache), ..., len(cache) + T - 1 (from 0 with an empty cache)."
            )
    return ""


def cached_logits(model, idx, sizes) -> torch.Tensor:
    cache = stage.KVCache()
    return torch.cat([stage.forward_with_cache(model, chunk, cache) for chunk in idx.split(sizes, dim=1)], dim=1)


FILLS_THE_CACHE = (
    f"These chunks add up to block_size ({BLOCK_SIZE}) positions, which a cache holds: refuse only more than "
    "block_size, len(cache) + T > block_size."
)


class TestForwardWithCache:
    def test_a_whole_prompt_gives_the_models_logits(self):
        model, idx = tiny_model(1), random_tokens((2, 6), V, 1)
        with torch.no_grad():
            got, expected = stage.forward_with_cache(model, idx, fresh_cache()), model(idx)[0]
        hint = (
            "Embed the tokens and positions, run each block as x + attention(ln1(x)), x + ffwd(ln2(x)), then "
            "ln_f and lm_head, exactly as the model's forward does."
        )
        if not close(got, expected, atol=1e-5):
            hint = (
                model_first(model, idx)
                or kv_cache_first()
                or attention_first(1, [6])
                or positions_diagnosis(model, idx, [6])
                or hint
            )
        call = "forward_with_cache(model, idx of shape (2, 6), KVCache()) against model(idx)"
        expect_equal_tensors(got, expected, call, atol=1e-5, hint=hint)

    @given(seeds, st.lists(st.integers(1, 4), min_size=1, max_size=8))
    @example(2, [1] * 8)
    @example(3, [5, 1, 2])
    @at_most(25)  # each example builds its own GPT: fewer of them keep the suite fast
    def test_logits_equal_the_full_forward_at_every_step(self, seed, sizes):
        model, idx = tiny_model(seed), random_tokens((2, BLOCK_SIZE), V, seed)
        sizes = chunks_of(BLOCK_SIZE, sizes)
        with torch.no_grad():
            fresh_cache()  # cached_logits makes its own, as a diagnosis also does
            with explained_if_it_raises(
                lambda error: (
                    kv_cache_first()
                    or (FILLS_THE_CACHE if isinstance(error, ValueError) else attention_first(seed, sizes))
                )
            ):
                got = cached_logits(model, idx, sizes)
            expected = model(idx)[0]
        call = f"forward_with_cache on idx of shape (2, 8) fed in chunks of {sizes} tokens, against model(idx)"
        if torch.allclose(got, expected, atol=1e-5):
            hint = ""
        else:
            hint = (
                model_first(model, idx)
                or kv_cache_first()
                or attention_first(seed, sizes)
                or positions_diagnosis(model, idx, sizes)
            )
        expect_equal_tensors(got, expected, call, atol=1e-5, hint=hint)

    def test_makes_its_positions_and_masks_on_the_inputs_device(self):
        model, idx, cache = tiny_model(6), random_tokens((2, 6), V, 6), fresh_cache()

        def in_two_parts():
            with torch.no_grad():
                stage.forward_with_cache(model, idx[:, :3], cache)
                stage.forward_with_cache(model, idx[:, 3:], cache)

        with explained_if_it_raises(lambda error: attention_first(6, [3, 3])):
            expect_tensors_on_the_inputs_device(
                in_two_parts, "forward_with_cache on idx of shape (2, 6), 3 tokens at a time"
            )

    def test_grows_the_cache_and_rejects_more_than_block_size(self):
        model, cache = tiny_model(4), fresh_cache()
        with torch.no_grad():
            stage.forward_with_cache(model, random_tokens((1, 5), V, 4), cache)
            if len(cache) != 5:
                fail(f"After forward_with_cache on 5 tokens, len(cache) should be 5, got {len(cache)}")
            expect_value_error(
                lambda: stage.forward_with_cache(model, random_tokens((1, 4), V, 5), cache),
                "forward_with_cache with 5 cached positions and 4 new tokens, block_size 8,",
                "there is no position embedding for position 8",
            )


FRESH_CACHE = (
    "When the cache holds block_size positions, start a fresh one from idx[:, -block_size:] (keys and values kept "
    "from before carry the positions they were computed at)."
)


CROP_PROMPT = "A prompt may be longer than block_size: run its last block_size tokens, idx[:, -block_size:], first."


def generated(model, idx, steps: int, call: str, *, seed: int, **options) -> torch.Tensor:
    """generate(model, idx, steps, generator=seed, **options); a ValueError that only the cache meets (the learner's
    forward_with_cache rightly refuses positions past block_size) blames generate's cache, not that refusal."""
    fresh_cache()  # generate makes its own
    with explained_if_generate_raises(model, idx, steps, seed=seed, **options):
        try:
            tokens = stage.generate(model, idx, steps, generator=torch.Generator().manual_seed(seed), **options)
        except ValueError as error:
            uncached = answer_or_none(
                lambda: stage.generate(
                    model, idx, steps, generator=torch.Generator().manual_seed(seed), use_cache=False, **options
                )
            )
            if not isinstance(uncached, torch.Tensor):
                raise
            fail(
                f"{call} raised ValueError: {error}",
                parts_first(seed, **options) or overflow_diagnosis(model, idx, steps, seed=seed, **options),
            )
    if isinstance(tokens, torch.Tensor) and tuple(tokens.shape) == (idx.shape[0], steps):
        fail(
            f"{call}: expected shape {(idx.shape[0], idx.shape[1] + steps)}, got {tuple(tokens.shape)}",
            NEW_TOKENS_ALONE,
        )
    return tokens


def explained_if_generate_raises(model, idx, steps: int, *, seed: int, **options):
    """Where generate(model, idx, steps, ...) raises, say which part it runs at every step is wrong itself
    (parts_first), or else, where forward_with_cache refused what generate fed it, what that was: torch's error,
    or the learner's own refusal, names where the wrong values ended up, not where they came from."""

    def diagnosis(error: Exception) -> str:
        if parts := parts_first(seed, **options):
            return parts
        if isinstance(error, ValueError) and raised_in(error, "forward_with_cache"):
            return overflow_diagnosis(model, idx, steps, seed=seed, **options)
        return ""

    return explained_if_it_raises(diagnosis)


def raised_in(error: Exception, function_name: str) -> bool:
    return any(frame.f_code.co_name == function_name for frame, _ in traceback.walk_tb(error.__traceback__))


def overflow_diagnosis(model, idx, steps: int, *, seed: int, **options) -> str:
    """What generate fed forward_with_cache past block_size: more tokens into a fresh cache (uncropped), or one
    more into a full cache (not started afresh)."""
    module = load_stage("s10_generation")
    calls, original = [], module.forward_with_cache

    def recorded(model, idx, cache, *args, **kwargs):
        calls.append(len(cache))
        return original(model, idx, cache, *args, **kwargs)

    module.forward_with_cache = recorded  # generate looks it up in its module each time it calls it
    try:
        answer_or_none(
            lambda: stage.generate(model, idx, steps, generator=torch.Generator().manual_seed(seed), **options)
        )
    finally:
        module.forward_with_cache = original
    if not calls:  # generate reaches forward_with_cache by another name
        return f"{CROP_PROMPT} {FRESH_CACHE}"
    if calls[-1] > 0:
        return f"The cache was fed more than block_size positions: {FRESH_CACHE[0].lower()}{FRESH_CACHE[1:]}"
    return CROP_PROMPT


def generation_diagnosis(model, idx, steps, *, seed, options) -> str:
    """Which part of a wrong generate is wrong: the probabilities it samples from, the cache, or the sampling."""
    parts = parts_first(seed, **options) or generator_first(model, idx, steps, **options)
    if parts:
        return parts
    return cache_first(model, idx, steps, seed=seed, **options) or (
        "Each step samples once with torch.multinomial(probs, num_samples=1, generator=generator) from "
        "next_token_probabilities(...) of the last position; the context is the last block_size tokens."
    )


def cache_first(model, idx, steps: int, *, seed: int, **options) -> str:
    """Where generate's tokens are right with use_cache=False, say that the cache is what goes wrong (a false-pass
    hunt's generate refilled a full cache from the newest token alone, and was told about top_k)."""
    generator = torch.Generator().manual_seed(seed)
    uncached = answer_or_none(
        lambda: stage.generate(model, idx, steps, generator=generator, use_cache=False, **options)
    )
    if not close(uncached, hand_generation(model, idx, steps, seed=seed, **options), 0):
        return ""
    return (
        "With use_cache=False the tokens are right: the cache goes wrong, once the prompt and the new tokens pass "
        f"block_size. {FRESH_CACHE}"
    )


def parts_first(seed: int, **options) -> str:
    """Where a part that generate runs at every step is wrong itself, say so first: next_token_probabilities (with
    the call's options), which it samples from, then the cache's parts. generate may well be right."""
    for rows in (3, 1):  # one row too, as some of generate's tests sample: a squeeze makes it a vector
        logits = random_floats((rows, V), seed) * 3
        probabilities = answer_or_none(lambda logits=logits: stage.next_token_probabilities(logits, **options))
        if not close(probabilities, probabilities_by_hand(logits, **options), 1e-5):
            call = ", ".join(["logits", *([shown_options(options)] if options else [])])
            return (
                f"next_token_probabilities({call}) is wrong too, and generate samples from it: its own tests say "
                "what to change; generate may well be right."
            )
    return cache_parts_first(seed)


def cache_parts_first(seed: int) -> str:
    """Where KVCache, attend_with_cache or forward_with_cache, which generate runs at every step, is wrong itself,
    or the model's own forward that the tests compare with, say so: generate may well be right."""
    if not kv_cache_holds_what_it_was_given():
        return (
            "KVCache, which generate fills at every step, is wrong itself (TestKVCache says how): fix it first; "
            "generate may well be right."
        )
    attention = attention_first(seed, [3, 1, 1], caller="generate")
    if attention:
        return attention
    # up to a cache that holds block_size positions, which generate fills before it starts a fresh one
    model, idx = tiny_model(seed), random_tokens((2, BLOCK_SIZE), V, seed)
    if wrong_model := model_first(model, idx):
        return wrong_model
    with torch.no_grad():
        cached = answer_or_none(lambda: cached_logits(model, idx, [3] + [1] * (BLOCK_SIZE - 3)))
        if close(cached, model(idx)[0], atol=1e-5):
            return ""
    return (
        "forward_with_cache, which generate runs at every step, is wrong itself (TestForwardWithCache says how): fix "
        "it first; generate may well be right."
    )


def kv_cache_holds_what_it_was_given() -> bool:
    """Whether a KVCache given 4 positions, then 4 more, on each of two layers, returns them joined (keys and values)
    and counts 8."""

    def filled():
        cache, k, v = stage.KVCache(), random_floats((2, 3, 4, 5), 1), random_floats((2, 3, 4, 5), 2)
        for layer in (0, 1):
            cache.update(layer, k + layer, v - layer)
        returned = [cache.update(layer, k * 2, v * 2) for layer in (0, 1)]
        joined = [(torch.cat((k + layer, k * 2), dim=2), torch.cat((v - layer, v * 2), dim=2)) for layer in (0, 1)]
        return len(cache) == 8 and all(
            close(got[0], want[0], 0) and close(got[1], want[1], 0) for got, want in zip(returned, joined, strict=True)
        )

    return bool(answer_or_none(filled))


def kv_cache_first() -> str:
    """Where KVCache itself is wrong (its len, what update returns), say so before what it makes look wrong."""
    if kv_cache_holds_what_it_was_given():
        return ""
    return "KVCache is wrong itself (TestKVCache says how): fix it first; the code that fills it may well be right."


def generator_first(model, idx, steps: int, **options) -> str:
    """Where generate's tokens depend on the global random generator, not only on the one it is given, say so:
    every test here compares tokens drawn with a seeded generator. Two calls after the same global seed must
    agree first, or the difference is state kept between calls, not the generator."""
    runs = []
    for global_seed in (1, 1, 2):
        with fixed_seed(global_seed):
            generator = torch.Generator().manual_seed(0)
            runs.append(answer_or_none(lambda g=generator: stage.generate(model, idx, steps, generator=g, **options)))
    if close(runs[1], runs[0], 0) and not close(runs[2], runs[0], 0):
        return (
            "The tokens change with the global seed, though the generator is seeded the same: pass the generator to "
            "torch.multinomial, and draw nothing from the global random generator."
        )
    return ""


def answer_or_none(call):
    """What call() returns, or None where it raises: for a diagnosis, which must not fail in its own right."""
    try:
        return call()
    except Exception:
        return None


def embedded_lengths(model):
    """Record how many positions each call of the first block handles on one row (its ln1's, however called)."""
    return positions_per_call(model.blocks[0].ln1, rows=1)


class TestGenerate:
    def test_makes_its_tensors_on_the_inputs_device(self):
        fresh_cache()  # generate makes its own
        model, idx = tiny_model(5), random_tokens((1, 3), V, 5)  # one row: rows are other tests' business
        with explained_if_generate_raises(model, idx, 4, seed=0, top_k=3, top_p=0.9):
            expect_tensors_on_the_inputs_device(
                lambda: stage.generate(model, idx, 4, top_k=3, top_p=0.9, generator=torch.Generator().manual_seed(0)),
                "generate(model, idx of shape (1, 3), 4, top_k=3, top_p=0.9)",
            )

    def test_samples_what_the_full_forward_gives_past_block_size(self):
        model, idx = tiny_model(5), random_tokens((2, 3), V, 5)
        options = dict(temperature=0.8, top_k=6, top_p=0.9)
        call = (
            "generate(model, idx of shape (2, 3), 12, temperature=0.8, top_k=6, top_p=0.9, generator=seed 0) with "
            "block_size 8"
        )
        got = generated(model, idx, 12, call, seed=0, **options)
        expected = hand_generation(model, idx, 12, seed=0, **options)
        hint = "" if close(got, expected, 0) else generation_diagnosis(model, idx, 12, seed=0, options=options)
        expect_equal_tensors(got, expected, call, hint=hint)

    def test_without_options_samples_at_temperature_1_from_every_token(self):
        model, idx = tiny_model(8), random_tokens((2, 2), V, 8)
        call = "generate(model, idx of shape (2, 2), 10, generator=seed 4), with no sampling options"
        got, expected = generated(model, idx, 10, call, seed=4), hand_generation(model, idx, 10, seed=4)
        hint = "" if close(got, expected, 0) else parts_first(4) or generator_first(model, idx, 10)
        hint = hint or (
            "Keep the signature's defaults, temperature=1.0, top_k=None and top_p=None: without options, generate "
            "samples from the model's own probabilities."
        )
        expect_equal_tensors(got, expected, call, hint=hint)

    def test_the_cache_does_not_change_the_tokens(self):
        model, idx = tiny_model(6), random_tokens((3, 2), V, 6)
        # without options, and with every option: use_cache=False applies them as the cache does
        for options in ({}, dict(temperature=0.8, top_k=3, top_p=0.5)):  # top_p cuts into the 3 kept
            shown = "".join(f", {name}={value}" for name, value in options.items())
            call = f"generate(model, idx of shape (3, 2), 14{shown})"
            cached = generated(model, idx, 14, f"{call}, generator=seed 1", seed=1, **options)
            with explained_if_generate_raises(model, idx, 14, seed=1, **options):
                uncached = stage.generate(
                    model, idx, 14, generator=torch.Generator().manual_seed(1), use_cache=False, **options
                )
            hint = "" if close(cached, uncached, 0) else generator_first(model, idx, 14) or cache_parts_first(6)
            expect_equal_tensors(
                cached,
                uncached,
                f"{call} with use_cache=True against use_cache=False, same seed",
                hint=hint
                or (
                    "With use_cache=False, apply every option as with the cache: temperature, top_k and top_p alike."
                    if options
                    else "Once the cache holds block_size positions, start a fresh one from the last block_size "
                    "tokens: the position embeddings end there."
                ),
            )

    def test_top_k_1_is_greedy_decoding(self):
        model, idx = tiny_model(7), random_tokens((2, 1), V, 7)
        with torch.no_grad():
            greedy = idx
            for _ in range(10):
                greedy = torch.cat((greedy, model(greedy[:, -BLOCK_SIZE:])[0][:, -1:].argmax(-1)), dim=1)
        got = generated(model, idx, 10, "generate(model, idx of shape (2, 1), 10, top_k=1)", seed=2, top_k=1)
        hint = "" if close(got, greedy, 0) else parts_first(2, top_k=1) or cache_first(model, idx, 10, seed=2, top_k=1)
        expect_equal_tensors(
            got,
            greedy,
            "generate(model, idx of shape (2, 1), 10, top_k=1) against always taking the most likely token",
            hint=hint or "With top_k=1 only the most likely token keeps any probability.",
        )

    def test_every_token_is_inside_the_top_k(self):
        model, idx, top_k = tiny_model(8), random_tokens((4, 1), V, 8), 3
        call = "generate(model, idx of shape (4, 1), 16, top_k=3, temperature=2.0)"
        got = generated(model, idx, 16, call, seed=3, top_k=top_k, temperature=2.0)
        with torch.no_grad():
            for t in range(1, got.shape[1]):
                allowed = model(got[:, max(0, t - BLOCK_SIZE) : t])[0][:, -1, :].topk(top_k).indices
                outside = ~(allowed == got[:, t : t + 1]).any(-1)
                if outside.any():
                    row = int(outside.nonzero()[0])
                    fail(
                        f"{call}: token {t} of row {row} is {int(got[row, t])}, outside the 3 most likely "
                        f"{allowed[row].tolist()}",
                        parts_first(3, top_k=top_k, temperature=2.0)
                        or cache_first(model, idx, 16, seed=3, top_k=top_k, temperature=2.0),
                    )

    def test_starts_from_the_last_block_size_tokens_of_a_longer_prompt(self):
        model, idx = tiny_model(12), random_tokens((1, BLOCK_SIZE + 4), V, 12)
        call = f"generate(model, idx of shape (1, {BLOCK_SIZE + 4}), 3, generator=seed 0) with block_size {BLOCK_SIZE}"
        with explained_if_generate_raises(model, idx, 3, seed=0):
            try:
                got = stage.generate(model, idx, 3, generator=torch.Generator().manual_seed(0))
            except ValueError as error:
                fail(f"{call} raised ValueError: {error}", overflow_diagnosis(model, idx, 3, seed=0))
        expected = hand_generation(model, idx, 3, seed=0)
        hint = "" if close(got, expected, 0) else parts_first(0) or generator_first(model, idx, 3)
        expect_equal_tensors(got, expected, call, hint=hint or CROP_PROMPT)

    def test_the_cache_reads_one_new_token_per_step(self):
        model, idx = tiny_model(9), random_tokens((1, 3), V, 9)
        lengths = embedded_lengths(model)
        generated(model, idx, 10, "generate(model, idx of shape (1, 3), 10) with block_size 8", seed=4)
        # The prompt once, then one token per step until the cache holds block_size positions; from then on
        # the last block_size tokens each step (the position embeddings end at block_size).
        expected = [3] + [1] * (BLOCK_SIZE - 3) + [BLOCK_SIZE] * (10 - 1 - (BLOCK_SIZE - 3))
        if lengths != expected:
            fail(
                f"generate(model, idx of shape (1, 3), 10) with block_size 8 ran the first block on {lengths} "
                f"positions per step, expected {expected}",
                kv_cache_first()
                or "Run the prompt once into a fresh KVCache, then only the newest token (idx[:, -1:]) each step; "
                "when the cache is full, start a fresh one from idx[:, -block_size:].",
            )

    def test_without_the_cache_reads_the_whole_context_each_step(self):
        fresh_cache()  # generate makes its own
        model, idx = tiny_model(9), random_tokens((1, 3), V, 9)
        lengths = embedded_lengths(model)
        with explained_if_generate_raises(model, idx, 10, seed=4):
            stage.generate(model, idx, 10, generator=torch.Generator().manual_seed(4), use_cache=False)
        expected = [min(3 + step, BLOCK_SIZE) for step in range(10)]
        if lengths != expected:
            fail(
                f"generate(model, idx of shape (1, 3), 10, use_cache=False) with block_size 8 ran the first block on "
                f"{lengths} positions per step, expected {expected}",
                "With use_cache=False, read the whole context, idx[:, -block_size:], at every step (into a fresh "
                "KVCache each time): that is what the cache's speed is measured against.",
            )

    def test_same_generator_same_tokens_whatever_the_global_seed(self):
        fresh_cache()  # generate makes its own
        model, idx = tiny_model(10), random_tokens((2, 2), V, 10)
        with explained_if_generate_raises(model, idx, 8, seed=5, temperature=1.5):
            with fixed_seed(1):
                first = stage.generate(model, idx, 8, temperature=1.5, generator=torch.Generator().manual_seed(5))
            with fixed_seed(2):
                second = stage.generate(model, idx, 8, temperature=1.5, generator=torch.Generator().manual_seed(5))
        expect_equal_tensors(
            second,
            first,
            "generate(..., generator=torch.Generator().manual_seed(5)) twice, with different global seeds",
            hint="Pass the generator to torch.multinomial, and draw nothing from the global random generator.",
        )

    def test_a_second_call_starts_afresh(self):
        fresh_cache()  # generate makes its own
        model, first, second = tiny_model(13), random_tokens((2, 3), V, 13), random_tokens((2, 2), V, 14)
        with explained_if_generate_raises(model, first, 2, seed=0):
            stage.generate(model, first, 2, generator=torch.Generator().manual_seed(0))  # a cache left part-filled
        call = (
            "generate(model, idx of shape (2, 2), 5, generator=seed 1), after a call that generated 2 tokens from "
            "another prompt"
        )
        hint = (
            "Make a fresh KVCache() inside each call of generate, and keep nothing between calls (not on the model, "
            "not in a global): a second call must not read the first one's positions."
        )
        try:
            got = stage.generate(model, second, 5, generator=torch.Generator().manual_seed(1))
        except Exception as error:  # the first call's cache, of another length, meeting the second's tensors
            fail(f"{call} raised {type(error).__name__}: {error}", kv_cache_first() or hint)
        expected = hand_generation(model, second, 5, seed=1)
        hint = "" if close(got, expected, 0) else parts_first(13) or generator_first(model, second, 5) or hint
        expect_equal_tensors(got, expected, call, hint=hint)

    def test_without_a_generator_samples_from_the_global_one(self):
        fresh_cache()  # generate makes its own
        model, idx = tiny_model(14), random_tokens((8, 2), V, 15)
        runs = []
        for global_seed in (1, 1, 2):
            with fixed_seed(global_seed), explained_if_generate_raises(model, idx, 10, seed=15, temperature=1.5):
                runs.append(stage.generate(model, idx, 10, temperature=1.5))
        call = "generate(model, idx of shape (8, 2), 10, temperature=1.5) without a generator"
        hint = (
            "Without a generator, sample from the global random generator: torch.multinomial(probs, 1, "
            "generator=None) draws from it, so torch.manual_seed decides the tokens (kata sample relies on it)."
        )
        expect_equal_tensors(runs[1], runs[0], f"{call}, twice after torch.manual_seed(1)", hint=hint)
        if torch.equal(runs[2], runs[0]):
            fail(f"{call} gave the same tokens after torch.manual_seed(1) and torch.manual_seed(2)", hint)

    def test_leaves_the_model_in_the_mode_it_found_it(self):
        fresh_cache()  # generate makes its own
        model, idx = tiny_model(15), random_tokens((1, 2), V, 16)
        for training, left_in in ((True, "eval"), (False, "training")):
            with explained_if_generate_raises(model.train(training), idx, 3, seed=0):
                stage.generate(model, idx, 3, generator=torch.Generator().manual_seed(0))
            if model.training != training:
                after = "training after a sample would run without dropout" if training else "an evaluation would drop"
                fail(
                    f"generate(model, idx, 3) on a model in {'training' if training else 'eval'} mode left it in "
                    f"{left_in} mode, so {after}",
                    "Sample in eval mode if you like, but put back the mode the caller set: was_training = "
                    "model.training, then model.train(was_training) before returning.",
                )

    def test_rejects_bad_arguments(self):
        model, idx = tiny_model(11), random_tokens((1, 2), V, 11)
        for options in (dict(temperature=0.0), dict(top_k=V + 1), dict(top_p=1.5)):
            shown = shown_options(options)
            expect_value_error(
                lambda options=options: stage.generate(model, idx, 3, **options), f"generate(model, idx, 3, {shown})"
            )
