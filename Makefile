# Quick start: `make demo` (set up and run the main job), `make test` (set up and run every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test lint bench evaluate samples wheel-check clean

# Tesseract OCR (Debian tesseract-ocr) for scanned PDF pages; skipped when already installed.
system-deps:
	@command -v tesseract >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng; }

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: system-deps $(STAMP)

demo: setup
	$(BIN)/extractor prefill sample_notes/c01_*/*.txt --format text --request-date 2026-03-12

test: setup
	$(BIN)/ruff check extractor tests benchmarks scripts
	$(BIN)/python -m pytest

evaluate: setup
	$(BIN)/extractor evaluate sample_notes

bench: setup
	$(BIN)/python benchmarks/nlp_throughput.py
	$(BIN)/python benchmarks/prefill_memory.py
	$(BIN)/python benchmarks/pdf_throughput.py
	$(BIN)/python benchmarks/fax_ocr.py

samples: setup
	$(BIN)/python scripts/render_samples.py

clean:
	rm -rf $(VENV) build dist *.egg-info
