# Two commands: `make run` starts the whole stack, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONFORMANCE_DIR ?= ../shared/conformance/expr

.PHONY: run test install install-dev migrate lint conformance bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e sdk/python
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput

run: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py runstack --with-example-agent

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; fi

test: install-dev browser
	$(BIN)/python -m pytest
	@if [ -d "$(CONFORMANCE_DIR)" ] && [ -f pipelines/expr/conformance.py ]; then \
		$(BIN)/python -m pipelines.expr.conformance "$(CONFORMANCE_DIR)"; fi

lint: install-dev
	$(BIN)/ruff check .

conformance: install
	$(BIN)/python -m pipelines.expr.conformance $(CONFORMANCE_DIR)

bench: install-dev
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var
