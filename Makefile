# make run: install and start the bot.  make test: install and run lint, types and tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test bench lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m bot

lint: $(VENV)/.installed
	$(PY) -m ruff check bot handlers tests bench
	$(PY) -m ruff format --check bot handlers tests bench
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m bench
