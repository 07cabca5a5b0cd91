# The two commands of the README: `make demo` and `make test`. Both create .venv and install the pinned
# dependencies (constraints.txt) when needed, so they work on a fresh machine and are safe to repeat.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
DEMO_FILE := data/samples/demo.csv

.PHONY: install demo test lint

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,celery]"
	touch $(STAMP)

install: $(STAMP)

# DEMO only: a remessa is written once the files are in, and a simulated bank answers it with a retorno
# (BILLING_DEMO_BANK, for the DEMO account alone), so boletos show registered, rejected and paid in the UI.
# The boletos carry a fine, interest and a PIX QR code; the PIX key is the BCB manual's example random key, which
# belongs to no one.
demo: export BILLING_REMESSA_AUTO = true
demo: export BILLING_DEMO_BANK = true
demo: export BILLING_FINE_PERCENT = 2
demo: export BILLING_INTEREST_MONTHLY_PERCENT = 1
demo: export BILLING_PIX_KEY = 123e4567-e12b-12d1-a456-426655440000
demo: install
	$(BIN)/billing db upgrade
	$(BIN)/billing sample --rows 20000 --seed 1 --invalid-rate 0.01 --with-address -o $(DEMO_FILE)
	$(BIN)/billing submit $(DEMO_FILE)
	$(BIN)/billing dev

test: install
	$(BIN)/python -m pytest

# Style (ruff), the layers and the absence of import cycles (import-linter, [tool.importlinter]), types of the
# domain and the service layer (mypy, [tool.mypy]), and the Dagster definitions as Dagster loads them.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	home=$$(mktemp -d) && printf 'telemetry:\n  enabled: false\n' > $$home/dagster.yaml \
	  && DAGSTER_HOME=$$home VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/dg check defs; status=$$?; rm -rf $$home; exit $$status
