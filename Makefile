# Two commands on a fresh machine: `make lab` and `make test`.
# Each creates .venv if missing and (re)installs only when pyproject.toml changed:
# the stamp file's name carries a hash of pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell $(PYTHON) -c "import hashlib;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])" 2>/dev/null)
# .venv is usable (made, with a working pip) only once this file exists
VENV_READY   := $(VENV)/.venv-ready
COURSE_STAMP := $(VENV)/.installed-course-$(HASH)
TEST_STAMP   := $(VENV)/.installed-test-$(HASH)
# nbgrader (in the test extra) switches on its JupyterLab menus and server extensions in
# .venv; learners need neither in `make lab` (and formgrader takes seconds to import).
# They are switched off once nbgrader is there; README "Using nbgrader" turns them on.
NBGRADER_OFF  := $(VENV)/.nbgrader-extensions-off
NBGRADER_CONF := $(VENV)/etc/jupyter/jupyter_server_config.d/nbgrader.json
NBGRADER_SERVER := $(addprefix nbgrader.server_extensions.,formgrader validate_assignment \
                     assignment_list course_list)
# Two workers; notebooks are distributed whole (--dist loadfile) so each kernel starts once.
PYTEST_ARGS ?= -n 2 --dist loadfile
# ... and one BLAS thread each (kernels inherit it). With OpenBLAS's default, a thread per
# core, the two workers' threads spin against each other on the 2 cores: measured here,
# chapter 10's CNN cell took 60 s under -n 2 against 17 s with one thread per worker
# (15 s alone with two).
TEST_THREADS ?= 1
TEST_ENV := OMP_NUM_THREADS=$(TEST_THREADS) OPENBLAS_NUM_THREADS=$(TEST_THREADS) \
            MKL_NUM_THREADS=$(TEST_THREADS)
