"""Stage 5 · The averaging trick behind self-attention (versions 1 to 3)."""

import pytest
import torch
from feedback import close, expect_equal_tensors, fail, show
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import random_floats, seeds
from support import fixed_seed

from kata.implementation import StageModule

stage = StageModule("s05_averaging")

VERSIONS = ["average_loops", "average_matmul", "average_softmax"]
WEIGHTS = ["tril_average_weights", "softmax_average_weights"]
# Tolerances per dtype. float64 gets float32's: weights built in float32 (as in the lecture) and cast
# are correct too. Generous for the 16-bit types, whose rounding grows with the running sums.
TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-6, torch.bfloat16: 0.1, torch.float16: 2e-2}
LECTURE_XBOW_0 = [
    [0.1808, -0.0700],
    [-0.0894, -0.4926],
    [0.1490, -0.3199],
    [0.3504, -0.2238],
    [0.3525, 0.0545],
    [0.0688, -0.0396],
    [0.0927, -0.0682],
    [-0.0341, 0.1332],
]


def running_mean(x: torch.Tensor) -> torch.Tensor:
    """The independent oracle: cumulative sums divided by counts, in float64."""
    x = x.double()
    return x.cumsum(1) / torch.arange(1, x.shape[1] + 1, dtype=torch.float64).view(1, -1, 1)


def exact_weights(T: int) -> torch.Tensor:
    rows = torch.arange(T).view(-1, 1)
    return (torch.arange(T).view(1, -1) <= rows).double() / (rows + 1)


def weights_diagnosis(name: str, got: torch.Tensor, T: int) -> str:
    if not isinstance(got, torch.Tensor) or got.shape != (T, T):
        return ""
    got, upper = got.double(), torch.ones(T, T, dtype=torch.float64).triu()
    if got.isnan().any() and "softmax" in name:
        return "Some rows are NaN: a softmax over a row that is all -inf. Only the future (where tril == 0) gets -inf."
    if got[0].isnan().all():
        return (
            "Row 0 is NaN: 0/0 from a row with no ones. torch.tril(torch.ones(T, T)) keeps the diagonal "
            "(diagonal=0): each position averages itself too."
        )
    if got.isnan().any():
        return "Some rows are NaN: 0/0 from a row with no ones. Row t needs ones in columns 0..t, itself included."
    if torch.allclose(got, upper / upper.sum(1, keepdim=True), atol=1e-6) or torch.allclose(
        got, exact_weights(T).T, atol=1e-6
    ):
        return "These weights reach into the future (the upper triangle): use torch.tril, not torch.triu."
    if torch.allclose(got, torch.full((T, T), 1.0 / T, dtype=torch.float64), atol=1e-6):
        if "softmax" not in name:
            return "Every position averages the whole row, the future included: keep the lower triangle, torch.tril."
        return (
            "Every position sees the whole row, the future included: fill -inf where tril == 0 before the softmax "
            "(masked_fill returns a new tensor and leaves wei as it was: assign it, "
            "wei = wei.masked_fill(tril == 0, float('-inf')))."
        )
    if torch.allclose(got.sum(0), torch.ones(T, dtype=torch.float64), atol=1e-6):
        fix = "take the softmax along each row, dim=-1" if "softmax" in name else "divide by wei.sum(1, keepdim=True)"
        return f"The columns sum to 1, not the rows: {fix}."
    lower = upper.T
    if T > 1 and torch.allclose(got, lower / lower.sum(1), atol=1e-6):
        return (
            "Column j is divided by j + 1, not row t by t + 1: wei.sum(1) without keepdim=True has shape (T,), which "
            "broadcasts along each row. Keep the dimension, wei / wei.sum(1, keepdim=True)."
        )
    return "Row t must hold 1/(t+1) in columns 0..t and 0 after."


# The weights each version multiplies by, where it builds on them as the lecture's versions 2 and 3 do.
WEIGHTS_OF = {"average_matmul": "tril_average_weights", "average_softmax": "softmax_average_weights"}


def weights_first(name: str, T: int) -> str:
    """Where the weights function that version `name` builds on is wrong itself for T, say so first."""
    weights = WEIGHTS_OF.get(name)
    if weights is None:
        return ""
    try:
        got = getattr(stage, weights)(T)
    except Exception:  # a stub, or code that raises: its own test says so
        return ""
    if close(got, exact_weights(T), atol=1e-6):
        return ""
    return f"{weights}({T}) is wrong too: where {name} multiplies by it, fix it first (TestWeights says how)."


def version_diagnosis(got, x: torch.Tensor, name: str) -> str:
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        return ""
    if wrong_weights := weights_first(name, x.shape[1]):
        return wrong_weights
    got, T = got.double(), x.shape[1]
    if got.isnan().any():
        return "NaN is the mean of no values: position t averages x[b, :t+1], itself included."
    sums = x.double().cumsum(1)
    if torch.allclose(got, sums, atol=1e-4):
        return "These are running sums: divide by the number of tokens averaged (a mean)."
    positions = torch.arange(T, dtype=torch.float64).view(1, T, 1)
    for count, said in ((positions.clamp(min=1), "t"), (torch.full_like(positions, T), "T")):
        if T > 1 and torch.allclose(got, sums / count, atol=1e-4):
            return (
                f"Each sum of x[b, :t+1] is divided by {said}, not by the t + 1 tokens it holds: take "
                "torch.mean(x[b, :t+1], 0), or divide by t + 1."
            )
    if T > 1 and torch.allclose(got, x.double().mean(1, keepdim=True).expand_as(got), atol=1e-4):
        return "Every position averages the whole sequence, the future included: only x[b, :t+1] may count."
    if x.shape[-1] > 1 and torch.allclose(got, running_mean(x.mean(-1, keepdim=True)).expand_as(got), atol=1e-4):
        return (
            "Each position holds one number for all its features: torch.mean(xprev) without a dim averages the "
            "features together; average over the positions only, torch.mean(xprev, 0)."
        )
    return ""


