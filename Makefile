# The two commands: `make run` serves the embedded defaults, `make test` runs the whole suite.
# Each sets up what it needs (virtual environment, packages, database) on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	DJANGO_DEBUG=true $(BIN)/python manage.py migrate --no-input
	@echo "Preparing the local engine's base models (a few minutes the first time only)..."
	DJANGO_DEBUG=true $(BIN)/python manage.py build_local_engine
	DJANGO_DEBUG=true $(BIN)/python manage.py quickstart
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	mkdir -p var
	DJANGO_SECRET_KEY=test-only-secret-key-long-enough-for-hs256 $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=true $(BIN)/mypy codesuggest projects completions chat
