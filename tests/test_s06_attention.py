"""Stage 6 · Self-attention."""

import torch
from feedback import close, expect_equal_tensors, expect_tensor, fail, rearranged_like, show
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import random_floats, seeds
from support import expect_tensors_on_the_inputs_device, fixed_seed, recorded_dropout, recorded_fused_attention
from torch import nn

from kata.implementation import StageModule

stage = StageModule("s06_attention")


def hand_weights(q: torch.Tensor, k: torch.Tensor, scale: float | None = None, *, masked: bool = True) -> torch.Tensor:
    """The oracle, written out: affinities scaled by head_size ** -0.5 (or `scale`), -inf above the
    diagonal (unless not `masked`: what a head that masks nothing gives), softmax over rows."""
    T, head_size = q.shape[-2], k.shape[-1]
    scale = head_size**-0.5 if scale is None else scale
    affinities = q.double() @ k.double().transpose(-2, -1) * scale
    future = torch.ones(T, T).triu(1).bool() & masked
    return torch.softmax(affinities.masked_fill(future, float("-inf")), dim=-1)


def hiding_themselves(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The weights of a mask that hides each position from itself too (triu without diagonal=1): row 0, which may
    see only itself, sees nothing and is NaN."""
    T = q.shape[-2]
    affinities = q.double() @ k.double().transpose(-2, -1) * k.shape[-1] ** -0.5
    return torch.softmax(affinities.masked_fill(torch.ones(T, T).triu().bool(), float("-inf")), dim=-1)


def same_but_the_nan_row(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """Whether `got` is `expected`, whose first row is NaN, with NaN where it has NaN."""
    got = got.detach().double()
    return (
        got.shape == expected.shape
        and bool(got[..., 0, :].isnan().all())
        and torch.allclose(got[..., 1:, :], expected[..., 1:, :], atol=1e-5)
    )


HIDDEN_FROM_ITSELF = (
    "Each position is masked from itself too, so the first, which may see only itself, sees nothing and its row "
    "is NaN: mask only the keys after each query, where tril == 0 (or triu(..., diagonal=1)), not triu(...) itself."
)

SCALED_BY_T = (
    "These affinities are scaled by T ** -0.5, the number of positions (q.shape[1]): the scale is head_size ** -0.5, "
    "k.shape[-1] ** -0.5."
)


def weights_diagnosis(got, q, k) -> str:
    if not isinstance(got, torch.Tensor) or got.shape != hand_weights(q, k).shape:
        return ""
    head_size = k.shape[-1]
    if same_but_the_nan_row(got, hiding_themselves(q, k)):
        return HIDDEN_FROM_ITSELF
    if head_size > 1 and torch.allclose(got.double(), hand_weights(q, k, scale=1.0), atol=1e-6):
        return "These weights are not scaled: multiply q @ k^T by head_size ** -0.5."
    if head_size > 1 and torch.allclose(got.double(), hand_weights(q, k, scale=1 / head_size), atol=1e-6):
        return "These affinities are divided by head_size: scale by its square root, head_size ** -0.5."
    if head_size > 1 and torch.allclose(got.double(), hand_weights(q, k, scale=head_size**0.5), atol=1e-6):
        return "These affinities are multiplied by sqrt(head_size): multiply by head_size ** -0.5, the inverse."
    T = q.shape[-2]
    if T not in (1, head_size) and torch.allclose(got.double(), hand_weights(q, k, scale=T**-0.5), atol=1e-6):
        return SCALED_BY_T
    if got.double().triu(1).abs().max() > 0:
        return "Positions attend to the future: fill -inf above the diagonal (where tril == 0) before the softmax."
    if torch.allclose(got.double().sum(-2), torch.ones(got.shape[-1], dtype=torch.float64), atol=1e-6):
        return "The columns sum to 1, not the rows: softmax over the last dim (dim=-1)."
    if not torch.allclose(got.double().sum(-1), torch.ones(got.shape[:-1], dtype=torch.float64), atol=1e-6):
        return "The rows do not sum to 1: fill -inf above the diagonal before the softmax, not 0 after it."
    return ""


def masked_with_zero(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The weights of a mask that fills the future with 0 instead of -inf."""
    T = q.shape[-2]
    affinities = q.double() @ k.double().transpose(-2, -1) * k.shape[-1] ** -0.5
    return torch.softmax(affinities.masked_fill(torch.ones(T, T).triu(1).bool(), 0.0), dim=-1)


def zeroed_after_softmax(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """The weights of a head that takes the softmax unmasked, then zeroes the future: rows no longer sum to 1."""
    T = q.shape[-2]
    return hand_weights(q, k, masked=False).masked_fill(torch.ones(T, T).triu(1).bool(), 0.0)


# wei[0] as the lecture prints it (rows 0 to 4, columns 0 to 4), for its example's q and k, unscaled.
LECTURE_WEIGHTS = torch.tensor(
    [
        [1.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.1574, 0.8426, 0.0000, 0.0000, 0.0000],
        [0.2088, 0.1646, 0.6266, 0.0000, 0.0000],
        [0.5792, 0.1187, 0.1889, 0.1131, 0.0000],
        [0.0294, 0.1052, 0.0469, 0.0276, 0.7909],
    ],
    dtype=torch.float64,
)


def lecture_queries_and_keys() -> tuple[torch.Tensor, torch.Tensor]:
    """The q and k of the lecture's version 4: seed 1337, x = randn(4, 8, 32), then key and query layers."""
    with fixed_seed(1337), torch.no_grad():
        x = torch.randn(4, 8, 32)
        key, query = nn.Linear(32, 16, bias=False), nn.Linear(32, 16, bias=False)
        return query(x), key(x)


def fresh_head(n_embd, head_size, block_size, seed, dropout=0.0):
    with fixed_seed(seed):
        return stage.Head(n_embd, head_size, block_size, dropout)


def projections(head, x) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """q, k, v of a head, computed from the weights of its key, query and value layers."""
    layers = [getattr(head, name, None) for name in ("query", "key", "value")]
    if not all(isinstance(layer, nn.Linear) for layer in layers):
        fail("Head should have nn.Linear layers named key, query and value; got " + repr(layers))
    return tuple(x.double() @ layer.weight.double().T for layer in layers)


def head_by_hand(head, x, scale: float | None = None):
    q, k, v = projections(head, x)
    return hand_weights(q, k, scale) @ v


def head_diagnosis(head, x, got) -> str:
    """Name the mistake when the head computes a known wrong variant of attention."""
    q, k, v = projections(head, x)
    if not isinstance(got, torch.Tensor) or got.shape != v.shape:
        return ""
    known = [
        (
            head_by_hand(head, x, scale=x.shape[-1] ** -0.5),
            "The affinities are scaled by n_embd ** -0.5 (C from x.shape, as in the video's first version): "
            "scale by head_size ** -0.5, that is k.shape[-1] ** -0.5.",
        ),
        (head_by_hand(head, x, scale=1.0), "The affinities are not scaled: multiply q @ k^T by head_size ** -0.5."),
        (head_by_hand(head, x, scale=x.shape[1] ** -0.5), SCALED_BY_T),
        (
            head_by_hand(head, x, scale=1 / k.shape[-1]),
            "The affinities are divided by head_size: scale by its square root, head_size ** -0.5.",
        ),
        (
            head_by_hand(head, x, scale=k.shape[-1] ** 0.5),
            "The affinities are multiplied by sqrt(head_size): multiply by head_size ** -0.5, the inverse.",
        ),
        (
            zeroed_after_softmax(q, k) @ v,
            "The rows do not sum to 1: fill -inf above the diagonal before the softmax, not 0 after it.",
        ),
        (
            hand_weights(q, k, masked=False) @ v,  # a masked_fill whose result was thrown away
            "No position is masked: mask the future, wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf')) "
            "(masked_fill returns a new tensor and leaves wei as it was: assign its result).",
        ),
        (
            hand_weights(k, q) @ v,
            "The affinities are k @ q^T: compute q @ k^T, so row t says how well query t matches each key.",
        ),
        (
            hand_weights(q, k) @ q,
            "The weights mix the queries: aggregate the values, v = self.value(x), and return wei @ v.",
        ),
        (hand_weights(q, k) @ k, "The weights mix the keys: v = self.value(x), not self.key(x) (a line copied?)."),
        (hand_weights(k, k) @ v, "The queries are the keys: q = self.query(x), not self.key(x) (a line copied?)."),
        (hand_weights(q, q) @ v, "The keys are the queries: k = self.key(x), not self.query(x) (a line copied?)."),
        (
            masked_with_zero(q, k) @ v,
            "The future affinities are filled with 0, which the softmax turns into weight: fill them with "
            "float('-inf'), masked_fill(self.tril[:T, :T] == 0, float('-inf')).",
        ),
    ]
    for expected, diagnosis in known:
        if torch.allclose(got.detach().double(), expected, atol=1e-5):
            return diagnosis
    if same_but_the_nan_row(got, hiding_themselves(q, k) @ v):
        return HIDDEN_FROM_ITSELF
    return ""


class TestAttentionWeights:
    @given(seeds, st.integers(1, 3), st.integers(1, 10), st.integers(1, 16))
    @example(0, 2, 4, 8)
    def test_match_a_hand_computation(self, seed, B, T, head_size):
        q, k = random_floats((B, T, head_size), seed), random_floats((B, T, head_size), seed + 1)
        expected = hand_weights(q, k).float()  # before the call, which might change q or k in place
        given = {"q": q.clone(), "k": k.clone()}
        got = stage.attention_weights(given["q"], given["k"])
        call = f"attention_weights(q, k) for q, k of shape ({B}, {T}, {head_size})"
        for name, before in (("q", q), ("k", k)):
            after = given[name]
            if not torch.equal(after, before):
                now = f"its shape is now {tuple(after.shape)}" if after.shape != before.shape else "its values changed"
                fail(
                    f"{call} changed its argument {name} ({now})",
                    "An in-place op (transpose_, mul_, *=) on an argument changes the caller's tensor: use "
                    "k.transpose(-2, -1), which returns a new view, and q @ k.transpose(-2, -1) * head_size ** -0.5, "
                    "which makes a new tensor",
                )
        expect_equal_tensors(got, expected, call, atol=1e-5, hint=weights_diagnosis(got, q, k))

    def test_give_the_lectures_weights_for_its_example(self):
        """The lecture's version 4 (1:02:00) prints wei[0] for torch.manual_seed(1337), x = randn(4, 8, 32) and
        bias-free key and query layers of head size 16, before it scales the affinities: q and k doubled here
        make head_size ** -0.5 = 1/4 cancel, so the scaled weights are the ones it printed."""
        q, k = lecture_queries_and_keys()
        got = stage.attention_weights(2 * q, 2 * k)
        call = "attention_weights(2 * q, 2 * k) with the lecture's q and k (seed 1337, head size 16)"
        hint = weights_diagnosis(got, 2 * q, 2 * k)
        expect_tensor(got, call, hint)
        if got.shape != (4, 8, 8):
            fail(f"{call}: expected shape (4, 8, 8), got {tuple(got.shape)}", hint)
        where = f"{call}, wei[0] in rows and columns 0 to 4 (the lecture prints them)"
        expect_equal_tensors(got[0, :5, :5].detach().double(), LECTURE_WEIGHTS, where, atol=1e-4, hint=hint)

    def test_rows_sum_to_one_and_nothing_comes_from_the_future(self):
        q, k = random_floats((2, 9, 4), 3), random_floats((2, 9, 4), 4)
        wei = stage.attention_weights(q, k)
        if isinstance(wei, torch.Tensor) and wei.isnan().any():
            rows = sorted({int(row) for row in wei.isnan().any(-1).nonzero()[:, -1]})
            fail(
                f"attention_weights: rows {rows} of the weights are NaN",
                HIDDEN_FROM_ITSELF if same_but_the_nan_row(wei, hiding_themselves(q, k)) else "",
            )
        if wei.triu(1).abs().max() != 0:
            fail(
                "attention_weights: some weight above the diagonal is not 0: position t must not attend to t+1, "
                "t+2, ..."
            )
        # in float64: weights computed and returned in double precision are correct too
        if not torch.allclose(wei.sum(-1).double(), torch.ones(2, 9, dtype=torch.float64), atol=1e-6):
            fail(f"attention_weights: each row should sum to 1, the row sums are {show(wei.sum(-1)[0])}")

    def test_makes_its_mask_on_the_inputs_device(self):
        q, k = random_floats((2, 5, 4), 7), random_floats((2, 5, 4), 8)
        expect_tensors_on_the_inputs_device(
            lambda: stage.attention_weights(q, k), "attention_weights(q, k)", the_input="q"
        )

    def test_scaling_keeps_the_affinities_variance_near_one(self):
        """The lecture's point: unit-variance q and k give affinities of variance head_size unless
        scaled; the softmax then saturates towards one-hot. The last row has no mask, so its
        log-weights are the affinities up to a constant."""
        q, k = random_floats((64, 32, 64), 5, torch.float64), random_floats((64, 32, 64), 6, torch.float64)
        weights = stage.attention_weights(q, k)
        log_weights = torch.log(weights[:, -1, :].double())
        variance = log_weights.var(dim=-1).mean().item()
        if not 0.7 < variance < 1.3:
            fail(
                "For unit-variance q and k (head_size 64) the scaled affinities should have variance near 1, got "
                f"{variance:.3g}",
                HIDDEN_FROM_ITSELF
                if same_but_the_nan_row(weights, hiding_themselves(q, k))
                else "Multiply q @ k^T by head_size ** -0.5 (once).",
            )


class TestHead:
    def test_makes_its_tensors_on_the_inputs_device(self):
        head = fresh_head(8, 4, 6, 0)
        x = random_floats((2, 5, 8), 9)
        expect_tensors_on_the_inputs_device(lambda: head(x), "Head(8, 4, 6) on x of shape (2, 5, 8)", the_input="x")

    def test_has_key_query_value_without_bias_and_a_tril_buffer(self):
        head = fresh_head(12, 4, 8, 0)
        for name in ("key", "query", "value"):
            layer = getattr(head, name, None)
            if not isinstance(layer, nn.Linear) or tuple(layer.weight.shape) != (4, 12) or layer.bias is not None:
                fail(f"Head(12, 4, 8).{name}: expected nn.Linear(12, 4, bias=False), got {layer!r}")
        buffers = dict(head.named_buffers())
        if "tril" not in buffers or tuple(buffers["tril"].shape) != (8, 8):
            fail(
                "Head(12, 4, 8) should register a buffer `tril` of shape (8, 8): self.register_buffer('tril', "
                "torch.tril(torch.ones(8, 8)))"
            )

    @given(seeds, st.integers(1, 3), st.integers(1, 8), st.integers(1, 12), st.integers(1, 6))
    @example(0, 2, 5, 8, 4)
    def test_matches_a_hand_computation_for_any_T_up_to_block_size(self, seed, B, T, n_embd, head_size):
        head = fresh_head(n_embd, head_size, 8, seed).eval()
        x = random_floats((B, T, n_embd), seed)
        got = head(x)
        expect_equal_tensors(
            got.detach() if isinstance(got, torch.Tensor) else got,
            head_by_hand(head, x).float(),
            f"Head({n_embd}, {head_size}, block_size=8) on x of shape ({B}, {T}, {n_embd})",
            atol=1e-5,
            hint=head_diagnosis(head, x, got),
        )

    def test_one_head_serves_inputs_of_several_lengths(self):
        """One head called on x of 3 positions, then 7, then 3 again, must give what a fresh head with the
        same weights gives on each (whether that is right, the tests above say)."""
        head = fresh_head(8, 4, 8, 4).eval()
        kept = (
            "It keeps something from an earlier call (a mask cut to the first call's length?): cut self.tril[:T, :T] "
            "afresh from the input's T in every forward"
        )
        head(random_floats((2, 3, 8), 13))
        for previous, T in ((3, 7), (7, 3)):
            x = random_floats((2, T, 8), 10 + T)
            call = f"Head(8, 4, block_size=8) on x of shape (2, {T}, 8)"
            expected = fresh_head(8, 4, 8, 4).eval()(x)  # the same weights, never called before
            expect_tensor(expected, call)
            call = f"{call}, after a call on x of {previous} positions"
            try:
                got = head(x)
            except NotImplementedError:
                raise
            except Exception as error:
                fail(f"{call}, raised {type(error).__name__} where a fresh Head did not: {str(error)[:200]}", kept)
            expect_equal_tensors(
                got, expected.detach(), f"{call}, against a fresh Head with the same weights", atol=1e-6, hint=kept
            )

    def test_the_past_never_depends_on_the_future(self):
        head = fresh_head(6, 3, 10, 1).eval()
        x = random_floats((2, 10, 6), 2)
        changed = x.clone()
        changed[:, 6:] += 5.0
        if not torch.allclose(head(x)[:, :6], head(changed)[:, :6], atol=1e-6, equal_nan=True):
            q, k, v = projections(head, x)
            after_softmax = close(head(x), (zeroed_after_softmax(q, k) @ v).float(), 1e-5)
            fail(
                "Head: changing the tokens after position 5 changed the outputs at positions 0..5",
                "The future is zeroed after the softmax: mask it with -inf before the softmax, "
                "wei.masked_fill(self.tril[:T, :T] == 0, float('-inf')). Zeroing it after still lets the future into "
                "each row's normalisation"
                if after_softmax
                else "Mask the future",
            )

    def test_lets_gradients_through_its_dropout(self):
        head = fresh_head(8, 4, 6, 3, dropout=0.5).train()
        call = "Head(8, 4, 6, dropout=0.5) in training mode, then backward()"
        with fixed_seed(0):
            out = head(random_floats((2, 6, 8), 3))  # an error here is the forward's, explained as any other
        try:
            out.sum().backward()
        except RuntimeError as error:
            if "inplace operation" not in str(error):
                raise
            fail(
                f"{call} raised RuntimeError: {str(error).split('. Hint:')[0]}",
                "Drop with nn.Dropout(dropout), not in place (inplace=True): the gradient of the softmax needs its "
                "output as it was",
            )

    def test_dropout_acts_on_the_weights_in_training_only(self):
        head = fresh_head(8, 4, 6, 3, dropout=0.5)
        x = random_floats((2, 6, 8), 3)
        evaluated = head.eval()(x)
        expected = head_by_hand(head, x).float()
        hint = ""
        if not close(evaluated, expected, 1e-5):
            without_dropout = fresh_head(8, 4, 6, 3).eval()  # the same weights, dropout=0.0
            if close(without_dropout(x), head_by_hand(without_dropout, x).float(), 1e-5):
                hint = (
                    "In eval mode the head must not drop: nn.Dropout turns itself off after head.eval(), F.dropout "
                    "only with training=self.training."
                )
                if not any(isinstance(module, nn.Dropout) for module in head.modules()):
                    hint = (
                        "In eval mode the head must not drop, and it has no nn.Dropout submodule for head.eval() to "
                        "turn off: an nn.Dropout made inside forward is a new module each call, always in training "
                        "mode (and F.dropout drops unless given training=self.training). Create it once in "
                        "__init__, self.dropout = nn.Dropout(dropout)."
                    )
            else:
                hint = head_diagnosis(head, x, evaluated) or (
                    "It computes other values with dropout=0.0 too: "
                    "test_matches_a_hand_computation_for_any_T_up_to_block_size says more."
                )
        expect_equal_tensors(evaluated.detach(), expected, "Head(dropout=0.5) in eval mode (dropout off)", 1e-5, hint)
        with fixed_seed(0), recorded_dropout() as calls, recorded_fused_attention() as fused:
            trained = head.train()(x)
        call = "Head(8, 4, 6, dropout=0.5) in training mode"
        dropped = [dropout for dropout in calls if dropout.active]
        if not dropped and fused:
            fail(
                f"{call} calls F.scaled_dot_product_attention, whose dropout this test cannot see",
                "This stage asks for the weights written out, as attention_weights computes them, then "
                "wei = self.dropout(wei) and wei @ v; the fused call is stage 9's.",
            )
        if not dropped:
            fail(
                f"{call} applied no dropout: create self.dropout = nn.Dropout(dropout) and apply it to the "
                "weights, wei = self.dropout(wei), after the softmax"
            )
        q, k, v = projections(head, x)
        weights = hand_weights(q, k)
        # (dropout, how its input lays out as the weights: as rows, say), or None where it holds other values
        laid_out = [(dropout, rearranged_like(dropout.input.double(), weights, 1e-5)) for dropout in dropped]
        on_weights = [found for found in laid_out if found[1]]
        on_weights = on_weights or [found for found in laid_out if found[0].input.shape == weights.shape]
        if not on_weights:
            what, hint = dropped[-1].input.double(), ""
            if what.shape == v.shape and torch.allclose(what, v, atol=1e-5):
                hint = "It dropped the values, v = self.dropout(self.value(x)), which the weights then average"
            elif what.shape == v.shape and torch.allclose(what, weights @ v, atol=1e-5):
                hint = (
                    "Dropping the head's output (wei @ v) zeroes features rather than the tokens a position gathers "
                    "from"
                )
            fail(
                f"{call} applied dropout to a tensor of shape {tuple(dropped[-1].input.shape)}, not to the (2, 6, 6) "
                "weights: drop the weights after the softmax, wei = self.dropout(wei), before wei @ v",
                hint,
            )
        dropout, arrange = on_weights[-1]
        if dropout.p != 0.5:
            fail(
                f"{call} dropped the weights with p={dropout.p:g}, not the dropout=0.5 it was given: pass the "
                "argument on, self.dropout = nn.Dropout(dropout)"
            )
        if arrange is None:
            fail(
                f"{call} applied dropout to a (2, 6, 6) tensor that is not the softmaxed weights: apply it after "
                "the softmax (and after the mask), wei = self.dropout(wei), then return wei @ v"
            )
        expect_equal_tensors(
            trained.detach(),
            (arrange(dropout.output.double()) @ v).float(),
            call,
            atol=1e-5,
            hint="Expected self.dropout(wei) @ v, with the dropped weights.",
        )
