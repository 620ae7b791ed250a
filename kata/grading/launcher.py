"""The first program of every confined run, started by the grader as `python -I -S launcher.py SPEC`:
it joins the run's cgroup, sets the per-process limits, then becomes the sandbox (exec). It imports only
the standard library's smallest modules, so it starts in milliseconds, and it runs before any graded code.
(A shell would do, but dash's ulimit lacks -u and its redirections cannot name descriptors past 9.)

SPEC is JSON: {"cgroup_procs": [paths], "memory_bytes": int, "processes": int, "argv": [...]}.
"""

import json
import os
import resource
import sys


def main(spec: dict) -> None:
    for procs in spec["cgroup_procs"]:
        with open(procs, "w") as file:
            file.write(str(os.getpid()))
    resource.setrlimit(resource.RLIMIT_AS, (spec["memory_bytes"], spec["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (spec["processes"], spec["processes"]))
    os.execvp(spec["argv"][0], spec["argv"])


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
