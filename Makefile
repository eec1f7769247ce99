# Two commands for a fresh machine: `make demo` and `make test`; `make test-all` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
# Lambda runs python3.12; use it when the machine has it (pyenv here), else the default python3.
PYTHON_BOOT ?= $(shell scripts/find_python.sh)
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/handlers:$(CURDIR)

.PHONY: venv demo check test test-all audit lint format bench bench-quick bench-issue14 season clean

$(VENV)/.installed: requirements-dev.txt requirements-export.txt handlers/requirements.txt
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m scripts.demo

# Lint, format check and bandit: the part both test targets share.
check: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m bandit -q -r handlers -ll

# The fast tier: tests not marked slow, hypothesis' dev profile (a few examples per property).
test: check
	$(PY) -m pytest -q -m "not slow and not bench"

# Every test CI runs (slow ones too), hypothesis' ci profile (today's example counts).
test-all: check
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q

# Known-vulnerability check of the deployed dependencies; needs PyPI's JSON API (it cannot
# audit anything on a machine that only reaches a package mirror, and says so).
audit: venv
	$(PY) -m pip_audit -r handlers/requirements.txt --progress-spinner off

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The full season (issues 5 and 12): 100 rounds x 4 models, each worker run a process of its
# own, SIGKILLed at four points, AWS and Numerai faults over HTTP (about 10-15 minutes).
season: venv
	$(PY) -m scripts.simulate_season --rounds 100 --models 4 --seed 1

# Issues 6 and 14: benchmarks against the baseline users run today, with PASS/FAIL per target
# (~25 min on a quiet 2-core machine; --quick ~2 min, CI; --issue14 issue 14's cases, ~10 min).
bench: venv
	$(PY) -m scripts.bench

bench-quick: venv
	$(PY) -m scripts.bench --quick

bench-issue14: venv
	$(PY) -m scripts.bench --issue14

clean:
	rm -rf $(VENV) .pytest_cache .demo
