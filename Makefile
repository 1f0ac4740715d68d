# Quick start: `make demo` (set up and run the main job), `make test` (set up and run every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench evaluate wheel-check clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/extractor prefill sample_notes/c01_*/*.txt --format text --request-date 2026-03-12

test: setup
	$(BIN)/ruff check extractor tests benchmarks
	$(BIN)/python -m pytest

evaluate: setup
	$(BIN)/extractor evaluate sample_notes

bench: setup
	$(BIN)/python benchmarks/nlp_throughput.py
	$(BIN)/python benchmarks/prefill_memory.py
	$(BIN)/python benchmarks/backfill_throughput.py

clean:
	rm -rf $(VENV) build dist *.egg-info
