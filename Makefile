# Every target bootstraps what it needs: `make demo` and `make test` work as the first command
# on a fresh clone with only Python 3.11+ and Node/npm present.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKED := shared orchestrators activities emulators

.PHONY: setup venv node test lint typecheck pytest demo bench bench-full clean

setup: venv node

venv: $(VENV)/.stamp

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required; set PYTHON=python3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --disable-pip-version-check -q --upgrade pip
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

node: node_modules/.stamp

node_modules/.stamp: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy --strict $(CHECKED) function_app.py

pytest: setup
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile

test: lint typecheck pytest

demo: venv
	./migrate demo

bench: setup
	$(PY) -m bench.run --quick

bench-full: setup
	$(PY) -m bench.run --full

clean:
	rm -rf $(VENV) node_modules
