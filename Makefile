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

.PHONY: help venv book pdf test test-fast lab release constraints clean

help:
	@echo "make book    build the HTML book into _build/html (creates .venv first)"
	@echo "make pdf     the whole book as one PDF, _build/pdf/book.pdf (builds the book first)"
	@echo "make test    run the whole test suite"
	@echo "make lab     open the exercises in JupyterLab"
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

# every page printed by headless Chromium (answers open), joined behind a title page
pdf: book
	$(BIN)/python tools/book_pdf.py _build/html _build/pdf/book.pdf

test: $(STAMP)
	$(BIN)/python -m pytest

# the unit tests alone: seconds, not minutes
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not browser"

# (--allow-root only when run as root, as in a container; Jupyter refuses root otherwise)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=exercises $(if $(filter 0,$(shell id -u)),--allow-root)

release: $(STAMP)
	$(BIN)/nncourse release

# re-pin the whole dependency tree after changing requirements.txt
constraints:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^nn-course' > constraints.txt

clean:
	rm -rf _build .pytest_cache .hypothesis
