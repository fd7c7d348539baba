# Trustledger's entry points for developers and CI (GNU make). `make help` lists them.
#   make demo   seed the demo ledger (SQLite under var/) and serve it on 127.0.0.1:$(PORT)
#   make test   install, start PostgreSQL, check Chromium, lint, then every test on both stores

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# One step at a time, so that each heading is followed by its own output.
.NOTPARALLEL:

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
# Debian's package; the browser specs launch this path (tests/browser/chromium.py).
CHROMIUM := /usr/bin/chromium
# Rewritten after each install: the venv is re-installed only when pyproject.toml is newer.
INSTALL_STAMP := $(VENV)/.install-stamp

# The suite runs every store-dependent test on SQLite and on this PostgreSQL database.
# tests/postgres.sh provisions this local one; set the variable to use a server of your own.
TRUSTLEDGER_TEST_DATABASE_URL ?= postgresql://trustledger:trustledger@127.0.0.1:5432/trustledger_test
ifeq ($(strip $(TRUSTLEDGER_TEST_DATABASE_URL)),)
override TRUSTLEDGER_TEST_DATABASE_URL := postgresql://trustledger:trustledger@127.0.0.1:5432/trustledger_test
endif
export TRUSTLEDGER_TEST_DATABASE_URL

# A heading may hold an apostrophe ("the library's"): each is closed, escaped and reopened.
heading = @printf '\n==> %s\n' '$(subst ','\'',$(1))'

.PHONY: help venv install demo postgres chromium lint test bench format clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-9s %s\n", $$1, $$2 }'

venv: install ## Same as install

install: $(INSTALL_STAMP) ## Create .venv and install the project with its dev tools

$(BIN)/python:
	$(call heading,create $(VENV))
	$(PYTHON) -m venv $(VENV)

$(INSTALL_STAMP): pyproject.toml | $(BIN)/python
	$(call heading,install the project and its dev tools into $(VENV))
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: install ## Seed the demo data (idempotent), serve on 127.0.0.1:PORT (8000) with a worker
	$(call heading,seed the demo ledger)
	$(BIN)/trustledger demo
	$(call heading,serve on http://127.0.0.1:$(PORT), with the projection workers beside it)
	$(BIN)/trustledger project & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT; \
	TRUSTLEDGER_DEMO_MODE=true $(BIN)/trustledger serve --host 127.0.0.1 --port $(PORT)

postgres: ## Start the local PostgreSQL and create the test role and database
	$(call heading,PostgreSQL for the tests)
	bash tests/postgres.sh

chromium: ## Install Debian's Chromium, which the browser specs drive, if it is missing
	$(call heading,Chromium for the browser specs)
	@[[ -x $(CHROMIUM) ]] || [[ $$(id -u) != 0 ]] || { \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends chromium fonts-liberation; }
	@[[ -x $(CHROMIUM) ]] || { \
		echo "$(CHROMIUM) not found: the browser specs (tests/browser) drive Debian's Chromium." >&2; \
		echo "Install it as root: apt-get install chromium fonts-liberation." >&2; \
		exit 1; }
	@echo "$(CHROMIUM)"

lint: install ## ruff check, ruff format --check, mypy
	$(call heading,ruff check)
	$(BIN)/ruff check .
	$(call heading,ruff format --check)
	$(BIN)/ruff format --check .
	$(call heading,mypy)
	$(BIN)/mypy

test: install postgres chromium lint ## Install, PostgreSQL, Chromium, lint, then pytest on both stores
	$(call heading,pytest on SQLite and PostgreSQL)
	TRUSTLEDGER_TEST_DATABASE_URL='$(TRUSTLEDGER_TEST_DATABASE_URL)' $(BIN)/pytest

bench: install postgres ## Benchmarks against baselines measured in the same run (PostgreSQL)
	$(call heading,group commit against the library's save() per command)
	$(BIN)/python -m bench.group_commit
	$(call heading,KPI returns over HTTP: against a bare INSERT endpoint and a plain Application.save() (wrk drives all three))
	$(BIN)/python -m bench.http
	$(call heading,the audit log: its cost on the append path; proofs at a million leaves against pymerkle)
	$(BIN)/python -m bench.audit
	$(call heading,dashboard rebuild against the library's ProjectionRunner and a raw read of the log)
	$(BIN)/python -m bench.projections
	$(call heading,as-at reads of a contract with ten years of monthly returns against reads of now)
	$(BIN)/python -m bench.replay --store postgres
	$(call heading,the national dataset loaded in steps to 100%: load rates and reads against raw SELECTs)
	$(BIN)/python -m bench.national

format: install ## Reformat and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove var/ and caches (keeps .venv)
	rm -rf var .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o -type d -name __pycache__ -print0 \
		| xargs -0 -r rm -rf
