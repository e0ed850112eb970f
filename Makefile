# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: the runtime (what `make demo` and `make serve` need) and the dev tools on top of it
# (what `make test` needs). Each re-installs only when a package's metadata changed.
RUNTIME := $(VENV)/.installed
DEV     := $(VENV)/.installed-dev
PACKAGES := pyproject.toml sdk/pyproject.toml connector/pyproject.toml
# The repository's own distributions the hub runs with (the SDK; the connector for the demo),
# installed editable beside it.
LOCAL   := -e ./sdk -e ./connector

.PHONY: demo serve test lint typecheck unit soak bench clean web

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Crossforce needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): $(PACKAGES) | $(BIN)/python
	$(BIN)/python -m pip install -q $(LOCAL) -e '.[demo]'
	touch $@

$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install -q $(LOCAL) -e '.[dev]'
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

demo: $(RUNTIME) web
	$(BIN)/crossforce demo

serve: $(RUNTIME)
	$(BIN)/crossforce serve

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(DEV)
	$(BIN)/mypy

unit: $(DEV) web
	$(BIN)/pytest

test: lint typecheck unit

soak: $(DEV)
	CROSSFORCE_PROFILE=soak $(BIN)/pytest -m "not browser"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache sdk/build connector/build
