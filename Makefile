# Two commands for a user: `make run` and `make test`. Everything works offline.
# `make check` is the developer's fast inner loop (lint, layers, unit tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORPUS ?= ../shared/corpus
DB ?= .rag
# Offline by default: no model hub retries, no telemetry, no analytics.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_HUB_DISABLE_TELEMETRY ?= 1
export ANONYMIZED_TELEMETRY ?= False
export GRADIO_ANALYTICS_ENABLED ?= False

.PHONY: install run ingest check test lint bench train clean

install: $(STAMP)

# torch goes first, pinned, so the CPU wheel is used (see ../shared/ENVIRONMENT.md);
# constraints.txt pins every transitive dependency so installs resolve the same way.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

ingest: install
	@if [ -d "$(CORPUS)" ]; then \
		$(VENV)/bin/rag ingest "$(CORPUS)" --db "$(DB)"; \
	else \
		echo "No corpus at $(CORPUS): run 'make run CORPUS=/path/to/pages'"; exit 2; \
	fi

run: install
	@if [ -d "$(CORPUS)" ]; then corpus="--corpus $(CORPUS)"; else \
		echo "No corpus at $(CORPUS): serving the store at $(DB) (make run CORPUS=/path/to/pages)"; fi; \
	$(VENV)/bin/rag serve --db "$(DB)" $$corpus

# Unit tests only (pytest -m unit: no store, server, subprocess or browser); under a
# minute on a 2-core machine.
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q -m unit

test: install
	bash scripts/install_browser.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest -q
	$(PY) -m eval.gate

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Fit the learned extractive answerer (rag/answer/data/answerer.json.gz) from DRCD, CMRC 2018
# and RGB in ../shared; REBUILD=1 retrieves every labelled row again (~20 min).
train: install
	OMP_NUM_THREADS=1 $(PY) -m eval.train_answerer $(if $(REBUILD),--rebuild)

bench: install
	$(PY) -m eval.bench $(ONLY)

clean:
	rm -rf $(DB) .pytest_cache
