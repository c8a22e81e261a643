# Học bạ số readiness analytics: every target sets up what it needs (a local .venv).
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PERIOD ?=
JOBS ?=

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (hocbaso)" >/dev/null
	@touch $(STAMP)

.PHONY: help setup report report-all test test-unit test-notebooks lab sample bench bench-batch \
	bench-units check-pdf demo-hostile lint format clean-outputs

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) ## Create .venv and install the project with its dependencies

report: $(STAMP) ## Run the whole batch on the latest sample period (PERIOD=YYYY-MM-DD for another)
	$(PY) -m analysis run $(if $(PERIOD),--period $(PERIOD),) $(if $(JOBS),--jobs $(JOBS),)

report-all: $(STAMP) ## Run the batch for every period found in data/raw
	$(PY) -m analysis run --all $(if $(JOBS),--jobs $(JOBS),)

test: test-unit test-notebooks ## Run the whole test suite (unit, backtests, end-to-end, notebooks)

test-unit: $(STAMP) ## Unit tests, backtests and end-to-end batch tests
	$(PY) -m pytest -n 2 --dist loadfile tests

test-notebooks: $(STAMP) ## Execute every notebook with nbval on the sample data
	$(PY) -m pytest --nbval-lax --nbval-current-env notebooks

lab: $(STAMP) ## Open JupyterLab on the project
	$(VENV)/bin/jupyter lab --notebook-dir=.

sample: $(STAMP) ## Regenerate the committed sample data set in data/raw
	$(PY) -m analysis sample

bench: $(STAMP) ## Scale benchmark: cleaning and metrics from 10 thousand to 1,66 million staff rows
	$(PY) benchmarks/bench_scale.py

bench-batch: $(STAMP) ## Benchmark of one period's batch run (where the time goes)
	$(PY) benchmarks/bench_batch.py

bench-units: $(STAMP) ## A Hà Nội-size province: cleaning, province report, every commune report
	$(PY) benchmarks/bench_units.py

PDF_PERIOD = $(if $(PERIOD),$(PERIOD),2024-04-19)
check-pdf: $(STAMP) ## Build the 19/4/2024 report, convert it to PDF with LibreOffice, check and render it
	@command -v libreoffice >/dev/null && command -v pdftoppm >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	     libreoffice-writer-nogui poppler-utils fonts-liberation2)
	$(PY) -m analysis run --period $(PDF_PERIOD)
	bash scripts/check_pdf.sh $(PDF_PERIOD) --pages-dir outputs/$(PDF_PERIOD)/pdf

demo-hostile: $(STAMP) ## Clean each hostile file of tests/hostile through the command line, and say what came out
	bash scripts/demo_hostile.sh $(PY)

lint: $(STAMP) ## Lint with ruff
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(STAMP) ## Format with ruff
	$(VENV)/bin/ruff format src tests benchmarks

clean-outputs: ## Empty the disposable folders data/processed and outputs
	find data/processed outputs -mindepth 1 -not -name README.md -delete
