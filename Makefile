# The two commands: `make run` and `make test`. Everything installs into .venv.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PORT ?= 8000
HOST ?= 127.0.0.1
comma := ,
# The MariaDB/MySQL driver is installed only when DATABASE_URL points at one.
EXTRAS := dev$(if $(filter mysql%,$(DATABASE_URL)),$(comma)mysql,)
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: install run test lint check bench browser-deps mysql-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(findstring mysql,$(EXTRAS)),@$(MAKE) --no-print-directory mysql-deps)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[$(EXTRAS)]'
	@touch $@

mysql-deps:
	@if ! pkg-config --exists mysqlclient 2>/dev/null && ! pkg-config --exists mariadb 2>/dev/null; then \
	  echo "Installing the MariaDB client headers (pkg-config, default-libmysqlclient-dev)"; \
	  $(call apt_install,pkg-config default-libmysqlclient-dev); \
	fi

browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's Chromium for the browser tests"; \
	  $(call apt_install,chromium); \
	fi

define apt_install
if [ "$$(id -u)" = 0 ]; then apt-get install -y -q $(1) >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $(1) >/dev/null; }; \
elif command -v sudo >/dev/null; then sudo apt-get install -y -q $(1) >/dev/null; \
else echo "Please install: $(1) (apt-get install -y $(1))" >&2; exit 1; fi
endef

run: install
	@mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(VENV)/bin/uvicorn hospital.asgi:application --host $(HOST) --port $(PORT) --lifespan off

# Tests that prove what only MariaDB/MySQL can (row locks, grants) join the run on that database.
TEST_MARKERS := not broker$(if $(filter mysql%,$(DATABASE_URL)),, and not mariadb)

test: install browser-deps
	$(PY) -m pytest -m "$(TEST_MARKERS)" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/db.sqlite3*
