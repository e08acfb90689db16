# The two commands of the README. Both set everything up first (idempotent, offline after install).
.PHONY: setup run test

setup:
	@bash scripts/setup.sh

run: setup
	@.venv/bin/brand-assistant corpus stats
	@BA_OPEN_MODE=$${BA_OPEN_MODE:-1} .venv/bin/brand-assistant serve --host 127.0.0.1 --port 8000

test: setup
	@.venv/bin/python -m pytest
