# The two commands: `make run` serves the embedded defaults, `make test` runs the whole suite.
# Each sets up what it needs (virtual environment, packages, database) on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# Where `make run` serves: HTTP and the websockets at /-/cable, on one port (codesuggest.asgi, as
# in production, but one process, reloaded when the code changes).
RUN_HOST := 127.0.0.1
RUN_PORT := 8000

.PHONY: run run-port-free test lint

# `make run` installs what serving needs; the test and lint tools (requirements-dev.txt) come with
# the first `make test` or `make lint`. uv installs them (pip's own cache and configuration are
# not read; UV_DEFAULT_INDEX names a mirror): requirements.txt took 7.6 s from an empty cache
# where pip took 50 s from a full one, in the same run on 2 cores. Nothing is byte-compiled while
# installing, which took another 30 s: the modules are compiled in the background, niced, while
# the server starts (without .pyc files a Django start took 3.5 s instead of 1.7 s, and where
# PYTHONDONTWRITEBYTECODE is set, as in containers and CI, every start would pay that).
UV_VERSION := 0.13.9
UV := $(BIN)/uv
UV_INSTALL := $(UV) pip install --quiet --python $(BIN)/python

$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): requirements.txt | $(UV)
	$(UV_INSTALL) -r requirements.txt
	nice -n 10 $(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 &
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(UV_INSTALL) -r requirements-dev.txt
	touch $(DEV_STAMP)

# The port is checked first: a second `make run` must stop before it migrates or prints anything.
# The engine's base models are built in a process of their own while the server starts and
# serves: the engine answers from the file and the project's index until each is written.
run: run-port-free $(STAMP)
	mkdir -p var
	DJANGO_DEBUG=true $(BIN)/python manage.py quickstart --build-engine \
	  --url http://$(RUN_HOST):$(RUN_PORT)
	DJANGO_DEBUG=true CODESUGGEST_EMBEDDED=true GUNICORN_BIND=$(RUN_HOST):$(RUN_PORT) \
	  $(BIN)/gunicorn -c gunicorn.conf.py --reload codesuggest.asgi

# Binds the address as the server will (create_server sets SO_REUSEADDR, so a port the last run
# left in TIME_WAIT counts as free) and lets it go at once.
run-port-free:
	@$(PYTHON) -c 'import socket, sys; socket.create_server((sys.argv[1], int(sys.argv[2]))).close()' \
	  $(RUN_HOST) $(RUN_PORT) 2>/dev/null || { \
	  echo "make run: $(RUN_HOST):$(RUN_PORT) is already in use. Is codesuggest running already?" \
	    "Stop it first (the token it printed stays valid)." >&2; exit 1; }

# The suite runs with DJANGO_DEBUG off, as in production, and in the embedded mode: settings would
# otherwise refuse SQLite and the in-process cache (CI's first pass), and the processes some tests
# start without a DATABASE_URL (tests/codesuggest/test_settings.py). Tests of that refusal set
# their own environment.
test: $(DEV_STAMP)
	mkdir -p var
	DJANGO_SECRET_KEY=test-only-secret-key-long-enough-for-hs256 CODESUGGEST_EMBEDDED=true \
	  $(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true $(BIN)/mypy codesuggest projects completions chat
	$(BIN)/lint-imports
