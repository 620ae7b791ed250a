"""The only bytes that cross from a sandbox to the grader: JSON lines of a versioned, strict schema.

The grader never unpickles, imports or evaluates what a sandbox sends. Each line is size-capped and
parsed into plain data classes; anything else (a wrong key, type, length or version, an unknown or
repeated test id) is a ReportError, which costs the stage that sent it its points, never the batch.
Tensors travel as their raw little-endian bytes in base64, with dtype and shape checked on arrival.
A ReportError's message quotes nothing the sandbox sent: it reaches the outputs students see, and the
run that sent it may have read the hidden tests.
"""

import base64
import json
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass

from kata.results import FailureKind, Outcome

VERSION = 1
MAX_LINE_BYTES = 64 * 1024  # one event
MAX_REPORT_BYTES = 4 * 2**20  # one sandbox run, all lines together
MAX_TEXT = 8 * 1024  # characters of a message or of captured output
MAX_LOCATION = 300
MAX_TENSOR_ELEMENTS = 100_000
MAX_DEPTH = 6  # nesting of a probe's value
TENSOR_DTYPES = {"float32": 4, "float64": 8, "int64": 8, "bool": 1}


class ReportError(ValueError):
    """A sandbox sent something outside the protocol; the message says what, for the instructor."""


# ---- what the sandboxed test run sends -------------------------------------------------------------


@dataclass(frozen=True)
class TestStarted:
    test: str

    __test__ = False  # a protocol event, not a pytest test class


@dataclass(frozen=True)
class TestFinished:
    __test__ = False

    test: str
    outcome: Outcome
    kind: FailureKind
    message: str
    location: str
    output: str


@dataclass(frozen=True)
class RunEnded:
    pass


def started_line(test: str) -> bytes:
    return _line({"event": "start", "test": test})


def finished_line(result) -> bytes:
    """The line for a kata.results.TestResult, its texts cut to the protocol's caps."""
    return _line(
        {
            "event": "result",
            "test": result.nodeid,
            "outcome": result.outcome.value,
            "kind": result.kind.value,
            "message": clip(result.message, MAX_TEXT),
            "location": clip(result.location, MAX_LOCATION),
            "output": clip(result.output, MAX_TEXT),
        }
    )


def ended_line() -> bytes:
    return _line({"event": "end"})


def parse_test_event(line: bytes, expected: set[str]) -> TestStarted | TestFinished | RunEnded:
    """One line of a test run, checked against the schema and the test ids the grader expects."""
    with _refused_if_unreadable():
        return _test_event(_fields(line), expected)


def _test_event(fields: dict, expected: set[str]) -> TestStarted | TestFinished | RunEnded:
    event = fields.pop("event", None)
    if event == "end":
        _exactly(fields, set())
        return RunEnded()
    if event == "start":
        _exactly(fields, {"test"})
        return TestStarted(_test_id(fields["test"], expected))
    if event == "result":
        _exactly(fields, {"test", "outcome", "kind", "message", "location", "output"})
        return TestFinished(
            _test_id(fields["test"], expected),
            _member(Outcome, fields["outcome"]),
            _member(FailureKind, fields["kind"]),
            _text(fields["message"], MAX_TEXT),
            _text(fields["location"], MAX_LOCATION),
            _text(fields["output"], MAX_TEXT),
        )
    raise ReportError("a report line of an unknown event")


# ---- what the sandboxed probe run sends ---------------------------------------------------------------


@dataclass(frozen=True)
class ProbeAnswer:
    symbol: str
    value: object = None  # plain data: None, bool, int, float, str, list, dict, torch.Tensor
    error: str = ""  # why the submission gave no value (it raised, it is missing, ...)


def answer_line(symbol: str, value=None, error: str = "") -> bytes:
    if error:
        return _line({"event": "answer", "symbol": symbol, "error": clip(error, MAX_TEXT)})
    return _line({"event": "answer", "symbol": symbol, "value": _encode(value)})


