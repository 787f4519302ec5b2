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
