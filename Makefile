# The two set-up commands of the README. Both install into ./.venv (or the active virtual environment) first.
SHELL := /bin/bash
PYTHON = $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV)/bin/python,.venv/bin/python)

.PHONY: install quickstart test

install:
	@bash tools/setup_env.sh

quickstart: install
	$(PYTHON) tools/quickstart.py

test: install
	$(PYTHON) -m pytest -q tests
