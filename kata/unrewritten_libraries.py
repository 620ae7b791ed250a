"""Imported by the kata's pytest plugin before anything imports hypothesis: pytest is told to leave the
asserts of other libraries as they are.

At start-up pytest marks every module of every installed distribution that has a pytest plugin
(hypothesis, anyio, platformdirs, xdist) to have its asserts rewritten when imported, so that a failing
assert inside those libraries explains itself. Where Python may not write bytecode (PYTHONDONTWRITEBYTECODE,
a read-only sandbox, a grader's container) the rewritten modules cannot be cached and are parsed and
compiled again in every run: about 0.9 s of the grading tier's 9 s on a 2-core machine, 150 modules, for
asserts no learner reads. The kata's test files and conftests are still rewritten (pytest picks those by
their names, not by these marks), and so is the kata's own package.

pytest has no public way to take a mark back, so this edits its hook's set of marks where it finds one;
with a pytest that keeps them elsewhere it does nothing, and the run is only slower.
"""

import sys

KATAS_OWN = {"kata"}


def _leave_libraries_unrewritten() -> None:
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)  # pytest's AssertionRewritingHook
        if isinstance(marked, set):
            marked.intersection_update(KATAS_OWN)


_leave_libraries_unrewritten()
