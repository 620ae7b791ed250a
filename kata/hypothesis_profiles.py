"""The hypothesis profiles the suite runs under; `--hypothesis-profile=NAME` or HYPOTHESIS_PROFILE picks one.

- kata (default): new examples each run, so a flaky check shows up instead of hiding; no deadline, so
  a slow laptop never turns a correct answer red. A failing example is shrunk but not "explained" (the
  phase that tries which parts of it may vary): the learner reads the kata's own message, and that phase
  cost a failing stage 0.2 s of every run after the code had passed.
- ci: the same examples every run.
- meta: for the maintainer's tier, which runs the suite on many edited copies of the references: it
  needs to know whether each fails, not the smallest failing input, and their failing examples must
  not be stored. A tenth of the default examples keeps its runs quick; every catalogued mistake is
  caught by explicit examples or deterministic checks, not by luck.
"""

import os

from hypothesis import HealthCheck, Phase, settings

# differing_executors is off because a run nested in another (the meta tier, `kata`) reuses the test
# modules but makes new instances of their test classes; too_slow is off for the reason deadline is:
# on a busy machine it fails correct code with a report about hypothesis, not about the learner's code.
settings.register_profile(
    "kata",
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.differing_executors, HealthCheck.too_slow],
    phases=[phase for phase in Phase if phase != Phase.explain],
)
settings.register_profile("ci", settings.get_profile("kata"), derandomize=True, database=None)
settings.register_profile(
    "meta",
    settings.get_profile("kata"),
    database=None,
    max_examples=10,
    phases=[phase for phase in Phase if phase not in (Phase.shrink, Phase.explain)],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kata"))