def expect_input_kept(name: str, given: torch.Tensor, x: torch.Tensor) -> None:
    """Fail where `name` changed `given`, the copy of x it was called on."""
    if not torch.equal(given, x):
        fail(
            f"{name} changed its input x",
            "Writing into x overwrites tokens that later positions still average (xbow = x, say, is the same tensor, "
            "not a copy): write the averages into a new one, torch.zeros_like(x)",
        )


class TestWeights:
    @pytest.mark.parametrize("name", WEIGHTS)
    @given(T=st.integers(1, 24))
    @example(T=4)
    def test_lower_triangular_rows_averaging_the_past(self, name, T):
        got = getattr(stage, name)(T)
        expect_equal_tensors(
            got, exact_weights(T).float(), f"{name}({T})", atol=1e-6, hint=weights_diagnosis(name, got, T)
        )

    def test_the_lectures_three_by_three_example(self):
        a = stage.tril_average_weights(3)
        with fixed_seed(42):
            b = torch.randint(0, 10, (3, 2)).float()
        expected = torch.tensor([[2.0, 7.0], [4.0, 5.5], [14 / 3, 16 / 3]])
        product = a.double() @ b.double() if isinstance(a, torch.Tensor) else a  # weights of any dtype
        call = "tril_average_weights(3) @ b, with the lecture's b = [[2, 7], [6, 4], [6, 5]]"
        expect_equal_tensors(product, expected, call, atol=1e-5)


class TestVersions:
    @pytest.mark.parametrize("name", VERSIONS)
    @given(seeds, st.integers(1, 3), st.integers(1, 12), st.integers(1, 5), st.sampled_from(list(TOLERANCE)))
    @example(0, 2, 4, 3, torch.float32)
    @example(0, 2, 4, 3, torch.float64)
    @example(0, 2, 4, 3, torch.bfloat16)  # which numpy has not: code that averages there fails on it
    def test_each_position_is_the_mean_of_itself_and_the_past(self, name, seed, B, T, C, dtype):
        x = random_floats((B, T, C), seed, dtype)
        expected = running_mean(x).to(dtype)  # before the call, which might write into x
        given = x.clone()
        got = getattr(stage, name)(given)
        expect_input_kept(name, given, x)
        call = f"{name}(x) for x of shape ({B}, {T}, {C}) and dtype {str(dtype).removeprefix('torch.')}"
        if isinstance(got, torch.Tensor) and got.dtype != dtype:
            fail(
                f"{call}: the output should keep the input's dtype, got {got.dtype}",
                "A tensor you make (torch.zeros, torch.ones, torch.arange) is float32 unless given dtype=x.dtype; "
                "torch.zeros_like(x) keeps x's dtype, and .to(x.dtype) converts a result.",
            )
        expect_equal_tensors(got, expected, call, atol=TOLERANCE[dtype], hint=version_diagnosis(got, x, name))

    @pytest.mark.parametrize("name", VERSIONS)
    @given(seeds, st.integers(2, 10), st.integers(0, 8))
    @example(0, 4, 1)
    def test_a_position_never_sees_the_future(self, name, seed, T, t):
        t = t % (T - 1)
        x = random_floats((2, T, 3), seed)
        changed = x.clone()
        changed[:, t + 1 :] += 10.0
        before, after = getattr(stage, name)(x), getattr(stage, name)(changed)
        if not torch.allclose(before[:, : t + 1], after[:, : t + 1], atol=1e-6, equal_nan=True):
            fail(
                f"{name}: changing x[:, {t + 1}:] (the future of position {t}) changed the output at positions <= {t}",
                weights_first(name, T),
            )

    def test_all_three_agree_on_the_lectures_example(self):
        with fixed_seed(1337):
            x = torch.randn(4, 8, 2)
        outputs = {}
        for name in VERSIONS:
            given = x.clone()
            outputs[name] = getattr(stage, name)(given)
            expect_input_kept(name, given, x)
        for name, got in outputs.items():
            expect_equal_tensors(
                got[0] if isinstance(got, torch.Tensor) else got,
                torch.tensor(LECTURE_XBOW_0),
                f"{name}(x) with the lecture's x (seed 1337), row 0",
                atol=6e-5,
                hint=version_diagnosis(got, x, name),
            )
        for name in VERSIONS[1:]:
            # Default tolerances fail here by 3e-8 (float32 rounding); the lecture's atol-free check predates that.
            if not torch.allclose(outputs["average_loops"], outputs[name], atol=1e-6):
                fail(f"average_loops and {name} disagree on the lecture's example")

    def test_any_batch_of_shape_B_T_C_keeps_its_shape(self):
        x = torch.ones(2, 5, 7)
        for name in VERSIONS:
            got = getattr(stage, name)(x)
            if not isinstance(got, torch.Tensor) or got.shape != x.shape:
                fail(f"{name}(torch.ones(2, 5, 7)): expected shape (2, 5, 7), got {show(got)}")
