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

.PHONY: test demo lint bench setup demo-setup clean graphviz

setup: $(DEV_STAMP) graphviz

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

# The `dot` binary is a system package; install it where missing and apt-get is usable.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "warning: could not install graphviz; graph rendering tests will fail"; \
	  else echo "warning: graphviz 'dot' not found; install it (e.g. apt-get install graphviz)"; fi; }

# pytest exits 5 when it collected nothing: an empty run must fail loudly, not pass.
test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -q; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$rc

demo: demo-setup
	$(VENV)/bin/chainrule demo

bench: setup
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_tensor.py

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
