# Quick start: `make demo` (set up and start the web app with the sample cases), `make test` (set up and run every test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps test-deps demo prefill-demo test lint bench evaluate samples wheel-check clean

SUDO = $$( [ "$$(id -u)" = 0 ] || echo sudo )

# Tesseract OCR (Debian tesseract-ocr) for scanned PDF pages, with its orientation and script detection data
# (tesseract-ocr-osd: pages fed upside down or sideways); skipped when both are already installed.
system-deps:
	@{ command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx osd; } || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd; }

# What only the tests use: Debian's Chromium (driven by Playwright, never `playwright install`) and PostgreSQL.
test-deps:
	@{ command -v chromium >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1; } || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium postgresql; }

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: system-deps $(STAMP)

demo: setup
	$(BIN)/extractor serve --data-dir data/demo --demo sample_notes

prefill-demo: setup
	$(BIN)/extractor prefill sample_notes/c01_*/*.txt --format text --request-date 2026-03-12

# Starts the local PostgreSQL for the store tests (.ci/postgres.sh) unless EXTRACTOR_TEST_PG_URL is given.
test: setup test-deps
	$(BIN)/ruff check extractor tests benchmarks scripts
	EXTRACTOR_TEST_PG_URL="$${EXTRACTOR_TEST_PG_URL:-$$(bash .ci/postgres.sh)}" $(BIN)/python -m pytest

evaluate: setup
	$(BIN)/extractor evaluate sample_notes

bench: setup
	$(BIN)/python benchmarks/nlp_throughput.py
	$(BIN)/python benchmarks/prefill_memory.py
	$(BIN)/python benchmarks/web_latency.py
	$(BIN)/python benchmarks/pdf_throughput.py
	$(BIN)/python benchmarks/fax_ocr.py
	$(BIN)/python benchmarks/backfill_throughput.py

samples: setup
	$(BIN)/python scripts/render_samples.py

clean:
	rm -rf $(VENV) build dist *.egg-info