def ready_line() -> bytes:
    """What the run of the check at scale sends once its imports are done: the grader then sends its inputs."""
    return _line({"event": "ready"})


def parse_ready(line: bytes) -> None:
    with _refused_if_unreadable():
        fields = _fields(line)
        if fields.pop("event", None) != "ready":
            raise ReportError("a run of the check at scale that did not say it was ready first")
        _exactly(fields, set())


def parse_probe_answer(line: bytes, expected: set[str]) -> ProbeAnswer:
    with _refused_if_unreadable():
        return _probe_answer(_fields(line), expected)


def _probe_answer(fields: dict, expected: set[str]) -> ProbeAnswer:
    if fields.pop("event", None) != "answer":
        raise ReportError("a probe run may only send answers")
    symbol = fields.get("symbol")
    if not isinstance(symbol, str) or symbol not in expected:
        raise ReportError("an answer for a symbol the grader did not ask for, or one it already answered")
    if "error" in fields:
        _exactly(fields, {"symbol", "error"})
        return ProbeAnswer(symbol, error=_text(fields["error"], MAX_TEXT) or "no value")
    _exactly(fields, {"symbol", "value"})
    return ProbeAnswer(symbol, _decode(fields["value"], depth=0))


# ---- values, both ways -----------------------------------------------------------------------------


def encode_inputs(inputs: dict) -> bytes:
    """The probe inputs the grader chose, for the sandbox (the same encoding as answers)."""
    return json.dumps(_encode(inputs)).encode()


def decode_inputs(data: bytes) -> dict:
    return _decode(json.loads(data), depth=0, max_depth=12)  # the grader's own weights nest deeper


def _encode(value):
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().contiguous()
        dtype = str(value.dtype).removeprefix("torch.")
        if dtype not in TENSOR_DTYPES:
            value, dtype = value.double(), "float64"
        raw = value.numpy().astype(value.numpy().dtype.newbyteorder("<")).tobytes()
        return {"tensor": {"dtype": dtype, "shape": list(value.shape), "data": base64.b64encode(raw).decode()}}
    if isinstance(value, dict):
        return {"dict": {str(key): _encode(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"list": [_encode(item) for item in value]}
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}  # JSON has no NaN or infinity
    if value is None or isinstance(value, bool | int | float | str):
        return {"plain": value}
    return {"plain": f"<{type(value).__name__}>"}  # an object the grader cannot compare: says what it was


def _decode(node, depth: int, max_depth: int = MAX_DEPTH):
    if depth > max_depth or not isinstance(node, dict) or len(node) != 1:
        raise ReportError("a value is nested too deeply or is not of the protocol's form")
    ((kind, content),) = node.items()
    if kind == "plain":
        if content is None or isinstance(content, bool | int | float):
            return content
        return _string(content, MAX_TEXT)
    if kind == "float" and content in ("nan", "inf", "-inf"):
        return float(content)
    if kind == "list" and isinstance(content, list):
        return [_decode(item, depth + 1, max_depth) for item in content]
    if kind == "dict" and isinstance(content, dict):
        return {_string(key, 200): _decode(item, depth + 1, max_depth) for key, item in content.items()}
    if kind == "tensor" and isinstance(content, dict):
        return _tensor(content)
    raise ReportError("a value of a kind the protocol does not have")


def _tensor(fields: dict):
    import numpy
    import torch

    _exactly(fields, {"dtype", "shape", "data"})
    dtype, shape, data = fields["dtype"], fields["shape"], fields["data"]
    if not isinstance(dtype, str) or dtype not in TENSOR_DTYPES:
        raise ReportError(f"a tensor of a dtype other than {', '.join(TENSOR_DTYPES)}")
    if not isinstance(shape, list) or len(shape) > 6 or not all(_size(n) for n in shape):
        raise ReportError("a tensor shape that is not a short list of sizes")
    count = math.prod(shape)
    if count > MAX_TENSOR_ELEMENTS or not isinstance(data, str):
        raise ReportError(f"a tensor of more than {MAX_TENSOR_ELEMENTS} elements, or without its data")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise ReportError("tensor data that is not base64") from None
    if len(raw) != count * TENSOR_DTYPES[dtype]:
        raise ReportError("tensor data whose length does not match its shape and dtype")
    array = numpy.frombuffer(raw, dtype=numpy.dtype("?" if dtype == "bool" else dtype).newbyteorder("<"))
    return torch.from_numpy(array.astype(array.dtype.newbyteorder("="))).reshape(shape)


def send(line: bytes, fd: int | None = None) -> None:
    """Write a whole line to the report pipe (a signal may interrupt a write halfway); by default the pipe
    the grader gave the sandboxed run, whose number it passes in KATA_REPORT_FD."""
    fd = int(os.environ["KATA_REPORT_FD"]) if fd is None else fd
    while line:
        line = line[os.write(fd, line) :]


# ---- the line format -----------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying so; control characters other than newline and tab removed."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 40] + f"\n... ({len(text) - limit + 40} characters cut)"


def printable(text: str) -> str:
    """`text` without control characters other than newline and tab (a terminal's escape sequences among them),
    and without lone surrogates."""
    return "".join(
        char for char in text if char in "\n\t" or (char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF)
    )


def _line(fields: dict) -> bytes:
    line = json.dumps({"kata": VERSION, **fields}, ensure_ascii=True).encode() + b"\n"
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"a report line of {len(line)} bytes: clip its texts first")
    return line


