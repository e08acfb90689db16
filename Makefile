# The two commands of the README. Both set everything up first (idempotent, offline after install).
.PHONY: setup run test

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run.sh

test: setup
	@.venv/bin/python -m pytest
