"""Every call of chosen torch functions in a block, however the code under test reached them: through
torch.nn.functional, a name imported from it, or a module (nn.Dropout calls F.dropout). Patching the
attribute would miss a name bound when the code was imported; a torch function mode sees the call itself.
The tests' recorders (tests/support.py) and the grader's own check (kata/grading/probe_calls.py) both use it."""

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
