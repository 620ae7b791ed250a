"""Torch function modes that watch the code under test, for the tests' recorders (tests/support.py) and the
grader's own check (kata/grading/probe_calls.py): every call of chosen torch functions in a block, however the
code reached them (through torch.nn.functional, a name imported from it, or a module: nn.Dropout calls F.dropout;
patching the attribute would miss a name bound when the code was imported), and tensors made on the CPU
where they should be made on the input's device. And the autograd nodes behind a tensor: what ran beneath the
torch functions, which those modes do not see.
"""

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch.overrides import TorchFunctionMode


class TorchCalls(TorchFunctionMode):
    """In the block, each call of one of `functions` goes to on_call(func, args, kwargs), which makes the
    call and returns its result; every other torch call runs as it would."""

    def __init__(self, functions: tuple, on_call):
        super().__init__()
        self.functions, self.on_call = functions, on_call

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.functions:
            return self.on_call(func, args, kwargs or {})
        return func(*args, **(kwargs or {}))


# Torch's functions that make a tensor from sizes or data alone: on the CPU unless given device=.
_FACTORIES = frozenset(
    getattr(torch, name)
    for name in ("arange", "ones", "zeros", "full", "empty", "eye", "tensor", "rand", "randn", "randint", "linspace")
)
# What moves a tensor to another's device (Tensor.to and Tensor.type only when given a device, a tensor or a
# type name: .to(torch.bool) stays where it is), what makes a new tensor on its own tensor's device, and
# what copies values between devices.
_MOVES = frozenset((torch.Tensor.cuda, torch.Tensor.type_as, torch.Tensor.new_tensor))
_MOVES_WHEN_TOLD_WHERE = frozenset((torch.Tensor.to, torch.Tensor.type))
_COPIES = frozenset((torch.Tensor.__setitem__, torch.Tensor.copy_))
# What takes only a shape from its argument: the result is where the tensor it is called on is.
_SHAPED_LIKE = frozenset((torch.Tensor.expand_as, torch.Tensor.view_as, torch.Tensor.reshape_as))


@dataclass(frozen=True)
class CPUTensor:
    made_with: str  # "torch.arange"
    where: str  # "path/to/s08_gpt.py:53": the line that made it, outside torch
    mixed_in: str = ""  # the operation that mixed it with a tensor from elsewhere


class MadeOnTheCPU(TorchFunctionMode):
    """Tensors that code in the block makes without device= (torch.arange(T) rather than
    torch.arange(T, device=idx.device)), what is computed from them alone, and the first operation that
    mixes one with a tensor from elsewhere (a parameter, the input): on a GPU that operation raises
    "Expected all tensors to be on the same device". On a CPU nothing shows; this mode sees it there.
    A 0-dimensional tensor may mix (torch allows it), a `_like` or `new_` tensor takes its device from another,
    and what is moved (.to(q.device); .to(device) with the lecture's global string, "cuda" on a GPU and "cpu"
    here; torch.as_tensor(mask, device=q.device); q.new_tensor(mask)) is no longer the CPU's; .to(torch.bool)
    without a device is, as is what expand_as(q) shapes like q."""

    def __init__(self):
        super().__init__()
        self.made: dict[int, tuple[torch.Tensor, CPUTensor]] = {}  # id -> (the tensor, kept alive; its origin)
        self.mix: CPUTensor | None = None  # the first one mixed with another device's tensor, and where

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if func in _FACTORIES and kwargs.get("device") is None:
            self._mark(result, CPUTensor(f"torch.{func.__name__}", _line_outside_torch()))
            return result
        tensors = [value for value in (*args, *kwargs.values()) if isinstance(value, torch.Tensor)]
        made = [self.made[id(tensor)][1] for tensor in tensors if id(tensor) in self.made]
        if not made:
            return result
        if (
            func in _MOVES
            or (func in _MOVES_WHEN_TOLD_WHERE and _told_where(args[1:], kwargs))
            or (
                kwargs.get("device") is not None  # torch.as_tensor(mask, device=q.device), say
            )
        ):  # on the CPU the same tensor may come back; on a GPU it would be another one
            return result.view_as(result) if result is args[0] else result
        if func in _SHAPED_LIKE:
            if id(args[0]) in self.made:
                self._mark(result, made[0])
            return result
        if func is torch.Tensor.__getitem__:  # CPU indices are fine: torch moves them to the indexed tensor
            if id(args[0]) in self.made:
                self._mark(result, made[0])
            return result
        if func in _COPIES:  # a copy between devices is fine too; the tensor copied into stays where it is
            return result
        if all(id(tensor) in self.made or tensor.dim() == 0 for tensor in tensors):
            self._mark(result, made[0])  # computed from CPU tensors alone: on the CPU too
        elif self.mix is None:
            self.mix = replace(made[0], mixed_in=getattr(func, "__name__", str(func)))
        return result

    def _mark(self, result, origin: CPUTensor) -> None:
        for tensor in result if isinstance(result, tuple) else (result,):
            if isinstance(tensor, torch.Tensor) and tensor.dim() > 0:
                self.made[id(tensor)] = (tensor, origin)