CHAPTERS  := $(sort $(wildcard chapters/*.ipynb)) $(sort $(wildcard examples/*.ipynb))
EXERCISES := $(wildcard exercises/*.ipynb)
SOLUTIONS := $(wildcard solutions/*.ipynb)
CHROMIUM  ?= /usr/bin/chromium

.PHONY: lab test unit test-versions venv ui-test notebooks lint format bench book clean help

help:
	@echo "make lab        install the course into .venv and open JupyterLab"
	@echo "make test       install the test extras and run lint, unit tests and every notebook"
	@echo "make unit       unit tests only (fast)"
	@echo "make test-versions  unit tests under every supported Python found (3.10-3.13)"
	@echo "make ui-test    the real-browser test (JupyterLab in headless Chromium)"
	@echo "make notebooks  re-execute chapters/ in place (commit the outputs)"
	@echo "make book       the course as a static website in book/ (open book/index.html)"
	@echo "make lint       ruff over the library, tests, tools and notebooks"
	@echo "make bench      run the benchmarks (PyTorch CPU compared when installed)"

# A .venv without a working pip (left by an interrupted run, or by a `python3 -m venv` that
# failed half-way, as Debian's does without python3-venv) is removed and made again; a
# failed attempt removes what it made, so the next run starts clean.
venv: $(VENV_READY)

$(VENV_READY):
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 10))" 2>/dev/null || { \
	  echo "error: the course needs Python 3.10 or newer as '$(PYTHON)', found:" \
	    "$$(command -v $(PYTHON) >/dev/null && $(PYTHON) --version 2>&1 || echo no such command)." >&2; \
	  echo "Install one, or name it: make PYTHON=python3.12 $(or $(MAKECMDGOALS),lab)" >&2; \
	  exit 1; }
	@if [ -e $(VENV) ] && ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	  echo "removing the half-made $(VENV) (no working pip in it) to make it again"; \
	  rm -rf $(VENV); fi
	@if [ ! -e $(VENV) ]; then \
	  echo "$(PYTHON) -m venv $(VENV)"; \
	  if ! $(PYTHON) -m venv $(VENV) || ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	    rm -rf $(VENV); \
	    v=$$($(PYTHON) -c "import sys; print('%d.%d' % sys.version_info[:2])"); \
	    echo "" >&2; \
	    echo "error: '$(PYTHON) -m venv $(VENV)' failed (its message is above); nothing was" \
	      "left behind." >&2; \
	    echo "Most often Python's venv module is missing. Install it, then run make again:" >&2; \
	    echo "  Debian, Ubuntu, Raspberry Pi OS:  sudo apt install python3-venv" \
	      "(or python$$v-venv)" >&2; \
	    echo "  Termux: pkg install python;  elsewhere: a Python from python.org or conda" \
	      "(see Conda in README.md)." >&2; \
	    exit 1; \
	  fi; \
	fi
	@# the pip that ensurepip brings is upgraded only if too old for editable installs
	@$(BIN)/python -c "import pip, sys; sys.exit(int(pip.__version__.split('.')[0]) < 22)" || \
	  $(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

$(COURSE_STAMP): pyproject.toml | $(VENV_READY)
	$(BIN)/python -m pip install --quiet -e ".[course]"
	rm -f $(VENV)/.installed-course-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV_READY)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-test-* $(VENV)/.installed-course-* $(NBGRADER_OFF)
	@$(MAKE) --no-print-directory $(NBGRADER_OFF)
	touch $@ $(COURSE_STAMP)

# Made only where nbgrader is installed, so a later `make test` that installs it still
# switches its extensions off.
$(NBGRADER_OFF): | $(VENV_READY)
	@if [ -e $(NBGRADER_CONF) ]; then \
	  echo "switching off nbgrader's JupyterLab menus and server extensions in $(VENV)"; \
	  log=$$($(BIN)/jupyter server extension disable --sys-prefix $(NBGRADER_SERVER) 2>&1 && \
	         $(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader 2>&1) \
	    || { echo "$$log" >&2; exit 1; }; \
	  touch $@; \
	fi

# JupyterLab refuses to run as root without --allow-root (containers, some ARM boards).
lab: $(COURSE_STAMP) $(NBGRADER_OFF)
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) \
		$(firstword $(CHAPTERS))

lint: $(TEST_STAMP)
	$(BIN)/ruff check $(wildcard nnlib tests tools benchmarks chapters solutions exercises examples)

# Unit tests, then every notebook that exists: chapters and exercises under nbval-lax
# (cells marked NBVAL_CHECK_OUTPUT are compared), solutions with NNLIB_STRICT=1 so a
# failing check raises. The browser test runs beside them, from the start, its output in
# test-artifacts/ui-test.log (printed at the end): it mostly waits on the page (a redraw,
# a kernel's reply), so alone it left about half of the 2 cores idle for 9 minutes;
# beside the other stages it fills their gaps (fresh clone: 17.5 min one after another,
# 14.3 min side by side). Every stage runs even when one fails; the exit status says
# whether all passed.
NBVAL_CMD := $(if $(strip $(CHAPTERS) $(EXERCISES)),$(TEST_ENV) $(BIN)/python -m pytest \
               $(PYTEST_ARGS) --nbval-lax $(CHAPTERS) $(EXERCISES),true)
SOLUTIONS_CMD := $(if $(strip $(SOLUTIONS)),$(TEST_ENV) NNLIB_STRICT=1 $(BIN)/python -m pytest \
                   $(PYTEST_ARGS) --nbval-lax $(SOLUTIONS),true)
UI_LOG := test-artifacts/ui-test.log
test: $(TEST_STAMP) $(NBGRADER_OFF) lint book
	@mkdir -p test-artifacts; ui=; \
	if [ -x "$(CHROMIUM)" ]; then \
	  echo "browser test started beside the other stages (output: $(UI_LOG), shown at the end)"; \
	  $(UI_CMD) > $(UI_LOG) 2>&1 & ui=$$!; \
	else echo "skipping ui-test: no Chromium at $(CHROMIUM) (apt-get install chromium)"; fi; \
	failed=; \
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) -p no:nbval -m "not ui" tests \
	  || failed="$$failed unit"; \
	$(NBVAL_CMD) || failed="$$failed notebooks"; \
	$(SOLUTIONS_CMD) || failed="$$failed solutions"; \
	if [ -n "$$ui" ]; then \
	  wait $$ui || failed="$$failed browser"; \
	  echo "===== the browser test ($(UI_LOG)) ====="; cat $(UI_LOG); fi; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: every stage passed"

# Playwright in Debian's Chromium: one JupyterLab on 127.0.0.1 runs every notebook of
# chapters/ and examples/ (two kernels at a time, NNLIB_UI_PARALLEL) and moves every widget
# control found on the page; then the static site that `make book` builds (so make test
# fails on a broken page). Screenshots and ui_controls.md (what each move changed) land in
# test-artifacts/; --durations shows where the time went.
UI_CMD := NNLIB_CHROMIUM=$(CHROMIUM) NNLIB_BOOK=$(CURDIR)/book $(BIN)/python -m pytest \
          -p no:nbval --durations=20 -m ui tests/ui
ui-test: $(TEST_STAMP) $(NBGRADER_OFF) book
	$(UI_CMD)

# The course as a static website in book/ (git-ignored): the README as landing page, the
# chapters with their committed outputs, the examples and the exercise notebooks, math by
# the MathJax copy of the test extra; nothing is fetched. See README.md, "Read online".
book: $(TEST_STAMP)
	$(BIN)/python tools/build_book.py --out book

unit: $(TEST_STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS) -p no:nbval -m "not ui" tests

# The unit tests under every supported Python (the 3.X classifiers of pyproject.toml) found
# as python3.X on PATH or in pyenv/uv/asdf (or listed in PYTHONS="..."), each in its own
# .venvs/3.X, reinstalled only when pyproject.toml changed. See tools/test_versions.py.
# What runs there, decided by measurement (Python 3.10, 2 cores shared with other jobs):
# the tests marked slow (end-to-end training) and views (every control of every view
# redrawn under Agg) took about half of the worker time of the other tests alone, and they
# exercise the same library code and matplotlib calls that the other tests and make test
# (unit tests, nbval, the browser test) already cover, so they run in make test only.
# What is left per Python: the library, checker, tools and plotting tests (~1000 of them),
# a few minutes with its venv. VERSIONS_MARK="not ui" runs everything.
VERSIONS_MARK ?= not ui and not slow and not views
test-versions:
	$(TEST_ENV) $(PYTHON) tools/test_versions.py $(TEST_VERSIONS_FLAGS) -- \
		$(PYTEST_ARGS) -p no:nbval -m "$(VERSIONS_MARK)" tests

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
	$(BIN)/python benchmarks/bench_autograd.py --threads 1

clean:
	rm -rf $(VENV) .venvs .pytest_cache
