"""Failure messages in a learner's words: what was expected, what came back, for which input."""

import contextlib
import itertools

import pytest
import torch

from kata.implementation import StageUnavailable
from kata.messages import NO_RETURN, sentences

_pytest_fail = pytest.fail  # kept from before any graded code runs, which might replace pytest.fail


def fail(*parts: str):
    """Fail the current test with a message made of whole sentences (see kata.messages.sentences),
    and nothing else: no traceback of the test's own code, nor, where a test fails while it handles an
    error of the learner's code, that error again before the message (which says it already)."""
    try:
        _pytest_fail(sentences(*parts), pytrace=False)
    except BaseException as failure:
        raise failure from None


@contextlib.contextmanager
def while_calling(call: str, hint: str = ""):
    """Name the call that raised, where a test makes several: an error the graded code raises gets the note
    "The test's call: ...", and the hint, which the message shows after the line that raised."""
    try:
        yield
    except Exception as error:
        error.add_note(sentences(f"The test's call: {call}", hint))
        raise


@contextlib.contextmanager
def explained_if_it_raises(diagnosis):
    """Where the graded code raises, add what diagnosis(error) says (a part the call runs is wrong itself, say) to
    the error, which the message shows after the line that raised. diagnosis runs only then, and a stub's
    NotImplementedError or a stage that does not import goes on as it is."""
    try:
        yield
    except (NotImplementedError, StageUnavailable):
        raise
    except Exception as error:
        if hint := diagnosis(error):
            error.add_note(hint)
        raise


def expect_value_error(action, call: str, reason: str = "", hint: str = "") -> ValueError:
    """The ValueError that action() raises; fail, saying what it did instead, when it raises none."""
    try:
        got = action()
    except ValueError as error:
        return error
    except (NotImplementedError, StageUnavailable):
        raise  # a stub, or a file that does not import: the plugin says so
    except AssertionError as error:  # minbpe's train asserts; python -O skips an assert
        said = f": {str(error)[:200]}" if str(error) else ""
        instead = (
            f"It raised AssertionError instead{said}. An assert is no ValueError (and python -O skips it): "
            "raise ValueError(...) yourself"
        )
    except Exception as error:  # the code ran into the bad input further on instead of checking it
        instead = f"It raised {type(error).__name__} instead: {str(error)[:200]}"
    else:
        instead = f"It returned {show(got)}"
    fail(f"{call} should raise ValueError{': ' + reason if reason else ''}", instead, hint)


def expect_accepted(action, call: str, reason: str):
    """What action() returns; fail, saying why the arguments are valid, when it raises ValueError on them."""
    try:
        return action()
    except ValueError as error:
        fail(f"{call} should be accepted: {reason}", f"It raised ValueError: {str(error)[:200]}")


def pair(output, call: str) -> tuple:
    """What a model returned, as the pair (logits, loss) it must be: unpacking a lone logits tensor would split it
    along its first dimension and show something the code never returned."""
    if not isinstance(output, tuple) or len(output) != 2:
        fail(
            f"{call} should return a pair (logits, loss), the loss None without targets; got {show(output)}",
            NO_RETURN if output is None else "",
        )
    return output


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
        return text if isinstance(value, list) else f"the tuple ({text[1:-1]}{',' * (len(value) == 1)})"
    if isinstance(value, str) and len(value) > 60:
        return repr(value[:60]) + f"... ({len(value)} characters)"
    if isinstance(value, bytes) and len(value) > 24:
        return repr(value[:16]) + f"... ({len(value)} bytes)"
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} module"
    text = repr(value)
    if " object at 0x" in text:  # object's own repr: its address says nothing to a learner
        name = type(value).__name__
        return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"
    return text if len(text) <= 80 and "\n" not in text else text.splitlines()[0][:76] + " ..."


def characters(text: str) -> str:
    """A text shown with its length: "'abc' (3 characters)", shortened past 60 as show() does."""
    return show(text) if len(text) > 60 else f"{text!r} ({len(text)} characters)"


def times(count: int) -> str:
    """How often, in words: "once", "twice", "3 times"."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _listing(items: list, limit: int) -> str:
    shown = ", ".join(repr(item) for item in items[:limit])
    more = f", ... ({len(items)} items)" if len(items) > limit else ""
    return f"[{shown}{more}]"


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def close(got, expected: torch.Tensor, atol: float) -> bool:
    """Whether `got` is a tensor of `expected`'s shape and values, within atol (never raises on a wrong shape)."""
    return (
        isinstance(got, torch.Tensor)
        and got.shape == expected.shape
        and not _wrong_values(got.detach().double(), expected.double(), atol).any()
    )


