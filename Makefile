# Two commands on a fresh machine (see README):
#   make run    set up .venv, seed ./workspace from the bundled example, build this month's briefings into reports/
#   make test   set up .venv (and Debian's chromium for browser tests), run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKSPACE ?= workspace
PERIOD ?= $(shell date +%Y-%m)

.PHONY: setup chromium run test test-fast bench lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

$(WORKSPACE)/strategy.yaml: | setup
	$(BIN)/hwb init $(WORKSPACE)

run: setup $(WORKSPACE)/strategy.yaml
	$(BIN)/hwb batch --workspace $(WORKSPACE) --period $(PERIOD) --out reports

test: setup chromium
	$(BIN)/python -m pytest -n 2 --timeout 900

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "not slow and not browser and not notebook"

bench: setup
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

lint: setup
	$(BIN)/ruff check hwb_toolkit tests bench tools notebooks

clean:
	rm -rf $(VENV) $(WORKSPACE) reports/*/ .pytest_cache
