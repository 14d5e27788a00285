# syntax=docker/dockerfile:1
# news-etl Airflow image: the official Airflow 3 image + this project's LOCKED dependencies.
#
#   docker compose build            (or: docker build -t news-etl-airflow:latest .)
#
# The tag below must stay equal to apache-airflow's version in uv.lock, and the Python minor
# to one the project supports; tests/deploy/test_compose.py checks both.
FROM apache/airflow:3.3.2-python3.11

# uv is only used to export uv.lock as a pinned, hash-checked requirements file; pip then
# installs it into the image's own Airflow environment (the documented way to extend it).
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

WORKDIR /opt/airflow

# 1. Third-party dependencies, exactly as locked (a layer that only changes with the lock).
#    --locked fails the build if pyproject.toml and uv.lock disagree.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md /opt/airflow/
RUN uv export --locked --no-dev --no-emit-project --format requirements-txt \
        --output-file /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm -f /tmp/requirements.txt

# 2. The project itself (the `etl` package and the `news-etl` CLI); deps are already in.
COPY --chown=airflow:0 etl/ /opt/airflow/etl/
RUN pip install --no-cache-dir --no-deps /opt/airflow

# 3. DAGs, plugins and seed lists, laid out like the repository (AIRFLOW_HOME = repo root).
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 seeds/ /opt/airflow/seeds/

# 4. Mount points of the named volumes, owned by airflow so a fresh volume inherits that.
USER root
RUN mkdir -p /opt/airflow/news-data/archive /opt/airflow/news-data/staging \
        /opt/airflow/news-data/data-docs /opt/airflow/auth \
    && chown -R airflow:0 /opt/airflow/news-data /opt/airflow/auth \
    && chmod -R g+rwX /opt/airflow/news-data /opt/airflow/auth
USER airflow