def rearranged_like(got, expected: torch.Tensor, atol: float):
    """Where `got` holds `expected`'s values laid out otherwise (flattened to (B*T, C) rows, or its dims in another
    order: time-major (T, B, C), keys before queries), the function that lays a tensor of `got`'s shape out as
    `expected` is; None where it holds other values. Correct code may drop a tensor in any such layout."""
    if not isinstance(got, torch.Tensor) or got.numel() != expected.numel():
        return None
    for order in itertools.permutations(range(expected.dim())):  # the identity first
        shape, back = [expected.shape[i] for i in order], [order.index(i) for i in range(len(order))]

        def arrange(tensor: torch.Tensor, shape=shape, back=back) -> torch.Tensor:
            return tensor.reshape(shape).permute(back)

        if close(arrange(got), expected, atol):
            return arrange
    return None


# Said by every stage's generate test that gets (B, max_new_tokens) back: stages 3, 8 and 10.
NEW_TOKENS_ALONE = "Those are the new tokens alone: generate returns the prompt followed by them, the whole idx."


def time_major_hint(flat, logits: torch.Tensor, atol: float) -> str:
    """The hint for (B*T, V) logits whose rows are the (B, T, V) `logits` flattened time-major, where they are."""
    B, T, V = logits.shape
    if B == 1 or T == 1 or not close(flat, logits.transpose(0, 1).reshape(B * T, V), atol):
        return ""
    return "Row b*T + t holds position (b, t): flatten with logits.view(B*T, V), batch first."


def expect_tensor(got, call: str, hint: str = "") -> None:
    """Fail unless `got` is a tensor; `hint` says what to compute, beside the point where the code returned None."""
    if got is None:
        fail(f"{call}: expected a tensor, got None", NO_RETURN)
    if not isinstance(got, torch.Tensor):
        fail(f"{call}: expected a tensor, got {type(got).__name__} {show(got)}", hint)


def expect_equal_tensors(got, expected: torch.Tensor, call: str, atol: float = 0.0, hint: str = "") -> None:
    """Fail unless `got` is a tensor of `expected`'s shape and values (within atol); `hint` is a whole
    sentence naming the mistake, where the caller can tell it."""
    expect_tensor(got, call, hint)
    if got.shape != expected.shape:
        fail(
            f"{call}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}", hint or _squeezed(got, expected)
        )
    wrong = _wrong_values(got.detach().double(), expected.double(), atol)
    if wrong.any():
        index = _index_to_show(got.detach().double(), expected, wrong)
        shown_expected, shown_got = _told_apart(expected[index].item(), got[index].item())
        fail(f"{call}: wrong values", f"At index {list(index)} expected {shown_expected}, got {shown_got}", hint)


def _squeezed(got: torch.Tensor, expected: torch.Tensor) -> str:
    """Where `got` has `expected`'s shape without its dims of size 1, say how that happens."""
    if got.dim() < expected.dim() and tuple(got.shape) == tuple(size for size in expected.shape if size != 1):
        return (
            "Every dim of size 1 is gone, a batch of one too: .squeeze() removes them all. Squeeze only the dim you "
            "mean, .squeeze(dim), or none."
        )
    return ""


def _told_apart(expected: float, got: float) -> tuple[str, str]:
    """The two numbers with 8 significant digits, or as many more as it takes to see that they differ."""
    for digits in range(8, 18):
        texts = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if texts[0] != texts[1]:
            break
    return texts


def _wrong_values(got: torch.Tensor, expected: torch.Tensor, atol: float) -> torch.Tensor:
    close = got == expected if atol == 0 else (got - expected).abs() <= atol
    return ~(close | (got.isnan() & expected.isnan()))


def _index_to_show(got: torch.Tensor, expected: torch.Tensor, wrong: torch.Tensor) -> tuple[int, ...]:
    """Token ids show the first wrong position; floating-point values the largest difference."""
    if expected.is_floating_point():
        difference = torch.where(wrong, (got - expected.double()).abs().nan_to_num(float("inf")), 0.0)
        flat = int(difference.flatten().argmax())
    else:
        flat = int(wrong.flatten().nonzero()[0])
    # Written out: torch.unravel_index imports torch.fx's symbolic shapes on its first call (0.3 s idle, more on a
    # busy machine) where no optimizer has imported torch._dynamo yet, as in a pytest run of stages 1 to 3.
    index = []
    for size in reversed(expected.shape):
        flat, position = divmod(flat, size)
        index.append(position)
    return tuple(reversed(index))
