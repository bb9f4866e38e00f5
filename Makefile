# The two commands of the README: `make book` and `make test`.
# Both create the virtual environment first (pinned requirements.txt).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHAPTERS := $(sort $(wildcard book/ch*.ipynb))
# numpy (OpenBLAS) and torch (OpenMP) share the cores politely (shared/notes/performance.md)
export OMP_WAIT_POLICY ?= PASSIVE
export OPENBLAS_THREAD_TIMEOUT ?= 4
export PYTHONHASHSEED ?= 0
# nbval re-executes the chapters: their result records go to a scratch folder, not book/results
NBVAL := DLBOOK_RESULTS_DIR=$${TMPDIR:-/tmp}/dlbook-nbval-results $(BIN)/python -m pytest --nbval book -p no:cacheprovider --nbval-current-env \
         --nbval-sanitize-with .nbval_sanitize.cfg -n 2 --dist loadfile

# Debian's Chromium drives the browser check (tests/book/test_html_browser.py reads $CHROMIUM too)
CHROMIUM ?= /usr/bin/chromium
APT_PACKAGES := chromium fonts-dejavu-core

.PHONY: venv book html chromium test test-unit test-notebooks test-solutions test-build test-browser outputs bench clean
.NOTPARALLEL: test

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

## make book: build the HTML book into _build/html (renders the stored outputs)
book html: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going .

## make outputs: re-execute every chapter in place after an edit (byte-stable)
outputs: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(CHAPTERS)
	$(BIN)/python scripts/collect_results.py
	$(BIN)/python scripts/api_pages.py

## make chromium: install Debian's chromium when missing (as root, or with sudo that needs no
## password); otherwise stop at once with the command to run
chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then SUDO=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make test needs Debian's chromium ($(CHROMIUM)) for the browser check. Run:" >&2; \
	     echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends $(APT_PACKAGES)" >&2; \
	     exit 1; fi; \
	echo "$(CHROMIUM) missing: installing $(APT_PACKAGES) with apt-get"; \
	$$SUDO apt-get update -q && \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(APT_PACKAGES) && \
	{ [ -x "$(CHROMIUM)" ] || { echo "apt-get ran, but $(CHROMIUM) is still missing" >&2; exit 1; }; }

## make test: chromium first (fails fast), then unit + gradient + parity tests, nbval on every
## chapter, every exercise solution run after its chapter, -W -n build, browser check
test: chromium test-unit test-notebooks test-solutions test-build test-browser

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser" -q -p no:cacheprovider --durations=5

test-notebooks: $(STAMP)
	$(NBVAL) -q --durations=0
	@echo "== again with OMP_NUM_THREADS=1: outputs must not depend on the thread count =="
	OMP_NUM_THREADS=1 $(NBVAL) -q

## make test-solutions: every {solution} code block runs after its chapter, in the same kernel;
## the decimals its prose states must be printed (scripts/run_solutions.py)
test-solutions: $(STAMP)
	$(BIN)/python scripts/run_solutions.py --jobs 2

test-build: $(STAMP)
	rm -rf _build
	$(BIN)/jupyter-book build -W -n --keep-going .

test-browser: chromium $(STAMP)
	$(BIN)/python -m pytest tests -m browser -q -p no:cacheprovider

## make bench: speed against PyTorch (not part of make test). Each library is timed in its
## own process at its defaults (the fair ratio, the headline); the one-process ratio beside it.
## `--threads 1` on a script pins both libraries to one thread everywhere (busy machines).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_lstm.py

clean:
	rm -rf _build .pytest_cache .hypothesis
