# Two commands on a fresh machine: `make lab` and `make test`.
# Each creates .venv if missing and (re)installs only when pyproject.toml changed:
# the stamp file's name carries a hash of pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell $(PYTHON) -c "import hashlib;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")
COURSE_STAMP := $(VENV)/.installed-course-$(HASH)
TEST_STAMP   := $(VENV)/.installed-test-$(HASH)
# Two workers; notebooks are distributed whole (--dist loadfile) so each kernel starts once.
PYTEST_ARGS ?= -n 2 --dist loadfile
CHAPTERS  := $(sort $(wildcard chapters/*.ipynb)) $(sort $(wildcard examples/*.ipynb))
EXERCISES := $(wildcard exercises/*.ipynb)
SOLUTIONS := $(wildcard solutions/*.ipynb)
CHROMIUM  ?= /usr/bin/chromium

.PHONY: lab test unit ui-test notebooks lint format bench clean help

help:
	@echo "make lab        install the course into .venv and open JupyterLab"
	@echo "make test       install the test extras and run lint, unit tests and every notebook"
	@echo "make unit       unit tests only (fast)"
	@echo "make ui-test    the real-browser test (JupyterLab in headless Chromium)"
	@echo "make notebooks  re-execute chapters/ in place (commit the outputs)"
	@echo "make lint       ruff over the library, tests, tools and notebooks"
	@echo "make bench      run the benchmarks (PyTorch CPU compared when installed)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(COURSE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[course]"
	rm -f $(VENV)/.installed-course-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-test-* $(VENV)/.installed-course-*
	touch $@ $(COURSE_STAMP)

# JupyterLab refuses to run as root without --allow-root (containers, some ARM boards).
lab: $(COURSE_STAMP)
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) \
		$(firstword $(CHAPTERS))

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(wildcard nnlib tests tools benchmarks chapters solutions exercises examples)

# Unit tests, then every notebook that exists: chapters and exercises under nbval-lax
# (cells marked NBVAL_CHECK_OUTPUT are compared), solutions with NNLIB_STRICT=1 so a
# failing check raises.
test: $(TEST_STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS) -p no:nbval -m "not ui" tests
ifneq ($(strip $(CHAPTERS) $(EXERCISES)),)
	$(BIN)/python -m pytest $(PYTEST_ARGS) --nbval-lax $(CHAPTERS) $(EXERCISES)
endif
ifneq ($(strip $(SOLUTIONS)),)
	NNLIB_STRICT=1 $(BIN)/python -m pytest $(PYTEST_ARGS) --nbval-lax $(SOLUTIONS)
endif
	@if [ -x "$(CHROMIUM)" ]; then $(MAKE) --no-print-directory ui-test; \
	else echo "skipping ui-test: no Chromium at $(CHROMIUM) (apt-get install chromium)"; fi

# JupyterLab on 127.0.0.1 driven by Playwright in Debian's Chromium; screenshots land in
# test-artifacts/.
ui-test: $(TEST_STAMP)
	NNLIB_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -p no:nbval -m ui tests/ui

unit: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) -p no:nbval -m "not ui" tests

notebooks: $(TEST_STAMP)
	$(BIN)/python tools/run_notebooks.py chapters examples

format: $(TEST_STAMP)
	$(BIN)/ruff check --fix nnlib tests tools benchmarks

# Each at 1 and 2 threads; PyTorch joins the comparison when installed in .venv.
bench: $(COURSE_STAMP)
	for threads in 1 2; do \
		$(BIN)/python benchmarks/bench_mlp.py --threads $$threads && \
		$(BIN)/python benchmarks/bench_conv.py --threads $$threads && \
		$(BIN)/python benchmarks/bench_transformer.py --threads $$threads || exit 1; \
	done
	$(BIN)/python benchmarks/bench_dashboard.py

clean:
	rm -rf $(VENV) .pytest_cache
