"""exercises/ and solutions/ expose the same names with the same signatures, as the manifest lists them."""

import inspect

import pytest

from kata import implementation
from kata.manifest import REPOSITORY_ROOT, stages

pytestmark = pytest.mark.meta


def public_api(folder, name) -> dict[str, str]:
    """Every public function and class a stage module defines, with the signatures of their public methods."""
    previous = implementation.activate(folder)
    try:
        module = implementation.load_stage(name)
        api = {}
        for symbol, value in vars(module).items():
            if symbol.startswith("_") or getattr(value, "__module__", None) != name:
                continue
            if inspect.isfunction(value):
                api[symbol] = str(inspect.signature(value))
            elif inspect.isclass(value):
                for method, function in vars(value).items():
                    if inspect.isfunction(function) and (method == "__init__" or not method.startswith("_")):
                        api[f"{symbol}.{method}"] = str(inspect.signature(function))
        return api
    finally:
        implementation.activate(previous)


@pytest.mark.parametrize("stage", stages(), ids=lambda stage: stage.name)
def test_exercises_and_solutions_expose_the_same_api(stage):
    exercise = public_api(REPOSITORY_ROOT / "exercises", stage.name)
    solution = public_api(REPOSITORY_ROOT / "solutions", stage.name)
    assert exercise == solution
    defined = {name.split(".")[0] for name in solution}
    assert set(stage.symbols) <= defined, (
        f"the manifest lists {set(stage.symbols) - defined}, which {stage.name} does not define"
    )
    assert defined <= set(stage.symbols), (
        f"{stage.name} defines {defined - set(stage.symbols)}, missing from the manifest's symbols"
    )
