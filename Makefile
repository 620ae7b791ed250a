# Two commands do all the set-up on a fresh clone (a virtual environment in .venv/), then:
#   make learn   the learner's loop: .venv/bin/kata watches exercises/ and re-runs your stage on every save
#   make test    both tiers against the references and the original stubs (3 to 5 minutes on 2 cores, by the hour)
#   make test-all    and the end-to-end tests: sandboxed grading of the hostile catalog, the Gradescope
#                bundle, a fresh handout, notebooks in a real kernel (what CI runs)
#   make handout DIR=../gpt-kata-learner   the learner's release: no solutions, no hidden tests
PYTHON ?= python3
VENV ?= .venv
# torch 2.13.0 is pinned for set-up only (its CPU build lies on the kata machines' disk, where an
# unpinned torch pulls a 5 GB CUDA build); the project itself accepts any torch >= 2.7:
# `make TORCH=torch learn` takes the newest.
TORCH ?= torch==2.13.0

DIR ?= ../gpt-kata-handout

.PHONY: learn test test-all handout

learn: $(VENV)/installed
	$(VENV)/bin/kata

test: $(VENV)/installed
	$(VENV)/bin/pytest --impl solutions --meta -n 2 --dist loadgroup

test-all: $(VENV)/installed
	$(VENV)/bin/pytest --impl solutions --meta --end-to-end -n 2 --dist loadgroup

handout: $(VENV)/installed
	$(VENV)/bin/kata handout "$(DIR)"

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$(TORCH)" -e ".[dev]"
	touch $@
