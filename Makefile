# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Development turns DEBUG on explicitly (it is off by default), and every
# process of `make run` agrees on the address links in emails point at.
export DJANGO_DEBUG ?= true
LINK_HOST := $(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST))
export SITE_URL ?= http://$(LINK_HOST):$(PORT)
PYTEST_ARGS ?=

.PHONY: run test lint format setup clean messages bench-send stress

# The Russian catalogue: `make messages` refreshes locale/ru/LC_MESSAGES/django.po
# from the code (GNU gettext needed) and compiles the .mo; both are committed.
MAKEMESSAGES_ARGS := -l ru --no-location --no-obsolete --ignore=.venv --ignore=var --ignore=bench \
	--ignore=tests --ignore='*/tests/*' --ignore=static --ignore=node_modules --ignore=locale

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt bench/requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

setup: $(VENV)/.run-installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_demo

run: setup
	@echo ""
	@echo "Mailsite is starting:"
	@echo "  site          $(SITE_URL)/"
	@echo "  Wagtail admin $(SITE_URL)/admin/"
	@echo "  your screens  $(SITE_URL)/app/"
	@echo "  outbox        $(SITE_URL)/outbox/  (mail the local sink received)"
	@echo "Press Ctrl-C to stop the web server, the worker and the mail sink."
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/pytest -m "not browser and not service and not spamfilter" -n auto $(PYTEST_ARGS)

# Send throughput against a bare loop and django-post-office (README "Throughput"), e.g.
# `make bench-send BENCH_ARGS="--db sqlite --quick"`; PostgreSQL from BENCH_DATABASE_URL.
BENCH_ARGS ?=
bench-send: $(VENV)/.dev-installed
	$(BIN)/python bench/send_throughput.py $(BENCH_ARGS)

# The service tests STRESS_RUNS times in a row (not in CI): needs DATABASE_URL and REDIS_URL.
STRESS_RUNS ?= 10
stress: $(VENV)/.dev-installed
	bash bench/stress_services.sh $(STRESS_RUNS) $(STRESS_ARGS)

messages: $(VENV)/.run-installed
	$(BIN)/python manage.py makemessages $(MAKEMESSAGES_ARGS)
	$(BIN)/python manage.py compilemessages -l ru --ignore=.venv

clean:
	rm -rf $(VENV) var
