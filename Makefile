# Everyday commands. From a fresh clone, only python3 (3.11 preferred) is needed:
#   make run    install, migrate, then serve on http://127.0.0.1:8000 with a worker and beat
#   make test   install, then run the test suite (extra arguments: PYTEST_ARGS="-k healthz")

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Re-installs only when a requirements file is newer than this stamp.
STAMP := $(VENV)/.installed-requirements
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: help install run test lint bench clean

help:
	@echo "make install  create .venv and install requirements-dev.txt (only when they change)"
	@echo "make run      migrate, load the rule pack, then web + worker + beat on 127.0.0.1:8000"
	@echo "make test     run pytest (PYTEST_ARGS='...' to pass arguments)"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make bench    run the benchmarks, if any"
	@echo "make clean    remove .venv, caches, collected static files and .run/ (keeps db.sqlite3)"

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON)" ]; then echo "python3 not found: install Python 3.11" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.version_info[:2] == (3, 11) or print( \
		"warning: the project is tested on Python 3.11, this is " + sys.version.split()[0], \
		file=sys.stderr)'
	@if [ ! -x $(BIN)/python ]; then \
		echo "Creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
			echo "python3 -m venv failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; \
			exit 1; }; \
	fi
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -r requirements-dev.txt
	@touch $@

run: install
	./scripts/run.sh

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	@if [ -f benchmarks/__init__.py ] || [ -f benchmarks/__main__.py ]; then \
		$(BIN)/python -m benchmarks; \
	else \
		echo "No benchmarks yet (expected a benchmarks/ package runnable as python -m benchmarks)."; \
	fi

clean:
	rm -rf $(VENV) .run staticfiles .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
