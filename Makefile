# regenpath — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HTMX := src/regenpath/entrypoints/web/static/vendor/htmx.min.js

.PHONY: demo test install assets lint typecheck contracts unit integration e2e serve benchmark clean

demo: install
	$(BIN)/regenpath demo --reset
	$(BIN)/regenpath serve

test: install lint typecheck contracts
	$(BIN)/pytest -n 2 --dist loadgroup

install: $(STAMP) $(HTMX)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

assets: $(HTMX)

$(HTMX): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p $(dir $(HTMX))
	cp node_modules/htmx.org/dist/htmx.min.js $(HTMX)

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

contracts:
	$(BIN)/lint-imports

unit:
	$(BIN)/pytest tests/unit

integration:
	$(BIN)/pytest tests/integration

e2e:
	$(BIN)/pytest tests/e2e

serve: install
	$(BIN)/regenpath serve

benchmark: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache $(dir $(HTMX))
