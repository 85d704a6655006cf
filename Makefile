# mesoclinic: `make run` serves the demo clinic; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
INSTALLED := $(VENV)/.installed
ASSETS := node_modules/bootstrap/dist/css/bootstrap.min.css
# axe-core: the accessibility checks of the browser tests (tests/browser/axe.py).
AXE := node_modules/axe-core/axe.min.js
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in emails and the start-up banner; set SITE_URL to override (a proxy, a public name).
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: setup run test lint format demo demo-codes bench clean

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -c "import django, celery, playwright" 
	touch $(INSTALLED)

$(ASSETS) $(AXE) &: package.json
	npm install --no-package-lock --no-audit --no-fund --loglevel=error
	touch $(ASSETS) $(AXE)

setup: $(INSTALLED) $(ASSETS) $(AXE)

run: setup
	$(PY) manage.py migrate --no-input
	SITE_URL=$(SITE_URL) $(PY) manage.py seed_demo
	SITE_URL=$(SITE_URL) $(PY) manage.py run_clinic --host $(HOST) --port $(PORT)

# The current two-factor code of each demo user (see README, "Demo logins").
demo-codes:
	$(PY) manage.py demo_codes

test: setup
	$(PY) manage.py makemigrations --check --dry-run > /dev/null || (echo "Models and migrations differ: run makemigrations"; exit 1)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) bench/week_view.py

clean:
	rm -rf $(VENV) node_modules staticfiles
