# One task runner; CI (.ci/run) calls the same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The published image (see README.md); `make image` builds it here as $(IMAGE):dev.
IMAGE ?= codeberg.org/bookstack-sync/bookstack-sync
# Docker or Podman, whichever is installed (override: `make image ENGINE=podman`).
ENGINE ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)
# The edit loop's tests: unit tests, the fake BookStack, content and report (well under a minute).
FAST_TESTS := tests/unit tests/content tests/report tests/test_settings.py tests/test_fake_bookstack.py

.PHONY: venv test test-fast test-real lint lint-ci typecheck demo bench clean lock docs image

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The whole suite: unit, contract and end-to-end against the fake BookStack (see README.md for how long), in
# TEST_WORKERS processes (pytest-xdist): most of a test's time is waiting on loopback HTTP and subprocesses, so
# more workers than CPUs pay. Then the tests marked `alone` (they compare wall times) with the machine to
# themselves. Against a real BookStack (BOOKSTACK_TEST_URL) one test at a time: each checks that nothing of
# another docs tree changed while it ran, which tests running beside it on the same wiki would do.
TEST_WORKERS ?= $(if $(BOOKSTACK_TEST_URL),0,4)
test: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not alone"
	$(BIN)/pytest -q -m alone

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow" $(FAST_TESTS)

# The contract and end-to-end suites against the real BookStack named by BOOKSTACK_TEST_URL (README "Testing
# against a real BookStack"); without all three variables they would quietly run against the fake instead.
REAL_VARS := BOOKSTACK_TEST_URL BOOKSTACK_TEST_TOKEN_ID BOOKSTACK_TEST_TOKEN_SECRET
test-real: $(STAMP)
	@missing=""; for v in $(REAL_VARS); do eval "[ -n \"\$$$$v\" ]" || missing="$$missing $$v"; done; \
	if [ -n "$$missing" ]; then \
		echo "make test-real: set$$missing (the BookStack to test against and an API token of a role that may" \
			"create, update and delete content); nothing was run" >&2; exit 2; fi
	@start=$$(date +%s); $(BIN)/pytest -q tests/contract tests/e2e; code=$$?; took=$$(( $$(date +%s) - start )); \
	echo "make test-real: $$((took / 60)) min $$((took % 60)) s against $$BOOKSTACK_TEST_URL (exit $$code)"; exit $$code

lint: $(STAMP)
	$(BIN)/ruff check plugin tests bench scripts
	$(BIN)/ruff format --check plugin tests bench scripts
	$(BIN)/mypy
	$(MAKE) lint-ci

# The pipeline files and the Dockerfile cannot run here: check them against Woodpecker's schema and hadolint.
lint-ci: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.woodpecker-ci .woodpecker.yml
	@if [ -d .woodpecker ]; then echo ".woodpecker/ exists: Woodpecker would read it instead of .woodpecker.yml; keep one form" >&2; exit 1; fi
	@if [ -x $(BIN)/hadolint ]; then $(BIN)/hadolint Dockerfile && echo "hadolint: Dockerfile checked, no findings"; \
		else echo "hadolint not installed on this platform: Dockerfile NOT checked"; fi
	$(BIN)/python scripts/check_packaging.py

# Build the image locally where a container engine runs; say so plainly where none does.
image:
	@if [ -z "$(ENGINE)" ]; then \
		echo "make image: no container engine found (install Docker or Podman, or set ENGINE=...);" \
			"the image is built by the build-image step of .woodpecker.yml" >&2; exit 1; fi
	@if ! $(ENGINE) info >/dev/null 2>&1; then \
		echo "make image: $(ENGINE) is installed but cannot reach its engine (is the daemon running?)" >&2; exit 1; fi
	$(ENGINE) build --tag $(IMAGE):dev .
	@echo "built $(IMAGE):dev; try: $(ENGINE) run --rm -v \"$$PWD:/work\" -w /work $(IMAGE):dev validate --docs-dir examples/docs"

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
