# The two commands a fresh machine needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck contracts unit install install-test services clean

$(BIN)/medic: pyproject.toml
	@echo "==> creating the virtualenv $(VENV) and installing medic with its pinned dependencies"
	@echo "    (about 90 packages, ~600 MB: 2-3 minutes the first time, seconds after)"
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e .
	touch $(BIN)/medic

$(VENV)/.test-installed: $(BIN)/medic
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/medic
install-test: $(VENV)/.test-installed

demo: install
	@echo "==> medic demo: the closed loop on the built-in sandbox (about 1-2 minutes);"
	@echo "    open the console address it prints to follow the incident in a browser"
	$(BIN)/medic demo

services:
	bash scripts/install-test-services.sh

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install-test
	$(BIN)/mypy

contracts: install-test
	$(BIN)/lint-imports

unit: install-test services
	$(BIN)/pytest -q

test: lint typecheck contracts unit

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
