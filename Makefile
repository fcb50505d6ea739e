# Two commands do everything from a fresh clone:  make book  and  make test.
# Both create .venv on first use. Only python3 and make are needed beforehand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed

# nbgrader shells out to `alembic`, and the tests call jupyter, nbgrader, jupyter-book:
# the venv's bin/ goes first on PATH for every recipe.
export PATH := $(BIN):$(PATH)
# several kernels may run at once on a small machine; keep each one to a single BLAS thread
export OMP_NUM_THREADS ?= 1
# OpenBLAS picks its float kernels by CPU model, and a long float32 training run amplifies the last
# bit of difference: the chapters' stated numbers hold with the kernels chosen on x86-64 with AVX2
# (Haswell, also what AMD's EPYC gets), so every x86-64 machine uses those
ifeq ($(shell uname -m),x86_64)
export OPENBLAS_CORETYPE ?= Haswell
endif
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help venv book page pdf test test-fast lab notebook-filter check progress release constraints clean

help:
	@echo "make book    build the HTML book into _build/html (creates .venv first)"
	@echo "make pdf     the whole book as one PDF, _build/pdf/book.pdf (builds the book first)"
	@echo "make page P=chapters/01-perceptron.ipynb   run and build one chapter alone, fast"
	@echo "make test    run the whole test suite"
	@echo "make lab     open the exercises in JupyterLab"
	@echo "make check NB=exercises/07-cnn/cnn.ipynb   grade a notebook, hidden tests included"
	@echo "make progress   your last checked scores and what to read next"
	@echo "make release regenerate exercises/ from solutions/"

venv: $(STAMP)

# the pins install on Python 3.11.0 and later; an older interpreter stops here with what to do
PYTHON_CHECK := import sys; sys.exit(sys.version_info < (3, 11))

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -c '$(PYTHON_CHECK)' 2>/dev/null || { \
	  echo "The course needs Python 3.11 or later to create $(VENV); '$(PYTHON)' is:"; \
	  $(PYTHON) --version 2>&1 || echo "  (no such command)"; \
	  echo "Install Python 3.11, 3.12 or 3.13 and name it: make PYTHON=python3.11"; \
	  exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "'$(PYTHON) -m venv' failed: on Debian and Ubuntu, apt-get install python3-venv"; \
	  exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo
	@echo "The book is built. Open this file in a browser:"
	@echo "    file://$(CURDIR)/_build/html/index.html"

# One chapter alone, with the book's configuration, into _build/page/: it runs the chapter (an
# error fails the target) and renders it; links to other pages are not resolved here.
PAGE_OUT = _build/page/_build/_page/$(basename $(notdir $(P)))/html
page: $(STAMP)
	@test -n "$(P)" || { echo "usage: make page P=chapters/NN-name.ipynb"; exit 2; }
	rm -rf $(PAGE_OUT)/reports
	$(BIN)/jupyter-book build $(P) --config _config.yml --path-output _build/page
	@if ls $(PAGE_OUT)/reports/*.err.log >/dev/null 2>&1; then \
	  cat $(PAGE_OUT)/reports/*.err.log; echo "$(P) raised an error (above)"; exit 1; fi
	@echo "Open file://$(CURDIR)/$(PAGE_OUT)/$(basename $(notdir $(P))).html"

# every page printed by headless Chromium (answers open), joined behind a title page
pdf: book
	$(BIN)/python tools/book_pdf.py _build/html _build/pdf/book.pdf

test: $(STAMP)
	$(BIN)/python -m pytest

# the unit tests alone: seconds, not minutes
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser"

# serves the course folder, so an exercise's links to its chapter (and back) open in Lab, and
# opens on exercises/; after a save, an unedited notebook stays clean in git status (see
# nncourse/nbclean.py; --allow-root only when run as root, as in a container)
lab: $(STAMP) notebook-filter
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/exercises \
	    --ContentsManager.post_save_hook=nncourse.nbclean.post_save $(if $(filter 0,$(shell id -u)),--allow-root)

# git compares exercise notebooks without outputs and Lab's metadata (see .gitattributes)
notebook-filter:
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git config filter.nncourse-notebook.clean "$(PYTHON) nncourse/nbclean.py"; fi

# grade one notebook as it will be graded, hidden tests included
check: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make check NB=exercises/07-cnn/cnn.ipynb"; exit 2; }
	$(BIN)/nncourse check $(NB)

progress: $(STAMP)
	$(BIN)/nncourse progress

release: $(STAMP)
	$(BIN)/nncourse release

# re-pin the whole dependency tree after changing requirements.txt
constraints:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^nn-course' > constraints.txt

clean:
	rm -rf _build .pytest_cache .hypothesis
