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

.PHONY: run test install migrate messages compilemessages lint bench proofs clean help

help:
	@echo "make run    - install, migrate, write schedules, demo merchant, web server + qcluster"
	@echo "make test   - run the whole test suite (SQLite unless DATABASE_URL is set; all cores)"
	@echo "make lint   - ruff"
	@echo "make proofs - every benchmark's and proof's --quick mode (CI; DATABASE_URL picks the engine)"
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

# The --quick mode of every proof and benchmark (issue 12), one after the other, each in a
# database of its own (<DATABASE_URL's name>_bench, recreated; a temporary SQLite file without
# DATABASE_URL). Every command runs even when one fails; the target fails if any did, and ends
# with each command's wall time. PROOFS="proof_kill scale" runs some of them.
PROOFS ?= proof_kill proof_faults proof_race proof_revoke catalog_refresh sync scale load
proofs: compilemessages
	@failed=""; summary=""; total_start=$$(date +%s); \
	for name in $(PROOFS); do \
		printf '\n--> bench/%s.py --quick\n' "$$name"; start=$$(date +%s); \
		if $(PY) bench/$$name.py --quick; then verdict=ok; else verdict=FAILED; failed="$$failed $$name"; fi; \
		summary="$$summary$$(printf '  %-16s %4s s  %s' "$$name" "$$(( $$(date +%s) - start ))" "$$verdict")\n"; \
	done; \
	printf '\nquick modes (%s s in all):\n%b' "$$(( $$(date +%s) - total_start ))" "$$summary"; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