def _fields(line: bytes) -> dict:
    if len(line) > MAX_LINE_BYTES:
        raise ReportError(f"a report line of more than {MAX_LINE_BYTES} bytes")
    try:
        fields = json.loads(line)
    except (ValueError, RecursionError):
        raise ReportError("a report line that is not JSON") from None
    if not isinstance(fields, dict) or fields.pop("kata", None) != VERSION:
        raise ReportError(f"a report line that is not version {VERSION} of the protocol")
    return fields


@contextmanager
def _refused_if_unreadable():
    """Whatever a line's content makes the parser raise costs its stage, never the batch: the checks above
    are meant to refuse every malformed line first, and this is the boundary should one slip through."""
    try:
        yield
    except ReportError:
        raise
    except Exception as error:  # untrusted bytes: any failure to read them is a refusal
        raise ReportError(f"a report line the grader could not read ({type(error).__name__})") from None


def _exactly(fields: dict, keys: set[str]) -> None:
    if set(fields) != keys and not keys:
        raise ReportError("a report line with fields its event does not have")
    if set(fields) != keys:
        raise ReportError(f"a report line whose fields are not its event's: {', '.join(sorted(keys))}")


def _test_id(value, expected: set[str]) -> str:
    if not isinstance(value, str) or value not in expected:
        raise ReportError("a result for a test the grader did not ask for, or one already reported")
    return value


def _size(value) -> bool:
    return type(value) is int and 0 <= value <= MAX_TENSOR_ELEMENTS


def _member(enum, value):
    values = [item.value for item in enum]
    if not isinstance(value, str) or value not in values:
        raise ReportError(f"a {enum.__name__} that is none of {', '.join(values)}")
    return enum(value)


def _text(value, limit: int) -> str:
    """A text the sandbox sent, for messages: clipped there, but graded code may have replaced the clipping, so
    its control characters are removed here again (an escape sequence would reach the instructor's terminal)."""
    return printable(_string(value, limit))


def _string(value, limit: int) -> str:
    """A string the sandbox sent as it is: a value the check compares (a decoded text may hold any character)."""
    if not isinstance(value, str) or len(value) > limit:
        raise ReportError(f"a text field that is not a string of at most {limit} characters")
    return value
