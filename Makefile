# One task menu. Every target installs what it needs into .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Bytecode, written ahead: where PYTHONDONTWRITEBYTECODE is set (or the tree is read-only)
# every `tick` would otherwise compile the project from source again (docs/DEPLOY.md).
COMPILE = $(BIN)/python -m compileall -q -j 0 -x '/\.(venv|git)/' .

.PHONY: demo test lint fmt bench bench-peers install clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)
	$(COMPILE)

demo: $(STAMP)  ## SQLite, sample data, console channel, web UI on :8000
	$(COMPILE)
	$(BIN)/python bot.py demo

test: $(STAMP)  ## the whole suite, on SQLite and PostgreSQL
	./scripts/ensure-postgres
	./scripts/ensure-chromium
	$(COMPILE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	./scripts/ensure-postgres
	$(BIN)/python -m bench.dispatch
	$(BIN)/python -m bench.idle_tick
	$(BIN)/python -m bench.outbox_history
	$(BIN)/python -m bench.replies
	$(BIN)/python -m bench.import_customers
	$(BIN)/python -m bench.webhook_ingest --requests 1000

bench-peers: $(STAMP)  ## sending beside Celery and a hand-written sender (docs/BENCHMARKS.md)
	./scripts/ensure-postgres
	./scripts/bench-peers 150
	./scripts/bench-peers 0 5000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
