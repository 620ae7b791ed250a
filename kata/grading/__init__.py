"""`kata grade`: grading untrusted submissions.

Each stage of each submission runs in its own sandbox (sandbox.py: bubblewrap where it works) over a
read-only tree that holds only the kata, the tests, the corpus and a copy of the submission (tree.py).
Only data crosses back: versioned, size-capped JSON lines parsed against a strict schema (report.py).
The sandboxed test run's verdicts are then confirmed outside it: a second sandbox runs only the
submission's public API on fresh random inputs (probe_calls.py), and this trusted process, which never
imports the submission, compares the outputs with its own computation (probes.py, oracles.py,
confirm.py). The batch (batch.py) writes Gradescope's results.json, a CSV summary and JUnit XML,
bounded and well-formed (outputs.py).
"""
