# Every target sets itself up from a fresh clone: virtualenv, package, dev dependencies, graphviz.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench setup clean graphviz

setup: $(STAMP) graphviz

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

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

demo: setup
	$(VENV)/bin/chainrule demo

bench: setup
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_tensor.py

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
