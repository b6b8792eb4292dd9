# Two commands do all the set-up on a fresh machine: `make serve` and `make test`.
# Both create .venv and install the pinned package on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The suite runs in this many pytest-xdist processes; a file's tests stay in one process, in order.
TEST_JOBS ?= 3
XDIST := -n $(TEST_JOBS) --dist loadfile

.PHONY: serve test quick lint install clean e2e screenshots

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/hongbao serve

test: $(STAMP)
	$(BIN)/pytest -q $(XDIST) $(PYTEST_ARGS)

quick: $(STAMP)
	$(BIN)/pytest -q $(XDIST) -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e $(PYTEST_ARGS)

screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py
	$(BIN)/python scripts/screenshots.py --lang en
