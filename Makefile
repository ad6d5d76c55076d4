# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint format setup clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

setup: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_demo

run: setup
	@echo ""
	@echo "Mailsite is starting:"
	@echo "  site          http://127.0.0.1:$(PORT)/"
	@echo "  Wagtail admin http://127.0.0.1:$(PORT)/admin/"
	@echo "  your screens  http://127.0.0.1:$(PORT)/app/"
	@echo "  outbox        http://127.0.0.1:$(PORT)/outbox/  (mail the local sink received)"
	@echo "Press Ctrl-C to stop the web server, the worker and the mail sink."
	@echo ""
	PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest -m "not browser and not service and not spamfilter" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var
