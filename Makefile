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

.PHONY: venv book html test test-unit test-notebooks test-build test-browser outputs bench clean

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

## make test: unit + gradient + parity tests, nbval on every chapter, -W -n build, browser check
test: test-unit test-notebooks test-build test-browser

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser" -q -p no:cacheprovider --durations=5

test-notebooks: $(STAMP)
	$(NBVAL) -q --durations=0
	@echo "== again with OMP_NUM_THREADS=1: outputs must not depend on the thread count =="
	OMP_NUM_THREADS=1 $(NBVAL) -q

test-build: $(STAMP)
	rm -rf _build
	$(BIN)/jupyter-book build -W -n --keep-going .

test-browser: $(STAMP)
	$(BIN)/python -m pytest tests -m browser -q -p no:cacheprovider

## make bench: speed benchmarks against PyTorch in the same run (not part of make test)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py --threads 1
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_lstm.py --threads 1
	$(BIN)/python benchmarks/bench_lstm.py

clean:
	rm -rf _build .pytest_cache .hypothesis
