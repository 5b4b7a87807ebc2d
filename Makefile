# culturesim: `make demo` serves the web UI; `make test` runs lint and tests (browser tests too).
# Both create .venv with Python 3.12 on first use (pyenv's 3.12, found even without its shims).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help demo dashboard lab test test-slow test-oldest lint format bench chromium clean

# `make` alone lists the targets (it set up .venv and said only "'.venv/.installed' is up to date").
.DEFAULT_GOAL := help
help:
	@echo "culturesim: make TARGET (those that run culturesim set up .venv with Python 3.12 first)"
	@echo "  demo         serve the web UI at http://$(HOST):$(PORT)/ (PORT=... HOST=... to change)"
	@echo "  test         ruff and the test suite, browser tests too (CHROMIUM=... names a Chromium)"
	@echo "  test-slow    the six long validation runs"
	@echo "  test-oldest  the suite with the oldest dependencies allowed, in .venv-oldest"
	@echo "  dashboard    the baseline for 10 seeds: out/dashboard.png"
	@echo "  lab          JupyterLab on notebooks/"
	@echo "  bench        the speed benchmarks (benchmarks/RESULTS.md)"
	@echo "  lint, format, chromium"
	@echo "  clean        remove what git ignores: venvs, caches, out/, test-artifacts/"

