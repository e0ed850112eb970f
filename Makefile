# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: the runtime (what `make demo` and `make serve` need) and the dev tools on top of it
# (what `make test` needs). Each re-installs only when a package's metadata changed.
RUNTIME := $(VENV)/.installed
DEV     := $(VENV)/.installed-dev
PACKAGES := pyproject.toml sdk/pyproject.toml
# The repository's own distribution the hub runs with (the SDK), installed editable beside it.
LOCAL   := -e ./sdk
# The force connector (connector/, Graphene) in an environment of its own: Graphene needs an
# older graphql-core than the hub's Strawberry. The demo's pulled force and the pull tests run it
# from here as a process (python -m crossforce_connector.serve). Its runtime for `make demo`, its
# test tools (pytest) for `make test`; each stamped like the hub's.
CVENV   := .venv-connector
CBIN    := $(CVENV)/bin
CONNECTOR      := $(CVENV)/.installed
CONNECTOR_TEST := $(CVENV)/.installed-test

.PHONY: demo serve test lint typecheck unit soak bench clean web

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Crossforce needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): $(PACKAGES) | $(BIN)/python
	$(BIN)/python -m pip install -q $(LOCAL) -e .
	touch $@

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install -q $(LOCAL) -e '.[dev]'
	touch $@

# Without a pip of its own (the hub's installs into it): one step less to build.
$(CBIN)/python: | $(BIN)/python
	$(PYTHON) -m venv --without-pip $(CVENV)

$(CONNECTOR): connector/pyproject.toml | $(CBIN)/python
	$(BIN)/python -m pip --python $(CBIN)/python install -q -e ./connector
	touch $@

$(CONNECTOR_TEST): $(CONNECTOR)
	$(BIN)/python -m pip --python $(CBIN)/python install -q -e './connector[test]'
	touch $@

# The web UI (web/, Vite) into gateway/static/: rebuilt when any of its sources is newer.
WEB_SOURCES := $(shell find web/src web/plugins -type f 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json web/package.json

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

gateway/static/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build

web: gateway/static/index.html

demo: $(RUNTIME) $(CONNECTOR) web
	$(BIN)/crossforce demo

serve: $(RUNTIME)
	$(BIN)/crossforce serve

# The connector is not installed in the hub's environment: the import contracts find its source
# through PYTHONPATH, and mypy checks it against the connector's own environment.
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=connector $(BIN)/lint-imports

typecheck: $(DEV) $(CONNECTOR_TEST)
	$(BIN)/mypy
	$(BIN)/mypy --python-executable $(CBIN)/python connector/crossforce_connector

unit: $(DEV) $(CONNECTOR_TEST) web
	$(BIN)/pytest
	$(CBIN)/python -m pytest -q connector/tests

test: lint typecheck unit

soak: $(DEV) $(CONNECTOR)
	CROSSFORCE_PROFILE=soak $(BIN)/pytest -m "not browser"

clean:
	rm -rf $(VENV) $(CVENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache sdk/build connector/build
