"""Failure messages in a learner's words: what was expected, what came back, for which input."""

import pytest
import torch

_pytest_fail = pytest.fail  # kept from before any graded code runs, which might replace pytest.fail


def fail(message: str):
    """Fail the current test with `message` alone: no traceback of the test's own code."""
    _pytest_fail(message, pytrace=False)


def show(value, limit: int = 12) -> str:
    """A short, readable rendering of a value for a failure message."""
    if isinstance(value, torch.Tensor):
        if value.dim() == 0:
            return f"tensor({value.item()!r}, dtype={_dtype(value)})"
        if value.dim() == 1:
            items = value.tolist()
            return f"tensor({_listing(items, limit)}, dtype={_dtype(value)})"
        return f"a tensor of shape {tuple(value.shape)} and dtype {_dtype(value)}"
    if isinstance(value, (list, tuple)):
        text = _listing(list(value), limit)
        return text if isinstance(value, list) else f"tuple {text}"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:60]) + f"... ({len(value)} characters)"
    return repr(value)


def _listing(items: list, limit: int) -> str:
    shown = ", ".join(repr(item) for item in items[:limit])
    more = f", ... ({len(items)} items)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def expect_equal_tensors(got, expected: torch.Tensor, call: str, atol: float = 0.0, hint: str = "") -> None:
    """Fail unless `got` is a tensor of `expected`'s shape and values (within atol)."""
    if not isinstance(got, torch.Tensor):
        fail(f"{call}: expected a tensor, got {type(got).__name__} {show(got)}")
    if got.shape != expected.shape:
        fail(f"{call}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}{hint}")
    same = (
        torch.equal(got, expected) if atol == 0 else torch.allclose(got.double(), expected.double(), atol=atol, rtol=0)
    )
    if not same:
        where = (got.double() - expected.double()).abs().flatten().argmax().item()
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(where), expected.shape))
        fail(
            f"{call}: wrong values. At index {list(index)} expected {expected[index].item():.8g}, "
            f"got {got[index].item():.8g}{hint}"
        )