# Python 3.12: the one .python-version selects via pyenv (the newest 3.12 installed), else
# python3.12 on PATH.
PYTHON312 := $(shell \
	v=$$(cat .python-version 2>/dev/null); \
	root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
	for c in "$$root/versions/$$v/bin/python3" $$(ls -d $$root/versions/3.12*/bin/python3 2>/dev/null | sort -rV) \
	         $$(command -v python3.12 2>/dev/null); do \
	  if [ -x "$$c" ] && "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then \
	    echo "$$c"; break; fi; done)

# What is wrong with a venv, said by its own Python (nothing if it is a 3.12 venv made here): a
# venv made by hand with another Python (`python3 -m venv .venv`: 3.11 here), or made in another
# folder (the checkout moved or copied since: its commands would run the old folder's Python
# and, where that still exists, its culturesim). Python's venv records where it made it.
VENV_CHECK := import pathlib, re, sys; v = sys.version_info; \
  cfg = (pathlib.Path(sys.prefix) / "pyvenv.cfg").read_text().splitlines(); \
  made = [re.sub(r"^(--\S+ )+", "", line.split(" -m venv ", 1)[-1]) \
          for line in cfg if line.startswith("command = ")]; \
  here = not made or made[0] == sys.prefix; \
  why = f"has Python {v.major}.{v.minor}.{v.micro}, not Python 3.12" if v[:2] != (3, 12) else \
  "" if here else f"was made as {made[0]} (moved or copied here since)"; \
  print(why); sys.exit(bool(why))

# $(call venv_312,DIR): make the venv DIR with Python 3.12 unless it is one made here; any other
# (VENV_CHECK says why, or its Python does not run) is made again.
define venv_312
	@if [ -e $(1) ] && ! why=$$($(1)/bin/python -c '$(VENV_CHECK)' 2>/dev/null); then \
	  echo "$(1) $${why:-has no working Python 3.12}: making it again" >&2; rm -rf $(1); fi
	@test -x $(1)/bin/python || $(PYTHON312) -m venv $(1)
endef

# $(call relative_pth,DIR): write the paths the venv DIR's .pth files name (the editable
# install's: this checkout) relative to its site-packages. Python 3.12 reads a .pth in the
# locale's encoding (3.13 tries UTF-8 first: CPython gh-77102), so under LC_ALL=C a checkout
# whose path is not ASCII (/home/jürgen/...) stopped every command of the venv as it started
# ("Fatal Python error: init_import_site ... UnicodeDecodeError").
RELATIVE_PTH := import os, pathlib, sysconfig; \
  site = pathlib.Path(sysconfig.get_path("purelib")); \
  relative = lambda line: os.path.relpath(line.strip(), site) + "\n" \
    if os.path.isabs(line.strip()) and os.path.isdir(line.strip()) else line; \
  [pth.write_text("".join(map(relative, pth.read_text(encoding="utf-8").splitlines(True))), \
                  encoding="utf-8") for pth in site.glob("*.pth")]
define relative_pth
	$(1)/bin/python -c '$(RELATIVE_PTH)'
endef

# A stamp holds the folder it was installed in: one written elsewhere (the checkout moved or was
# copied, venv and all) does not count, and the set-up runs again (and makes the venv again).
ifneq ($(shell cat $(STAMP) 2>/dev/null),$(CURDIR))
.PHONY: $(STAMP)
endif

define SET_UP
	@if [ -z "$(PYTHON312)" ]; then \
	  echo "error: Python 3.12 not found. Install it with 'pyenv install 3.12' (see .python-version)" >&2; \
	  echo "       or put python3.12 on PATH. Mesa 3.5 needs Python >= 3.12." >&2; exit 1; fi
	$(call venv_312,$(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(call relative_pth,$(VENV))
	@# the UI's assets download while the kernels compile (one core each); either failing fails
	$(PY) -m culturesim.ui.assets & assets=$$!; \
	  $(PY) -m culturesim.warm; warm=$$?; wait $$assets && exit $$warm
endef

# The set-up runs once, however many makes start at once (`make demo` and `make test` in two
# terminals of a fresh clone installed into one venv together): where there is flock (Linux),
# the make that finds it to do runs it in a make of its own holding a lock (.venv.lock); another
# says it waits, then finds it done (make -q) or, if that one failed, does it. Both venvs' set-ups
# (.venv and .venv-oldest, below) take the one lock. (No flock, as on macOS: unguarded.)
FLOCK := $(shell command -v flock 2>/dev/null)
LOCKED = $(if $(SETTING_UP),,$(FLOCK))
define locked_set_up
	+@$(FLOCK) -n -E 75 .venv.lock $(MAKE) --no-print-directory SETTING_UP=1 $@ || { rc=$$?; \
	  [ $$rc = 75 ] || exit $$rc; echo "another make is setting up (.venv.lock): waiting for it" >&2; \
	  $(FLOCK) .venv.lock $(MAKE) -q --no-print-directory SETTING_UP=1 $@ || \
	  $(FLOCK) .venv.lock $(MAKE) --no-print-directory SETTING_UP=1 $@; }
endef

$(STAMP): pyproject.toml
	$(if $(LOCKED),$(locked_set_up),$(SET_UP))
	$(if $(LOCKED),,@echo '$(CURDIR)' > $@)

# `make demo PORT=8766` serves on another port (HOST=0.0.0.0: to other machines too; only
# the command line sets them, not the environment, where HOST may name this machine).
HOST = 127.0.0.1
PORT = 8765

demo: $(STAMP)
	$(VENV)/bin/culturesim ui --host $(HOST) --port $(PORT)

dashboard: $(STAMP)
	$(VENV)/bin/culturesim run scenarios/baseline.toml --seeds 10 --out out

# JupyterLab on the notebooks: installed into .venv on first use (the tests run the notebooks
# without it). As root (a container), Jupyter wants --allow-root.
lab: $(STAMP)
	@$(PY) -c 'import jupyterlab' 2>/dev/null || $(PY) -m pip install --quiet 'jupyterlab>=4,<5'
	$(VENV)/bin/jupyter lab notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# The browser tests drive Chromium (Playwright's own browser download is not reachable): the
# one CHROMIUM names (`make test CHROMIUM=/path/to/chromium`, or in the environment), else
# `chromium` on PATH, else Debian's, which this installs with apt where there is apt.
export CHROMIUM
chromium:
	@if [ -n "$$CHROMIUM" ]; then \
	  [ -f "$$CHROMIUM" ] && [ -x "$$CHROMIUM" ] || { \
	    echo "error: CHROMIUM=$$CHROMIUM is not a program here (give Chromium's path)" >&2; exit 1; }; \
	elif ! command -v chromium >/dev/null; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "error: the browser tests need Chromium and there is no apt-get here to install it:" >&2; \
	    echo "       install Chromium, then put chromium on PATH or name it: make test CHROMIUM=/path/to/chromium" >&2; \
	    exit 1; fi; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  if [ -n "$$SUDO" ] && ! command -v sudo >/dev/null; then \
	    echo "error: the browser tests need Chromium: installing it with apt needs root (no sudo here):" >&2; \
	    echo "       apt-get install chromium as root, or name one: make test CHROMIUM=/path/to/chromium" >&2; \
	    exit 1; fi; \
	  APT="$$SUDO apt-get -o DPkg::Lock::Timeout=600"; \
	  $$APT install -y -q chromium || { $$APT update -q && $$APT install -y -q chromium; }; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check culturesim tests benchmarks notebooks
	$(VENV)/bin/ruff format --check culturesim tests benchmarks notebooks

# The long validation runs (marked slow; the README lists them) run in `make test-slow`;
# `.ci/run` runs both, then `make test-oldest` (below).
test: lint chromium
	$(PY) -m pytest -q -n 2 -m "not slow"

test-slow: $(STAMP)
	$(PY) -m pytest -q -n 2 -m slow

# The oldest dependencies pyproject.toml allows (pinned in .ci/oldest.txt), in a venv of their
# own: the suite there keeps the lower bounds true. The two venvs' Numbas cache their kernels side
# by side (culturesim/compiled.py).
OLDEST := .venv-oldest

ifneq ($(shell cat $(OLDEST)/.installed 2>/dev/null),$(CURDIR))  # as for $(STAMP)
.PHONY: $(OLDEST)/.installed
endif

define SET_UP_OLDEST
	@if [ -z "$(PYTHON312)" ]; then echo "error: Python 3.12 not found (see make test)" >&2; exit 1; fi
	$(call venv_312,$(OLDEST))
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet --only-binary=:all: -c .ci/oldest.txt -e '.[dev]'
	$(call relative_pth,$(OLDEST))
	$(OLDEST)/bin/python -m culturesim.ui.assets
endef

$(OLDEST)/.installed: pyproject.toml .ci/oldest.txt
	$(if $(LOCKED),$(locked_set_up),$(SET_UP_OLDEST))
	$(if $(LOCKED),,@echo '$(CURDIR)' > $@)

test-oldest: $(OLDEST)/.installed chromium
	$(OLDEST)/bin/python -m culturesim.warm
	$(OLDEST)/bin/python -m pytest -q -n 2 -m "not slow"

format: $(STAMP)
	$(VENV)/bin/ruff format culturesim tests benchmarks notebooks
	$(VENV)/bin/ruff check --fix culturesim tests benchmarks notebooks

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py
	$(PY) benchmarks/bench_batch.py

# What git ignores, as a fresh clone has it (out/, your dashboard's results, included): the
# venvs, caches (the compiled kernels' in culturesim/__pycache__ too), build and test output.
clean:
	rm -rf $(VENV) $(OLDEST) .venv.lock out .pytest_cache .ruff_cache .hypothesis test-artifacts \
	  build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
