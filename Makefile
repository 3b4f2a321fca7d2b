# The two set-up commands of README.md: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements*.txt | sha1sum | cut -c1-12)
PACKAGE := build/package
# The browser tests drive Debian's Chromium (never a browser Playwright downloads).
CHROMIUM := /usr/bin/chromium
# The unit suite runs again with the machine's clock two years ahead: no test may depend on today's date.
FAKETIME := /usr/bin/faketime
FUTURE := +730d
# The gateway's tests send with DCMTK's storescu as well as pynetdicom: an SCU we did not write.
STORESCU := /usr/bin/storescu
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export AWS_DEFAULT_REGION ?= eu-north-1

.PHONY: run test lint typecheck unit unit-future package cfn-lint bench clean

$(STAMP): requirements.txt requirements-media.txt requirements-gateway.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 asks for pip<26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(BIN)/python -m local.run

test: lint typecheck package cfn-lint unit unit-future

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(CHROMIUM) $(STORESCU)
	$(BIN)/pytest

unit-future: $(STAMP) $(FAKETIME)
	$(FAKETIME) -f '$(FUTURE)' $(BIN)/pytest -p no:cacheprovider tests/unit

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

$(FAKETIME):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y faketime

$(STORESCU):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y dcmtk

package: $(STAMP)
	rm -rf $(PACKAGE)
	$(BIN)/chalice package --stage prod --template-format yaml --merge-template infra/resources.yaml $(PACKAGE)

cfn-lint: package
	$(BIN)/cfn-lint $(PACKAGE)/sam.yaml

bench: $(STAMP) $(STORESCU)
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/anonymize.py
	$(BIN)/python bench/share.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/qido_match.py

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache
