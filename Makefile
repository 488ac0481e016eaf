# `make train` and `make test` need only python3 (3.10-3.12): the first use creates .venv.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: install train test test-slow test-floors mutate lint format clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Train CycleGAN on the built-in synthetic set (about 6 minutes on a 2-core CPU). One math
## thread unless OMP_NUM_THREADS says otherwise: at 64x64 a second thread only waits (README).
train: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(VENV)/bin/unpaired-train experiment=cyclegan/synthetic $(ARGS)

## The default test suite (fast); `make test-slow` runs the long trainings.
# One math thread per process: the test networks are too small to gain from more, and on a
# busy or 2-core machine several processes (DDP ranks, subprocess runs) oversubscribe the cores.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PYTHON) -m pytest

test-slow: $(STAMP)
	OMP_NUM_THREADS=1 $(PYTHON) -m pytest -m slow

## Both suites on the lowest versions pyproject.toml allows (.ci/floors.txt): proves the floors.
# Not run by CI (.ci/run) nor by `make test`: it downloads several GB (torch with its CUDA
# libraries) into a venv of its own and runs every test again. Run it after changing a floor or
# starting to use a newer API of a dependency. Python 3.10 or 3.11: numpy 1.24 and scipy 1.10
# have no wheels for 3.12.
FLOORS_VENV  := .venv-floors
FLOORS_STAMP := $(FLOORS_VENV)/.installed

$(FLOORS_STAMP): .ci/floors.txt pyproject.toml
	rm -rf $(FLOORS_VENV)
	python3 -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet -r .ci/floors.txt
	$(FLOORS_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(FLOORS_VENV)/bin/python -m pip check
	touch $(FLOORS_STAMP)

test-floors: $(FLOORS_STAMP)
	OMP_NUM_THREADS=1 $(FLOORS_VENV)/bin/python -m pytest
	OMP_NUM_THREADS=1 $(FLOORS_VENV)/bin/python -m pytest -m slow

## Mutation testing of nn/, losses/, models/ and the checkpoint and download code against their
# fast tests ([tool.mutmut] in pyproject.toml); about an hour on a 2-core CPU. Writes
# mutation-report.md and .json (docs/mutation-testing.md). mutmut resumes where a stopped run
# left off; `rm -rf mutants` starts afresh.
mutate: $(STAMP)
	OMP_NUM_THREADS=1 PYTHONPATH=$(CURDIR)/.ci/mutation $(VENV)/bin/mutmut run --max-children 2 || true
	$(PYTHON) .ci/mutation/report.py --markdown mutation-report.md --json mutation-report.json

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

format: $(STAMP)
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

clean:
	rm -rf $(VENV) $(FLOORS_VENV) .pytest_cache .ruff_cache dist build mutants mutation-report.*
