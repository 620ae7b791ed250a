"""The original stubs the kata ships (kata/stubs/) and solutions/ expose the same names with the same signatures,
as the manifest lists them; exercises/ starts as those stubs.

Everything here reads the packaged stubs, never the learner's exercises/, so a learner's work cannot break the
maintainer's tier: only a file of exercises/ that is still a stub is compared with its original.
"""

import ast
import inspect

import pytest

from kata import implementation
from kata.manifest import REPOSITORY_ROOT, stages
from kata.workspace import PRISTINE_STUBS, is_stub

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
def test_stubs_and_solutions_expose_the_same_api(stage):
    stub = public_api(PRISTINE_STUBS, stage.name)
    solution = public_api(REPOSITORY_ROOT / "solutions", stage.name)
    assert stub == solution
    defined = {name.split(".")[0] for name in solution}
    assert set(stage.symbols) <= defined, (
        f"the manifest lists {set(stage.symbols) - defined}, which {stage.name} does not define"
    )
    assert defined <= set(stage.symbols), (
        f"{stage.name} defines {defined - set(stage.symbols)}, missing from the manifest's symbols"
    )


@pytest.mark.parametrize("stage", stages(), ids=lambda stage: stage.name)
def test_the_kata_ships_each_stages_original_stub(stage):
    path = PRISTINE_STUBS / stage.module_file
    assert path.is_file(), (
        f"kata/stubs/{stage.module_file} is missing: `kata reset` and handouts restore a stage from there. "
        f"Copy the stub in: cp exercises/{stage.module_file} kata/stubs/"
    )
    assert is_stub(path.read_text(encoding="utf-8")), (
        f"kata/stubs/{stage.module_file} is not a stub: each of its functions must raise NotImplementedError"
    )


@pytest.mark.parametrize("stage", stages(), ids=lambda stage: stage.name)
def test_an_exercise_that_is_still_a_stub_is_the_original(stage):
    exercise = (REPOSITORY_ROOT / "exercises" / stage.module_file).read_text(encoding="utf-8")
    if not is_stub(exercise):
        pytest.skip(f"exercises/{stage.module_file} is being solved: the learner's work is not the maintainer's test")
    original = (PRISTINE_STUBS / stage.module_file).read_text(encoding="utf-8")
    # Compared as syntax trees (docstrings included, comments and layout not), so that a learner's note in a
    # stub never fails the maintainer's tier, while a maintainer's change to one copy only does.
    assert ast.dump(ast.parse(exercise)) == ast.dump(ast.parse(original)), (
        f"exercises/{stage.module_file} and kata/stubs/{stage.module_file} differ: the packaged one is what "
        f"`kata reset` and handouts give learners. Copy the one you meant over the other: "
        f"cp exercises/{stage.module_file} kata/stubs/, or `.venv/bin/kata reset {stage.name} --yes`."
    )
