# One task runner; CI (.ci/run) calls the same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint lint-ci typecheck demo bench clean lock docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check plugin tests bench scripts
	$(BIN)/ruff format --check plugin tests bench scripts
	$(BIN)/mypy
	$(MAKE) lint-ci

# The pipeline files and the Dockerfile cannot run here: check them against Woodpecker's schema and hadolint.
lint-ci: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.woodpecker-ci .woodpecker.yml
	@if [ -d .woodpecker ]; then echo ".woodpecker/ exists: Woodpecker would read it instead of .woodpecker.yml; keep one form" >&2; exit 1; fi
	@if [ -x $(BIN)/hadolint ]; then $(BIN)/hadolint Dockerfile; else echo "hadolint not installed on this platform: skipped"; fi

# Pinned runtime dependencies with hashes for the Dockerfile, resolved by pip-tools in a throwaway venv.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet pip-tools
	.lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file=requirements.lock pyproject.toml
	rm -rf .lock-venv

# Rewrite the generated settings table in docs.md and README.md.
docs: $(STAMP)
	$(BIN)/python scripts/update_docs.py

typecheck: $(STAMP)
	$(BIN)/mypy

# Validate the example tree, then sync it into the bundled fake BookStack twice (see scripts/demo.py).
demo: $(STAMP)
	$(BIN)/bookstack-sync validate --docs-dir examples/docs
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python bench/validate_tree.py
	$(BIN)/python bench/sync_cost.py
	$(BIN)/python bench/concurrent_sync.py
	$(BIN)/python bench/client_overhead.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
