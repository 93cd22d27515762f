# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint schema messages bench bench-peer bench-steps bench-tables bench-gc bench-payments bench-intake drills clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/leasehub run

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

schema: $(VENV)/.installed
	$(BIN)/leasehub export-schema

# The message catalogue: every `_("…")` of the production code into the template, then into
# the Polish .po (new entries empty, gone ones dropped): translate the empty ones, `make test`.
LOCALES := models/locales
messages: $(VENV)/.installed
	$(BIN)/pybabel extract --no-default-keywords -k _ --add-location=file --sort-by-file \
		--project=LeaseHub -o $(LOCALES)/leasehub.pot auth exports hub intake loaders models resolvers schema
	$(BIN)/pybabel update -i $(LOCALES)/leasehub.pot -d $(LOCALES) -D leasehub -l pl \
		--ignore-obsolete --init-missing

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.dashboard

# LeaseHub against PostGraphile 4.14 (npm ci from bench/peer/package-lock.json; needs Node.js).
bench-peer: $(VENV)/.installed-test
	$(BIN)/python -m bench.peer

# CPU per request of those queries at each speed step of issue 10 (bench/steps.py's STEPS).
bench-steps: $(VENV)/.installed-test
	$(BIN)/python -m bench.steps

bench-tables: $(VENV)/.installed-test
	$(BIN)/python -m bench.tables

drills: $(VENV)/.installed-test
	$(BIN)/python -m bench.drills

bench-gc: $(VENV)/.installed-test
	$(BIN)/python -m bench.gc

# Issue 13: a 10,000-credit MT940 statement booked twice, 50 concurrent payment starts.
bench-payments: $(VENV)/.installed-test
	$(BIN)/python -m bench.payments

# Issue 15: 100,000 invoices imported from CSV and from XLSX (rows/s, memory, statements).
bench-intake: $(VENV)/.installed-test
	$(BIN)/python -m bench.imports

clean:
	rm -rf $(VENV) leasehub.db
