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
# The PDF (make pdf): Sphinx's LaTeX builder, XeLaTeX with xeCJK (the glossary's Chinese), xindy
# for the index, poppler-utils for tests/book/test_pdf.py. Fonts: FreeSerif/FreeSans (text),
# DejaVu Sans Mono (code), Noto CJK (Chinese), Symbola (an emoji in chapter 12).
PDF_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
                texlive-lang-chinese latexmk xindy poppler-utils \
                fonts-freefont-otf fonts-dejavu-core fonts-noto-cjk fonts-symbola
PDF_TOOLS := xelatex latexmk xindy kpsewhich fc-list pdftotext pdfinfo pdfimages
PDF_STY := xeCJK.sty ctexhook.sty fncychap.sty tabulary.sty
PDF_FONTS := FreeSerif "DejaVu Sans Mono" "Noto Serif CJK SC" Symbola
# shell: prints each tool, LaTeX package or font that `make pdf` lacks; nothing when all are there
PDF_MISSING = for t in $(PDF_TOOLS); do command -v $$t >/dev/null 2>&1 || echo $$t; done; \
  for f in $(PDF_STY); do [ -n "$$(kpsewhich $$f 2>/dev/null)" ] || echo $$f; done; \
  for f in $(PDF_FONTS); do fc-list "$$f" 2>/dev/null | grep -q . || echo "font:$$f"; done
# xelatex stops at the first error instead of asking the terminal what to do
export LATEXOPTS ?= -interaction=nonstopmode -halt-on-error

.PHONY: venv book html chromium pdf pdf-deps test test-unit test-notebooks test-solutions test-build test-browser test-pdf test-compat outputs bench clean
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
	@[ -x "$(CHROMIUM)" ] || { scripts/apt_install.sh "The browser check ($(CHROMIUM) is missing)" $(APT_PACKAGES) && \
	  { [ -x "$(CHROMIUM)" ] || { echo "apt-get ran, but $(CHROMIUM) is still missing" >&2; exit 1; }; }; }

## make pdf-deps: install the TeX Live, font and poppler packages of the PDF when any tool, LaTeX
## package or font is missing (as root, or with sudo that needs no password); otherwise stop at
## once with the command to run. On Debian 12: about 2 min, 210 MB downloaded, 650 MB installed.
pdf-deps:
	@missing="$$($(PDF_MISSING))"; [ -z "$$missing" ] && exit 0; \
	scripts/apt_install.sh "make pdf (missing: $$(echo $$missing))" $(PDF_PACKAGES) && \
	missing="$$($(PDF_MISSING))" && \
	{ [ -z "$$missing" ] || { echo "apt-get ran, but still missing:" $$missing >&2; exit 1; }; }

## make pdf: the whole book as one PDF, _build/latex/dlbook.pdf (Sphinx LaTeX builder + XeLaTeX;
## LaTeX-only layout in book/_ext/dlbook_latex.py). Minutes: LaTeX runs three or four times.
pdf: pdf-deps $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going --builder pdflatex .
	@ls -l _build/latex/dlbook.pdf

## make test-pdf: checks of the built PDF (tests/book/test_pdf.py; DLBOOK_LATEX_DIR, default _build/latex)
test-pdf: $(STAMP)
	$(BIN)/python -m pytest tests/book/test_pdf.py -m pdf -q -p no:cacheprovider -s

## make test: chromium first (fails fast), then unit + gradient + parity tests, nbval on every
## chapter, every exercise solution run after its chapter, -W -n build, browser check
test: chromium test-unit test-notebooks test-solutions test-build test-browser

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not pdf" -q -p no:cacheprovider --durations=5

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

## make test-compat: the package from its wheel on the oldest dependency versions pyproject.toml
## claims (compat/oldest.txt) and on the newest the registry serves: unit and parity tests, then
## every chapter top to bottom, printed numbers compared with the stored ones (scripts/compat.py).
## Part of .ci/run, not of make test (it builds two more environments: about 15 minutes).
test-compat: $(STAMP)
	$(BIN)/python scripts/compat.py oldest
	$(BIN)/python scripts/compat.py newest

## make bench: speed against PyTorch (not part of make test). Each library is timed in its
## own process at its defaults (the fair ratio, the headline); the one-process ratio beside it.
## `--threads 1` on a script pins both libraries to one thread everywhere (busy machines).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py
	$(BIN)/python benchmarks/bench_conv.py
	$(BIN)/python benchmarks/bench_lstm.py

clean:
	rm -rf _build .pytest_cache .hypothesis
