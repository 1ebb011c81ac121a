# Attention Atlas: set-up and checks. Every target creates .venv when it is missing.
#   make test    install (with constraints.txt), system packages, throwaway PostgreSQL, pytest
#   make test-fast  the inner loop: pytest without the slow, browser and PostgreSQL tests
#   make demo    install with the demo extra, build the demo and serve it
#   make bench   run benchmarks/*.py
#   make lint    ruff (lint + format), the import contracts (.importlinter) and mypy
#   make clean-venv  delete .venv (the next target recreates it)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# the install is redone only when pyproject.toml or constraints.txt change
DEPS_KEY := $(shell cat pyproject.toml constraints.txt 2>/dev/null | sha1sum | cut -c1-12)
TEST_STAMP := $(VENV)/.installed-test-$(DEPS_KEY)
DEMO_STAMP := $(VENV)/.installed-demo-$(DEPS_KEY)
APT_PACKAGES := chromium chromium-driver postgresql
PYTEST_ARGS ?=

.PHONY: test test-fast demo bench lint system-deps install clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(TEST_STAMP): $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	rm -f $(VENV)/.installed-test-*
	touch $@

$(DEMO_STAMP): $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[demo]"
	rm -f $(VENV)/.installed-demo-*
	touch $@

install: $(TEST_STAMP)

# Debian packages the browser and PostgreSQL tests need; installed only when absent.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing system packages:$$missing (run: sudo apt-get install$$missing)" >&2; \
	    exit 1; \
	  fi; \
	fi

test: $(TEST_STAMP) system-deps
	@set -euo pipefail; \
	pgdir=$$(mktemp -d /tmp/atlas-pg.XXXXXX); \
	trap 'tests/tools/pg_cluster.sh stop "$$pgdir"' EXIT INT TERM; \
	url=$$(tests/tools/pg_cluster.sh start "$$pgdir"); \
	echo "throwaway PostgreSQL at $$url"; \
	ATLAS_TEST_POSTGRES_URL="$$url" HF_HUB_OFFLINE=1 $(BIN)/pytest $(PYTEST_ARGS)

# Fine-tune the demo model (cached between runs), ingest the demo corpus into atlas-demo.db, serve.
demo: $(DEMO_STAMP)
	$(BIN)/attention-atlas demo

bench: $(TEST_STAMP)
	@set -e; shopt -s nullglob; for script in benchmarks/*.py; do \
	  echo "== $$script"; HF_HUB_OFFLINE=1 $(BIN)/python "$$script"; \
	done

# The wheel-build test and the demo fine-tune are marked slow, so they are skipped here too.
test-fast: $(TEST_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/pytest -m "not slow and not browser and not postgres" $(PYTEST_ARGS)

# mypy cannot follow setuptools' editable-install hook and the package is the checkout root, so
# it reads the package through the link .cache/typecheck/attention_atlas -> the checkout
# ([tool.mypy] in pyproject.toml: mypy_path, packages). .pre-commit-config.yaml runs the same.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	mkdir -p .cache/typecheck && ln -sfn ../.. .cache/typecheck/attention_atlas
	$(BIN)/mypy

clean-venv:
	rm -rf $(VENV)
