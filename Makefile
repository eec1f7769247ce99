# Two commands for a fresh machine: `make demo` and `make test`; `make test-all` is what CI runs.
SHELL := /bin/bash
VENV ?= .venv
# Lambda runs python3.12: the venv is built with it (or PYTHON_BOOT=/path/to/python3.12);
# without it, scripts/find_python.sh says so in one line before anything is installed.
PYTHON_BOOT ?=
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)/handlers:$(CURDIR)

.PHONY: venv demo check test test-all test-torch audit lint format bench bench-quick bench-scaling season clean

$(VENV)/.installed: requirements-dev.txt requirements-export.txt handlers/requirements.txt
	@boot=$$(scripts/find_python.sh $(PYTHON_BOOT)) && echo "$$boot -m venv $(VENV)" && "$$boot" -m venv $(VENV)
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

# The PyTorch export tests (marked torch; skipped in the main venv), in a venv of their own with
# requirements-torch.txt: the package index's torch for Python 3.12 is the CUDA build (~6 GB
# installed, nvidia-* and triton included) though export runs on the CPU; docs/model_export.md.
TORCH_VENV ?= .venv-torch
$(TORCH_VENV)/.installed: requirements-dev.txt requirements-export.txt handlers/requirements.txt requirements-torch.txt
	@boot=$$(scripts/find_python.sh $(PYTHON_BOOT)) && echo "$$boot -m venv $(TORCH_VENV)" && "$$boot" -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(TORCH_VENV)/bin/python -m pip install -q -r requirements-dev.txt -r requirements-torch.txt
	touch $@

test-torch: $(TORCH_VENV)/.installed
	$(TORCH_VENV)/bin/python -m pytest -q -m torch tests/model_export

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

# The full season (docs/faults.md): 100 rounds x 4 models, each worker run a process of its
# own, SIGKILLed at four points, AWS and Numerai faults over HTTP (about 15 minutes).
season: venv
	$(PY) -m benchmarks.season --rounds 100 --models 4 --seed 1

# Benchmarks against the way users submit today (Numerai's current example), with PASS/FAIL
# per target and today / previous-release ratios (docs/benchmarks.md; on a quiet 2-core
# machine: full ~45 min; --quick ~3 min, what CI runs; --scaling ~10 min, the heavy-ensemble,
# tournament, session and package cases without the growth curves).
# The exporter's own: python -m benchmarks.export.converters (or .lightgbm_export, .tournament_parity).
bench: venv
	$(PY) -m benchmarks

bench-quick: venv
	$(PY) -m benchmarks --quick

bench-scaling: venv
	$(PY) -m benchmarks --scaling

clean:
	rm -rf $(VENV) $(TORCH_VENV) .pytest_cache .demo