def _told_where(arguments: tuple, kwargs: dict) -> bool:
    """Whether .to(...) or .type(...) was given a device (or a tensor, or a type name such as q.type(), which
    holds "cuda" on a GPU) and not only a dtype."""
    if kwargs.get("device") is not None:
        return True
    return any(_is_a_place(value) for value in arguments)


def _is_a_place(value) -> bool:
    if isinstance(value, str):  # a device's name, "cpu" too: .to(device) with the lecture's global device string,
        # or .to(idx.device.type), counts as told where, as torch.arange(T, device=device) does; or a type name
        # that holds "cuda", such as q.type() on a GPU ("torch.FloatTensor" stays where it is)
        return "cuda" in value or _names_a_device(value)
    return isinstance(value, torch.Tensor | torch.device) or (isinstance(value, int) and not isinstance(value, bool))


def _names_a_device(name: str) -> bool:
    try:
        torch.device(name)
    except (RuntimeError, ValueError):
        return False
    return True


_TORCH_FOLDER = os.path.dirname(torch.__file__)


def _line_outside_torch() -> str:
    frame = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith(_TORCH_FOLDER) or frame.f_code.co_filename == __file__
    ):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else ""


def after_each_forward(module: torch.nn.Module, seen: Callable[[tuple, torch.Tensor], None]) -> None:
    """Call `seen(args, output)` after each later call of `module`, module(x) and module.forward(x) alike: a
    forward hook misses the second, which some code writes. The patch is on the instance, where both calls look
    first; `del module.forward` takes it off."""
    real = module.forward

    def forward(*args, **kwargs):
        output = real(*args, **kwargs)
        seen(args or tuple(kwargs.values())[:1], output)
        return output

    module.forward = forward


class _WatchedWeight(torch.nn.Parameter):
    """A layer norm's weight that reports each run of torch's layer norm given it (F.layer_norm(x, shape,
    norm.weight, norm.bias), torch.layer_norm), to its `seen`: code may apply a norm's parameters that way
    rather than call the norm (a precision pass's forward_with_cache did). Every other use runs as a
    Parameter's would; a copy (deepcopy) reports nothing."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.nn.functional.layer_norm, torch.layer_norm):
            watched = [value for value in (*args, *kwargs.values()) if isinstance(value, _WatchedWeight)]
            if watched and (seen := getattr(watched[0], "seen", None)):
                seen((args[0] if args else kwargs["input"],), None)
        return torch._C._disabled_torch_function_impl(func, types, args, kwargs)


def positions_per_call(module: torch.nn.Module, *, rows: int) -> list[int]:
    """How many positions each later call of `module` handles, given `rows` sequences: its input's elements over
    rows times features (the last dim), so (B, T, C), time-major (T, B, C) and flattened (B*T, C) inputs all
    count T (a precision pass's cache ran its blocks on (B*T, C) rows, counted as C). For a layer norm, a run of
    torch's layer norm with its weight counts too, where code applies the norm's parameters without calling it.
    The patch stays on the module: give it one built for the count."""
    counted: list[int] = []
    inside: list[bool] = []  # within the module's own forward, whose layer norm is counted once, there

    def count(args: tuple, output) -> None:
        if args and isinstance(args[0], torch.Tensor) and args[0].dim() >= 2:
            counted.append(args[0].numel() // (rows * args[0].shape[-1]))

    real = module.forward

    def forward(*args, **kwargs):
        inside.append(True)
        try:
            return real(*args, **kwargs)
        finally:
            inside.pop()

    module.forward = forward
    after_each_forward(module, count)
    weight = getattr(module, "weight", None)
    if type(weight) is torch.nn.Parameter:
        module.weight = _WatchedWeight(weight.data, weight.requires_grad)
        module.weight.seen = lambda args, output: None if inside else count(args, output)
    return counted


def autograd_nodes(tensor: torch.Tensor) -> list[str]:
    """The names of the autograd nodes `tensor` was computed through (NativeLayerNormBackward0, ...), one per node.
    A torch function mode sees the calls made through torch's functions; code can reach the same kernel without
    one (torch.native_layer_norm, torch.ops.aten.layer_norm, a call under torch._C.DisableTorchFunction()), but
    where the result needs gradients, the kernel's own node is in its graph whichever way it was called.
    (Not a TorchDispatchMode, which sees every kernel too: its first call imports torch._dynamo, 1.2 s.)"""
    names, seen, waiting = [], set(), [tensor.grad_fn]
    while waiting:
        node = waiting.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.append(type(node).__name__)
        waiting.extend(following for following, _ in node.next_functions)
    return names


def torchs_layer_norm_runs(forward) -> int:
    """How often torch's own layer norm runs in forward(), which returns a tensor: called through nn.LayerNorm or
    F.layer_norm (a torch function mode records those, with gradients or without), or its kernel reached another
    way (torch.native_layer_norm, torch.ops.aten.layer_norm), whose node is then in the output's autograd graph.
    For stage 7's test that the layer norm is written out and the grader's check of the same."""
    calls = []

    def record(func, args, kwargs):
        calls.append(func)
        return func(*args, **kwargs)

    with TorchCalls((torch.nn.functional.layer_norm, torch.layer_norm), record), torch.enable_grad():
        output = forward()
    return max(len(calls), autograd_nodes(output).count("NativeLayerNormBackward0"))
