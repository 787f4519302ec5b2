# Vigil developer commands. `make run` and `make test` are all you need; `make help` lists the rest.
#
# Every target that needs the project installs it first (into .venv, from constraints.txt).
# Commands that need PostgreSQL/Redis go through config/devstack.py, which starts embedded
# servers (data in var/) unless DATABASE_URL / REDIS_URL are set.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEVSTACK := $(PY) -m config.devstack
STAMP := .make-installed
PYTEST_ARGS ?=
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt manage shell migrations-check check-deploy lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when the dependency declarations change.
$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP) ## Create .venv and install Vigil with its dev tools (pinned by constraints.txt)

run: install ## Migrate, seed demo data and serve web + worker + beat on http://127.0.0.1:$PORT (8000)
	$(DEVSTACK) run

test: install ## Run the test suite (PYTEST_ARGS="-k incident -x")
	$(DEVSTACK) exec -- $(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install ## Fix what ruff can fix and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

manage: install ## Any manage.py command: make manage ARGS="createsuperuser"
	$(DEVSTACK) exec -- $(PY) manage.py $(ARGS)

shell: install ## Django shell with the services up
	$(DEVSTACK) exec -- $(PY) manage.py shell

migrations-check: install ## Fail if a model change has no migration
	$(DEVSTACK) exec -- $(PY) manage.py makemigrations --check --dry-run

check-deploy: install ## Django's deployment checks with production-like settings
	DEBUG=0 ALLOWED_HOSTS=vigil.example.org \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	$(DEVSTACK) exec -- $(PY) manage.py check --deploy --fail-level WARNING

# API fuzzing (tests/fuzz): `make test` runs a bounded pass; this one sends >= 10,000 generated requests.
FUZZ_MAX_EXAMPLES ?= 25
.PHONY: fuzz backup restore

fuzz: install ## Fuzz the API from its OpenAPI schema, 5 roles, >= 10,000 cases (FUZZ_MAX_EXAMPLES=25 per operation)
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_MIN_CASES=10000 \
	$(DEVSTACK) exec -- $(BIN)/pytest tests/fuzz $(PYTEST_ARGS)

backup: install ## Back up database + evidence with a SHA-256 manifest to var/backups/ (BACKUP_DIR=... to choose)
	$(DEVSTACK) exec -- $(PY) manage.py backup $(if $(BACKUP_DIR),--output "$(BACKUP_DIR)")

restore: install ## Restore a backup into an EMPTY database and storage: make restore BACKUP=var/backups/vigil-...
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=<backup directory>" >&2; exit 2; }
	$(DEVSTACK) exec -- $(PY) manage.py restore "$(BACKUP)"

# Faults survived (issue 8): the tests marked `chaos` (tests/integration) inject faults into throwaway
# PostgreSQL/Redis instances of their own; `make test` runs them bounded, this runs the long variants and
# ends with their figures (faults injected, requests, rows, messages delivered and lost, errors).
CHAOS_SECONDS ?= 60
.PHONY: chaos

chaos: install ## Long fault runs: Redis down over 1,000 writes, worker SIGKILL, PostgreSQL restarts, 50 clients x CHAOS_SECONDS
	CHAOS=1 CHAOS_SECONDS=$(CHAOS_SECONDS) $(DEVSTACK) exec -- $(BIN)/pytest -m chaos tests/integration $(PYTEST_ARGS)

# Scale benchmark (issue 7, bench/): a dedicated database, never the dev or test one. It needs a real
# PostgreSQL and Redis (BENCH_DATABASE_URL / BENCH_REDIS_URL); bench/db.py refuses names without "bench".
# One fixed SECRET_KEY: the runtime roles' passwords that `migrate` sets are derived from it (README,
# "Database roles"), so the server must derive the same ones.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/vigil_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_REQUESTS ?= 200
N ?= 10000
SEED ?= 7
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(BENCH_REDIS_URL) DEBUG=0 SECURE_SSL_REDIRECT=0 \
	ALLOWED_HOSTS=127.0.0.1,localhost,testserver \
	SECRET_KEY=bench-only-not-a-secret-the-same-for-migrate-and-serve-0123456789abcdefghij
.PHONY: bench-data bench-run bench-quick bench

bench-data: install ## Recreate the vigil_bench database with N generated incidents (make bench-data N=100000)
	$(BENCH_ENV) $(PY) bench/db.py recreate
	$(BENCH_ENV) $(PY) manage.py migrate -v0
	$(BENCH_ENV) $(PY) manage.py generate_data --incidents $(N) --seed $(SEED)

bench-run: install ## Benchmark the data in vigil_bench (gunicorn, 2 workers): make bench-run LABEL=10k
	$(BENCH_ENV) $(PY) bench/run.py --label $(LABEL) --requests $(BENCH_REQUESTS)

bench-quick: install ## The benchmark at 10k incidents (a few minutes); writes bench/results.json
	$(MAKE) bench-data N=10000
	$(MAKE) bench-run LABEL=10k

bench: install ## The benchmark at 10k and 1M incidents (about 45 minutes) and the growth table
	$(MAKE) bench-data N=10000
	$(MAKE) bench-run LABEL=10k
	$(MAKE) bench-data N=1000000
	$(MAKE) bench-run LABEL=1M
	$(PY) bench/run.py --compare 10k 1M

lock: ## Regenerate constraints.txt from a fresh venv with the newest allowed versions
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --disable-pip-version-check -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable > constraints.txt
	rm -rf .lock-venv
	@echo "constraints.txt updated; run 'make install' to sync .venv"

clean: ## Remove .venv, caches and build leftovers (keeps var/, the local data)
	rm -rf $(VENV) .lock-venv $(STAMP) .pytest_cache .ruff_cache staticfiles *.egg-info build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
