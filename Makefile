# `make train` and `make test` need only python3 (3.10-3.12): the first use creates .venv.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=

.PHONY: install train test test-slow lint format clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Train CycleGAN on the built-in synthetic set (about 10 minutes on a 2-core CPU).
train: $(STAMP)
	$(VENV)/bin/unpaired-train experiment=cyclegan/synthetic $(ARGS)

## The default test suite (fast); `make test-slow` runs the long trainings.
test: $(STAMP)
	$(PYTHON) -m pytest

test-slow: $(STAMP)
	$(PYTHON) -m pytest -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

format: $(STAMP)
	$(VENV)/bin/ruff format src tests
	$(VENV)/bin/ruff check --fix src tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist build
