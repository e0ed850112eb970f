# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo serve test lint typecheck unit soak bench clean web

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Crossforce needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-installs only when the project's metadata changed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
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

demo: $(STAMP) web
	$(BIN)/crossforce demo

serve: $(STAMP)
	$(BIN)/crossforce serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) web
	$(BIN)/pytest

test: lint typecheck unit

soak: $(STAMP)
	CROSSFORCE_PROFILE=soak $(BIN)/pytest -m "not browser"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
