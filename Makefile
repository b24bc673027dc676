# make demo: install and start the bot against an embedded AWS and a Slack-like page
# (make demo DEMO_ARGS="--port 3100 --data demo-data --alexa" passes options).
# make test: install and run lint, types and tests.  make run: start the bot for real.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run demo test bench lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# the demo needs only the bot and moto: no test or lint tools
$(VENV)/.demo-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[demo]'
	touch $@

demo: $(VENV)/.demo-installed
	$(PY) -m bot demo $(DEMO_ARGS)

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
