# news-etl: every target sets itself up from the committed lock file (uv.lock).
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT        := $(CURDIR)
UV_VERSION  := 0.13.9
UV          := $(shell command -v uv 2>/dev/null || echo $(ROOT)/.uv/bin/uv)
VENV        := $(ROOT)/.venv
BIN         := $(VENV)/bin
SOURCES     ?= $(ROOT)/seeds/sources.yml

export AIRFLOW_HOME                    ?= $(ROOT)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER      := $(ROOT)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER   := $(ROOT)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES    := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export AIRFLOW__LOGGING__LOGGING_LEVEL ?= INFO
export NEWS_ETL_WAREHOUSE_URL          ?= sqlite:///$(ROOT)/data/warehouse.db
export NEWS_ETL_STAGING_DIR            ?= $(ROOT)/data/staging
export NEWS_ETL_DATA_DOCS_DIR          ?= $(ROOT)/data/data-docs
export NEWS_ETL_ARCHIVE_ROOT           ?= $(ROOT)/data/archive
export NEWS_ETL_SOURCES_FILE           ?= $(SOURCES)
export GX_ANALYTICS_ENABLED            := false
export PYTHONPATH                      := $(ROOT)/plugins:$(PYTHONPATH)

# pytest-xdist workers: the suite mostly waits on subprocesses, servers and databases, so
# more workers than cores pays off; worksteal evens out the long Airflow tests.
TEST_WORKERS ?= 4
# The quick loop waits less on processes and servers: three workers took as long as four
# and 12% less CPU (two paired runs, 140-148 s vs 149-158 s on 2 cores).
FAST_TEST_WORKERS ?= 3
# The slowest tests of each run, so a test that grows slow is seen the day it does.
TEST_DURATIONS ?= 15

.PHONY: help setup run test test-fast lint airflow airflow-init trigger migrate bench clean

help:
	@echo "make run      set up, then run the news_ingest DAG through Airflow on the embedded SQLite warehouse"
	@echo "make test     set up, then ruff and the whole test suite (starts PostgreSQL/Redis if down)"
	@echo "make test-fast  unit and integration tests without Airflow, browser or scale tests (the quick loop)"
	@echo "make airflow  start Airflow locally (airflow standalone) with the UI on http://localhost:8080"
	@echo "make trigger  trigger news_ingest in that Airflow (CONF='{\"sources\": [\"name\"], \"limit\": 5}')"
	@echo "make migrate  apply warehouse migrations (NEWS_ETL_WAREHOUSE_URL)"
	@echo "make bench    run the benchmarks and rewrite BENCHMARKS.md"

# uv from PyPI when it is not installed: a private venv holds it.
$(ROOT)/.uv/bin/uv:
	python3 -m venv $(ROOT)/.uv
	$(ROOT)/.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode compiled once here (~8 s on 2 cores): where PYTHONDONTWRITEBYTECODE is set, every
# process, each Airflow task's included, would otherwise compile Airflow and GX again.
$(BIN)/news-etl: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python python3 --compile-bytecode
	@touch $@

setup: $(BIN)/news-etl

$(AIRFLOW_HOME)/.migrated: $(BIN)/news-etl
	@mkdir -p $(AIRFLOW_HOME) $(ROOT)/data
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -50 $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	$(BIN)/airflow pools set news_fetch 4 "Bounds concurrent fetch tasks across all runs" > /dev/null
	@touch $@

airflow-init: $(AIRFLOW_HOME)/.migrated

run: airflow-init
	$(BIN)/news-etl migrate > /dev/null
	$(BIN)/airflow dags test news_ingest > $(AIRFLOW_HOME)/last-run.log 2>&1 \
		|| (tail -80 $(AIRFLOW_HOME)/last-run.log; echo "news_ingest failed: full log in $(AIRFLOW_HOME)/last-run.log"; exit 1)
	@grep -E "DagRun Finished|state=" $(AIRFLOW_HOME)/last-run.log | tail -1 || true
	@$(BIN)/news-etl report --rows 5

lint: setup
	$(BIN)/ruff check .

test: setup
	bash $(ROOT)/.ci/services.sh
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --durations=$(TEST_DURATIONS)

test-fast: setup
	bash $(ROOT)/.ci/services.sh
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not slow" -n $(FAST_TEST_WORKERS) --dist worksteal --durations=$(TEST_DURATIONS)

# `make airflow` sizes the LocalExecutor to the machine: Airflow's default parallelism (32)
# would start 32 task processes on any machine. Tasks mostly wait on HTTP and the database,
# so two per core; DAG parsing gets at most one process per core. Both can be overridden.
CORES                ?= $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
AIRFLOW_PARALLELISM  ?= $(shell echo $$(( 2 * $(CORES) )))
AIRFLOW_PARSING      ?= $(shell echo $$(( $(CORES) < 2 ? $(CORES) : 2 )))

airflow: airflow-init
	@echo "Airflow UI: http://localhost:8080  (login: admin / the password printed below, also in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"
	@echo "LocalExecutor: $(AIRFLOW_PARALLELISM) task processes ($(CORES) cores; AIRFLOW_PARALLELISM=N to change)"
	PATH=$(BIN):$$PATH AIRFLOW__CORE__PARALLELISM=$(AIRFLOW_PARALLELISM) \
		AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=$(AIRFLOW_PARSING) $(BIN)/airflow standalone

# `airflow dags trigger` with this repository's AIRFLOW_HOME, from the repo root (Airflow
# running: `make airflow` in another terminal). CONF is the run's Params as JSON.
CONF ?= {}
trigger: airflow-init
	$(BIN)/airflow dags trigger news_ingest --conf '$(CONF)' \
		|| (echo "make trigger: is Airflow running (make airflow)? news_ingest must have been parsed once"; exit 1)

migrate: setup
	$(BIN)/news-etl migrate

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(ROOT)/data $(AIRFLOW_HOME)
