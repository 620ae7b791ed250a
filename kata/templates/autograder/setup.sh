#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image from the zip (unpacked in
# /autograder/source): Debian's bubblewrap for the grader's sandbox where it can be had, a Python of
# 3.11 or newer, and the kata with its dependencies in /autograder/source/.venv.
set -euo pipefail
cd "$(dirname "$0")"

suitable_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends bubblewrap ||
    echo "bubblewrap could not be installed, and the grader's sandbox needs it." >&2
  # Ubuntu 22.04's python3 is 3.10: its python3.11 package is the nearest one the kata runs on.
  suitable_python >/dev/null || apt-get install -y --no-install-recommends python3.11
  apt-get install -y --no-install-recommends "$(suitable_python)-venv" || true
fi

python=$(suitable_python) || {
  echo "The kata needs Python 3.11 or newer, and none could be installed." >&2
  exit 1
}
"$python" -m venv .venv
# torch's CPU build (an autograder has no GPU), the version the bundle was made and tested with; the notebook
# extra reads a submitted notebook (nbformat, IPython)
PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "@@torch" -e ".[notebook]"
