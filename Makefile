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

.PHONY: test demo lint bench setup demo-setup clean graphviz system-packages web notebook notebooks

setup: $(DEV_STAMP) system-packages

demo-setup: $(DEMO_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[train]"
	touch $@

# The development requirements include everything the extras name, so this also satisfies
# the demo (its stamp is written too).
$(DEV_STAMP): pyproject.toml requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@ $(DEMO_STAMP)

# System programs the tests need, each with the Debian package that provides it: Graphviz's
# `dot` (graph pictures), Chromium (the browser tests of the playground and the player), npm
# (building the playground). Installed in one apt-get run where missing and apt-get is usable.
SYSTEM_PACKAGES := dot:graphviz /usr/bin/chromium:chromium npm:npm

system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  program=$${pair%%:*}; package=$${pair#*:}; \
	  if [ "$${program#/}" != "$$program" ]; then [ -x "$$program" ] || missing="$$missing $$package"; \
	  else command -v "$$program" >/dev/null 2>&1 || missing="$$missing $$package"; fi; \
	done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	      || echo "warning: could not install$$missing; the tests that need them will fail"; \
	  else echo "warning: missing system packages:$$missing (e.g. apt-get install$$missing)"; fi; \
	fi

graphviz: system-packages

# The browser playground: npm installs exactly what package-lock.json pins (npm ci), then
# web/build.mjs copies Pyodide, viz.js and a zip of chainrule/ into web/dist. The build runs
# every time (about a second), so the zip always holds the package as it is now.
WEB_MODULES := web/node_modules/.package-lock.json

$(WEB_MODULES): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: building the playground needs Node.js and npm (apt-get install npm)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web: $(WEB_MODULES)
	cd web && npm run --silent build

# pytest exits 5 when it collected nothing: an empty run must fail loudly, not pass.
test: setup web
	$(PY) -m ruff check .
	$(PY) -m pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

demo: demo-setup
	$(VENV)/bin/chainrule demo

# The notebooks. `make notebook` opens them in JupyterLab, installed into this project's .venv
# with the `notebooks` extra (JupyterLab and everything the notebooks import); its kernel is the
# venv's own Python, where chainrule is installed in development mode, so an edit to the package
# shows after a kernel restart. Extra options go to JupyterLab through JUPYTER_ARGS, e.g.
# `make notebook JUPYTER_ARGS="--no-browser --port 8890"`.
# (JupyterLab refuses to start as root unless told: containers and CI machines often are root.)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

$(NOTEBOOK_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[notebooks]"
	touch $@

notebook: $(NOTEBOOK_STAMP)
	@command -v dot >/dev/null 2>&1 || echo "warning: no Graphviz 'dot': pictures will not show (make graphviz)"
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(ALLOW_ROOT) $(JUPYTER_ARGS)

# `make notebooks` runs every notebook top to bottom on the development environment and saves it
# with its outputs, so that the committed notebooks read on GitHub; tests/test_notebooks.py fails
# on a notebook whose code changed since it was last run this way.
notebooks: setup
	$(PY) notebooks/execute.py

bench: setup
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_tensor.py
	$(PY) benchmarks/bench_distributed.py

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache web/node_modules web/dist
