# The two set-up commands of the README. Both install first: into the active virtual or conda environment, else into
# ./.venv (tools/setup_env.sh says which).
SHELL := /bin/bash
PYTHON = $(shell bash tools/setup_env.sh --print-python)

.PHONY: install quickstart test

install:
	@bash tools/setup_env.sh

quickstart: install
	$(PYTHON) tools/quickstart.py

test: install
	$(PYTHON) -m pytest -q tests
