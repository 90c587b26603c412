# EvoSync developer commands. `make run` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# MariaDB/MySQL needs the compiled driver; SQLite (the default) does not.
REQUIREMENTS := requirements-dev.txt $(if $(filter mysql%,$(DATABASE_URL)),requirements-mysql.txt,)
STAMP := $(VENV)/.installed-$(if $(filter mysql%,$(DATABASE_URL)),mysql,sqlite)

.PHONY: run test install migrate messages compilemessages lint bench clean help

help:
	@echo "make run    - install, migrate, write schedules, demo merchant, web server + qcluster"
	@echo "make test   - run the whole test suite (SQLite unless DATABASE_URL is set; all cores)"
	@echo "make lint   - ruff"
	@echo "make messages - extract and compile translations"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) requirements.txt requirements-dev.txt requirements-mysql.txt
	$(PIP) install --quiet $(addprefix -r ,$(REQUIREMENTS))
	@touch $@

install: $(STAMP)

# Compiled catalogs are committed so a machine without gettext still shows Russian;
# where msgfmt exists they are rebuilt from the .po files.
compilemessages: install
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(PY) manage.py compilemessages --ignore=$(VENV) -v0; \
	else echo "msgfmt not found: using the committed .mo files"; fi

messages: install
	$(PY) manage.py makemessages -l ru -l en --ignore=$(VENV) --ignore=staticfiles --ignore=static/vendor -v0
	$(PY) manage.py compilemessages --ignore=$(VENV) -v0

migrate: compilemessages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_schedules

# The sandbox and the demo's outbound webhooks must know where this server listens.
SITE_URL ?= http://$(HOST):$(PORT)
export SITE_URL

run: migrate
	$(PY) manage.py demo_setup
	$(PY) manage.py rundev --host $(HOST) --port $(PORT)

# The suite runs on every core (pytest-xdist: one test database per worker, on SQLite and
# MariaDB alike); TEST_WORKERS=0 runs it in one process. PYTEST_ARGS come last and win.
TEST_WORKERS ?= auto
test: compilemessages
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: compilemessages
	$(PY) bench/catalog_refresh.py
	$(PY) bench/sync.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
