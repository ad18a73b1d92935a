# Every target sets itself up from a fresh clone, installing only what it needs, into one .venv.
#
# `make demo` installs the package with the extra `chainrule demo` uses (`train`: numpy, tqdm,
# scikit-learn, matplotlib), nothing else: no torch, no pytest, no graphviz. `make test`,
# `lint` and `bench` add the development requirements (torch, pytest, micrograd, ...) to the
# same venv. Each level has its own stamp file, so a venv made by `make demo` is reused and
# topped up by `make test`, and a venv made by `make test` already has what the demo needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.demo-installed
DEV_STAMP := $(VENV)/.dev-installed
NOTEBOOK_STAMP := $(VENV)/.notebooks-installed
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: help test demo lint bench setup demo-setup clean graphviz system-packages web lab notebooks \
	docs docs-serve

# `make` alone, or `make help`: every target with what it does (the `##` comment on its line).
help: ## list the targets
	@echo "chainrule: make TARGET, where TARGET is one of"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

setup: $(DEV_STAMP) system-packages ## install the development environment (.venv) and system packages

demo-setup: $(DEMO_STAMP) ## install only what the demo needs

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[train]"
	touch $@

# The development requirements include everything the extras name, so this also satisfies
# the demo and the docs (their stamps are written too).
$(DEV_STAMP): pyproject.toml requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@ $(DEMO_STAMP) $(DOCS_STAMP)

# System programs the tests need, each with the Debian package that provides it: Graphviz's
# `dot` (graph pictures), Chromium (the browser tests of the playground and the player; any of
# the names the tests look for on PATH will do), npm (building the playground). Installed in one
# apt-get run where missing and apt-get is usable. Written PROGRAM[,PROGRAM...]:PACKAGE.
SYSTEM_PACKAGES := dot:graphviz chromium,chromium-browser,google-chrome:chromium npm:npm

system-packages: ## apt-get install graphviz, chromium and npm where missing
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  programs=$${pair%%:*}; package=$${pair#*:}; found=""; \
	  for program in $$(echo "$$programs" | tr ',' ' '); do \
	    command -v "$$program" >/dev/null 2>&1 && found=1; \
	  done; \
	  [ -n "$$found" ] || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing; the tests that need them will fail"; \
	  else echo "warning: missing system packages:$$missing (e.g. apt-get install$$missing)"; fi; \
	fi

graphviz: system-packages ## install Graphviz (and the other system packages) where missing

# The browser playground: npm installs exactly what package-lock.json pins (npm ci), then
# web/build.mjs copies Pyodide, viz.js and a zip of chainrule/ into web/dist. The build runs
# every time (about a second), so the zip always holds the package as it is now; it records the
# sha256 of every file it read in web/dist/build.json, and the browser tests fail on a build
# whose sources differ from the checkout's ("run make web").
WEB_MODULES := web/node_modules/.package-lock.json

$(WEB_MODULES): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: building the playground needs Node.js and npm (apt-get install npm)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web: $(WEB_MODULES) ## build the browser playground into web/dist
	cd web && npm run --silent build

# What `lint` enforces: ruff's checks over everything, ruff's format and mypy's types over the
# code (the package, its tests and benchmarks; mypy reads its file list from pyproject.toml).
LINT := $(PY) -m ruff check . && $(PY) -m ruff format --check chainrule tests benchmarks && \
	$(PY) -m mypy

# pytest exits 5 when it collected nothing: an empty run must fail loudly, not pass.
test: setup web ## lint (ruff, format, mypy), then run the whole test suite (docs, notebooks, browser)
	$(LINT)
	$(PY) -m pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

demo: demo-setup ## train micrograd's two-moons demo from a fresh clone
	$(VENV)/bin/chainrule demo

# The notebooks. `make lab` opens them in JupyterLab, installed into this project's .venv
# with the `notebooks` extra (JupyterLab and everything the notebooks import); its kernel is the
# venv's own Python, where chainrule is installed in development mode, so an edit to the package
# shows after a kernel restart. Extra options go to JupyterLab through JUPYTER_ARGS, e.g.
# `make lab JUPYTER_ARGS="--no-browser --port 8890"`.
# (JupyterLab refuses to start as root unless told: containers and CI machines often are root.)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

$(NOTEBOOK_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[notebooks]"
	touch $@

lab: $(NOTEBOOK_STAMP) ## open the notebooks in JupyterLab
	@command -v dot >/dev/null 2>&1 || echo "warning: no Graphviz 'dot': pictures will not show (make graphviz)"
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(JUPYTER_ARGS)

# `make notebooks` runs every notebook top to bottom on the development environment and saves it
# with its outputs, so that the committed notebooks read on GitHub; tests/test_notebooks.py fails
# on a notebook whose code changed since it was last run this way.
notebooks: setup ## re-run every notebook top to bottom and save it with its outputs
	$(PY) notebooks/execute.py

# The documentation site (mkdocs.yml, docs/): `make docs` builds it into site/ with
# `mkdocs build --strict`, so a broken link, a missing page or an API name that no longer
# resolves fails the build; `make docs-serve` serves it on 127.0.0.1 (DOCS_PORT, default 8000)
# and rebuilds on every edit. Only the `docs` extra is installed for them; `make test` builds the
# site too (tests/test_docs_site.py) and runs the Python examples of README.md and docs/.
DOCS_PORT ?= 8000
MKDOCS := NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs

$(DOCS_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $@

docs: $(DOCS_STAMP) ## build the documentation site into site/ (strict)
	$(MKDOCS) build --strict

docs-serve: $(DOCS_STAMP) ## serve the documentation on 127.0.0.1 (DOCS_PORT, default 8000)
	$(MKDOCS) serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

bench: setup ## the benchmarks: the scalar engine against micrograd, tensors against PyTorch
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_tensor.py
	$(PY) benchmarks/bench_distributed.py

lint: setup ## ruff's checks, ruff's format and mypy's types
	$(LINT)

clean: ## remove the environment and everything built
	rm -rf $(VENV) build *.egg-info .pytest_cache web/node_modules web/dist site .cache
