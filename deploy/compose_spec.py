"""The single source of truth for the Docker Compose deployment.

Everything docker-compose.yml and .env.example contain is declared here, as plain Python data:
the services, the one environment block every Airflow service shares, and the DEV-ONLY
defaults of every secret. `deploy/render_compose.py` turns this module into those two files,
and tests/deploy/test_compose.py asserts that the committed files equal the rendered output
byte for byte — so editing the YAML by hand, or this module without re-rendering, fails CI.

To change the deployment: edit this module, run `python deploy/render_compose.py`, commit both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------------------------
# YAML building blocks understood by the renderer (anchors, aliases, comments).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchored:
    """A mapping emitted with a YAML anchor: `key: &name`."""

    name: str
    value: dict[str, Any]


@dataclass(frozen=True)
class Alias:
    """A reference to an anchored mapping: `*name` (used as `<<: *name` merge key)."""

    name: str


# --------------------------------------------------------------------------------------------
# Names: services, databases, paths.
# --------------------------------------------------------------------------------------------

PROJECT_NAME = "news-etl"

POSTGRES = "postgres"
REDIS = "redis"
AIRFLOW_INIT = "airflow-init"
AIRFLOW_APISERVER = "airflow-apiserver"
AIRFLOW_SCHEDULER = "airflow-scheduler"
AIRFLOW_DAG_PROCESSOR = "airflow-dag-processor"
AIRFLOW_TRIGGERER = "airflow-triggerer"
AIRFLOW_WORKER = "airflow-worker"

#: Every Airflow service: same image, same environment (the `x-airflow-common` anchor).
AIRFLOW_SERVICES: tuple[str, ...] = (
    AIRFLOW_INIT,
    AIRFLOW_APISERVER,
    AIRFLOW_SCHEDULER,
    AIRFLOW_DAG_PROCESSOR,
    AIRFLOW_TRIGGERER,
    AIRFLOW_WORKER,
)
#: The services a deployment must have.
REQUIRED_SERVICES: tuple[str, ...] = (POSTGRES, REDIS, *AIRFLOW_SERVICES)
#: One-shot services (run to completion; no health check, no restart).
ONE_SHOT_SERVICES: tuple[str, ...] = (AIRFLOW_INIT,)
#: Services that stay up and therefore carry a health check.
LONG_RUNNING_SERVICES: tuple[str, ...] = tuple(
    s for s in REQUIRED_SERVICES if s not in ONE_SHOT_SERVICES
)

AIRFLOW_COMMON_ANCHOR = "airflow-common"
AIRFLOW_COMMON_ENV_ANCHOR = "airflow-common-env"

API_PORT = 8080
SCHEDULER_HEALTH_PORT = 8974
POSTGRES_PORT = 5432
REDIS_PORT = 6379

METADATA_DB = "airflow"
METADATA_USER = "airflow"
WAREHOUSE_DB = "warehouse"
WAREHOUSE_USER = "warehouse"

POSTGRES_IMAGE = "postgres:16"
REDIS_IMAGE = "redis:7.2-bookworm"

AIRFLOW_HOME = "/opt/airflow"
NEWS_DATA_DIR = f"{AIRFLOW_HOME}/news-data"
AUTH_DIR = f"{AIRFLOW_HOME}/auth"
PASSWORDS_FILE = f"{AUTH_DIR}/simple_auth_manager_passwords.json"
POSTGRES_INIT_DIR = "./deploy/postgres-init"

# --------------------------------------------------------------------------------------------
# Variables read from the environment / .env file, each with its DEV-ONLY default.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvVar:
    """A `${NAME:-default}` substitution; `secret` ones must be overridden outside dev."""

    name: str
    default: str
    help: str
    secret: bool = False

    @property
    def ref(self) -> str:
        return f"${{{self.name}:-{self.default}}}"


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("NEWS_ETL_IMAGE", "news-etl-airflow:latest",
           "Tag of the image built from ./Dockerfile (push it to a registry for multi-host)."),
    EnvVar("AIRFLOW_API_PORT", str(API_PORT), "Host port of the Airflow UI / REST API."),
    EnvVar("POSTGRES_PASSWORD", "airflow",
           f"Password of the '{METADATA_USER}' role (Airflow metadata DB). URL-safe characters "
           "only: it is embedded in connection URLs.", secret=True),
    EnvVar("WAREHOUSE_PASSWORD", "change-me",
           f"Password of the '{WAREHOUSE_USER}' role (warehouse DB). URL-safe characters only. "
           "Read by the postgres init script on the FIRST start of an empty volume only.",
           secret=True),
    EnvVar("AIRFLOW_ADMIN_USERNAME", "airflow", "UI login (simple auth manager, role admin)."),
    EnvVar("AIRFLOW_ADMIN_PASSWORD", "airflow", "UI password, written by airflow-init.",
           secret=True),
    EnvVar("AIRFLOW_API_SECRET_KEY", "dev-only-api-secret-key-change-me",
           "[api] secret_key shared by every Airflow component.\n"
           "Generate: python -c 'import secrets; print(secrets.token_urlsafe(32))'", secret=True),
    EnvVar("AIRFLOW_JWT_SECRET",
           "dev-only-insecure-jwt-secret-change-me-0123456789abcdef0123456789abcdef",
           "[api_auth] jwt_secret shared by every Airflow component (>= 64 characters).\n"
           "Generate: python -c 'import secrets; print(secrets.token_urlsafe(64))'", secret=True),
    EnvVar("AIRFLOW_FERNET_KEY", "",
           "Encrypts connection passwords in the metadata DB; empty = unencrypted (dev only).\n"
           "Generate: python -c 'from cryptography.fernet import Fernet; "
           "print(Fernet.generate_key().decode())'", secret=True),
    EnvVar("NEWS_ETL_SOURCES_FILE", f"{AIRFLOW_HOME}/seeds/sources.yml",
           "Sources read by the news_ingest DAG (baked into the image from seeds/)."),
    EnvVar("NEWS_ETL_ARCHIVE_ROOT", f"{NEWS_DATA_DIR}/archive",
           "Raw-page archive: a path on the news-data volume, or s3://bucket/prefix."),
    EnvVar("NEWS_ETL_STAGING_DIR", f"{NEWS_DATA_DIR}/staging", "Staging area between tasks."),
    EnvVar("NEWS_ETL_DATA_DOCS_DIR", f"{NEWS_DATA_DIR}/data-docs",
           "Great Expectations data docs output."),
)
_VARS = {v.name: v for v in ENV_VARS}


def var(name: str) -> str:
    """`${NAME:-default}` for a declared variable (KeyError for an undeclared one)."""
    return _VARS[name].ref


#: Passed through from the shell / .env when set, absent from the container otherwise
#: (a compose `environment` key without a value). Used for the S3 archive.
PASSTHROUGH_ENV: tuple[str, ...] = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
)

# --------------------------------------------------------------------------------------------
# The environment shared by every Airflow service.
# --------------------------------------------------------------------------------------------

METADATA_DB_URL = (
    # psycopg2-binary is in uv.lock (via apache-airflow-providers-postgres) and in the image.
    f"postgresql+psycopg2://{METADATA_USER}:{var('POSTGRES_PASSWORD')}"
    f"@{POSTGRES}:{POSTGRES_PORT}/{METADATA_DB}"
)
WAREHOUSE_CONN_URI = (
    f"postgresql://{WAREHOUSE_USER}:{var('WAREHOUSE_PASSWORD')}"
    f"@{POSTGRES}:{POSTGRES_PORT}/{WAREHOUSE_DB}"
)

AIRFLOW_COMMON_ENV: dict[str, str | None] = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CORE__AUTH_MANAGER": (
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    ),
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{var('AIRFLOW_ADMIN_USERNAME')}:admin",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": PASSWORDS_FILE,
    "AIRFLOW__CORE__FERNET_KEY": var("AIRFLOW_FERNET_KEY"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
        f"http://{AIRFLOW_APISERVER}:{API_PORT}/execution/"
    ),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": METADATA_DB_URL,
    "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS}:{REDIS_PORT}/0",
    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{METADATA_DB_URL}",
    "AIRFLOW__API__SECRET_KEY": var("AIRFLOW_API_SECRET_KEY"),
    "AIRFLOW__API_AUTH__JWT_SECRET": var("AIRFLOW_JWT_SECRET"),
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
    "AIRFLOW_CONN_WAREHOUSE_DEFAULT": WAREHOUSE_CONN_URI,
    "NEWS_ETL_WAREHOUSE_URL": WAREHOUSE_CONN_URI,
    "NEWS_ETL_SOURCES_FILE": var("NEWS_ETL_SOURCES_FILE"),
    "NEWS_ETL_ARCHIVE_ROOT": var("NEWS_ETL_ARCHIVE_ROOT"),
    "NEWS_ETL_STAGING_DIR": var("NEWS_ETL_STAGING_DIR"),
    "NEWS_ETL_DATA_DOCS_DIR": var("NEWS_ETL_DATA_DOCS_DIR"),
    "GX_ANALYTICS_ENABLED": "false",  # Great Expectations: no usage analytics from workers
    **dict.fromkeys(PASSTHROUGH_ENV),
}
COMMON_ENV_KEYS: tuple[str, ...] = tuple(AIRFLOW_COMMON_ENV)

# --------------------------------------------------------------------------------------------
# Services.
# --------------------------------------------------------------------------------------------

COMMON_VOLUMES: list[str] = [
    f"news-data:{NEWS_DATA_DIR}",
    f"airflow-logs:{AIRFLOW_HOME}/logs",
]
#: Only the init job (writer) and the API server (reader) see the UI password file.
AUTH_VOLUMES: list[str] = [*COMMON_VOLUMES, f"airflow-auth:{AUTH_DIR}"]

AIRFLOW_COMMON: dict[str, Any] = {
    "image": var("NEWS_ETL_IMAGE"),
    "build": {"context": ".", "dockerfile": "Dockerfile"},
    "environment": Anchored(AIRFLOW_COMMON_ENV_ANCHOR, AIRFLOW_COMMON_ENV),
    "volumes": COMMON_VOLUMES,
}


def _healthcheck(test: list[str], *, start_period: str = "30s") -> dict[str, Any]:
    return {
        "test": test,
        "interval": "30s",
        "timeout": "10s",
        "retries": 5,
        "start_period": start_period,
    }


def _jobs_check(job_type: str) -> list[str]:
    # `$$` is compose's escape for a literal `$`: HOSTNAME is expanded inside the container.
    return ["CMD-SHELL", f'airflow jobs check --job-type {job_type} --hostname "$${{HOSTNAME}}"']


_HEALTHY = {"condition": "service_healthy"}
_INFRA_DEPENDS_ON = {POSTGRES: _HEALTHY, REDIS: _HEALTHY}
_AFTER_INIT = {
    **_INFRA_DEPENDS_ON,
    AIRFLOW_INIT: {"condition": "service_completed_successfully"},
}
_AFTER_API = {**_AFTER_INIT, AIRFLOW_APISERVER: _HEALTHY}

# Runs as bash -c SCRIPT airflow-init USERNAME PASSWORD: the credentials arrive as separate argv
# entries, so no quoting or shell parsing of their values ever happens. `$$` = literal `$`.
INIT_SCRIPT = """\
set -euo pipefail
echo "airflow-init: migrating the Airflow metadata database"
airflow db migrate
echo "airflow-init: migrating the warehouse schema (Alembic, once, before any worker loads)"
news-etl migrate
echo "airflow-init: writing the simple auth manager password file for user $$1"
python - "$$1" "$$2" <<'PY'
import json, os, sys
path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as fh:
    json.dump({sys.argv[1]: sys.argv[2]}, fh)
os.chmod(path, 0o600)
PY
for dir in "$$NEWS_ETL_ARCHIVE_ROOT" "$$NEWS_ETL_STAGING_DIR" "$$NEWS_ETL_DATA_DOCS_DIR"; do
  case "$$dir" in
    *://*) ;;
    *) mkdir -p "$$dir" ;;
  esac
done
airflow version
"""

SERVICES: dict[str, dict[str, Any]] = {
    POSTGRES: {
        "image": POSTGRES_IMAGE,
        "environment": {
            "POSTGRES_USER": METADATA_USER,
            "POSTGRES_PASSWORD": var("POSTGRES_PASSWORD"),
            "POSTGRES_DB": METADATA_DB,
            # Read by deploy/postgres-init/01-create-warehouse.sh.
            "WAREHOUSE_DB": WAREHOUSE_DB,
            "WAREHOUSE_USER": WAREHOUSE_USER,
            "WAREHOUSE_PASSWORD": var("WAREHOUSE_PASSWORD"),
        },
        "volumes": [
            "postgres-db:/var/lib/postgresql/data",
            f"{POSTGRES_INIT_DIR}:/docker-entrypoint-initdb.d:ro",
        ],
        "healthcheck": _healthcheck(
            ["CMD", "pg_isready", "-U", METADATA_USER, "-d", METADATA_DB], start_period="10s"
        ),
        "restart": "unless-stopped",
    },
    REDIS: {
        "image": REDIS_IMAGE,
        "expose": [str(REDIS_PORT)],
        "healthcheck": _healthcheck(["CMD", "redis-cli", "ping"], start_period="10s"),
        "restart": "unless-stopped",
    },
    AIRFLOW_INIT: {
        "<<": Alias(AIRFLOW_COMMON_ANCHOR),
        "entrypoint": "/bin/bash",
        "command": [
            "-c",
            INIT_SCRIPT,
            AIRFLOW_INIT,
            var("AIRFLOW_ADMIN_USERNAME"),
            var("AIRFLOW_ADMIN_PASSWORD"),
        ],
        "volumes": AUTH_VOLUMES,
        "depends_on": _INFRA_DEPENDS_ON,
        "restart": "no",
    },
    AIRFLOW_APISERVER: {
        "<<": Alias(AIRFLOW_COMMON_ANCHOR),
        "command": "api-server",
        "ports": [f"{var('AIRFLOW_API_PORT')}:{API_PORT}"],
        "volumes": AUTH_VOLUMES,
        "healthcheck": _healthcheck(
            ["CMD", "curl", "--fail", f"http://localhost:{API_PORT}/api/v2/monitor/health"]
        ),
        "depends_on": _AFTER_INIT,
        "restart": "unless-stopped",
    },
    AIRFLOW_SCHEDULER: {
        "<<": Alias(AIRFLOW_COMMON_ANCHOR),
        "command": "scheduler",
        "healthcheck": _healthcheck(
            ["CMD", "curl", "--fail", f"http://localhost:{SCHEDULER_HEALTH_PORT}/health"]
        ),
        "depends_on": _AFTER_API,
        "restart": "unless-stopped",
    },
    AIRFLOW_DAG_PROCESSOR: {
        "<<": Alias(AIRFLOW_COMMON_ANCHOR),
        "command": "dag-processor",
        "healthcheck": _healthcheck(_jobs_check("DagProcessorJob")),
        "depends_on": _AFTER_API,
        "restart": "unless-stopped",
    },
    AIRFLOW_TRIGGERER: {
        "<<": Alias(AIRFLOW_COMMON_ANCHOR),
        "command": "triggerer",
        "healthcheck": _healthcheck(_jobs_check("TriggererJob")),
        "depends_on": _AFTER_API,
        "restart": "unless-stopped",
    },
    AIRFLOW_WORKER: {
        "<<": Alias(AIRFLOW_COMMON_ANCHOR),
        # dumb-init --single-child forwards SIGTERM to `airflow celery worker` only (not to its
        # pool processes), so a stop is a Celery warm shutdown that lets running tasks finish.
        # Same effect as the official compose's DUMB_INIT_SETSID=0, without forking the env.
        "entrypoint": ["/usr/bin/dumb-init", "--single-child", "--", "/entrypoint"],
        "command": ["celery", "worker"],
        "healthcheck": _healthcheck([
            "CMD-SHELL",
            "celery --app airflow.providers.celery.executors.celery_executor.app "
            'inspect ping -d "celery@$${HOSTNAME}"',
        ]),
        "depends_on": _AFTER_API,
        "stop_grace_period": "5m",
        "restart": "unless-stopped",
    },
}

VOLUMES: dict[str, None] = dict.fromkeys(
    ["postgres-db", "news-data", "airflow-logs", "airflow-auth"]
)

#: The whole compose document, in output order.
COMPOSE: dict[str, Any] = {
    "name": PROJECT_NAME,
    f"x-{AIRFLOW_COMMON_ANCHOR}": Anchored(AIRFLOW_COMMON_ANCHOR, AIRFLOW_COMMON),
    "services": SERVICES,
    "volumes": VOLUMES,
}

# --------------------------------------------------------------------------------------------
# Comments, keyed by the path of the key they precede.
# --------------------------------------------------------------------------------------------

_LOGIN = (
    f"{_VARS['AIRFLOW_ADMIN_USERNAME'].default} / {_VARS['AIRFLOW_ADMIN_PASSWORD'].default}"
)
HEADER = f"""\
GENERATED by deploy/render_compose.py from deploy/compose_spec.py — do not edit by hand:
edit the spec, run `python deploy/render_compose.py`, commit both (a test compares them).

DEV-ONLY DEFAULTS. Every password and secret below is a ${{VAR:-default}} whose default is
meant for a laptop. For anything shared, copy .env.example to .env (git-ignored) and set
real values, or export them in the shell. Nothing secret is committed.

Usage: docker compose up -d --build
UI and REST API: http://localhost:{API_PORT}  (DEV-ONLY login: {_LOGIN})
"""

COMMENTS: dict[tuple[str, ...], str] = {
    (f"x-{AIRFLOW_COMMON_ANCHOR}",): (
        "One image and ONE environment for every Airflow service (merged with <<:)."
    ),
    (f"x-{AIRFLOW_COMMON_ANCHOR}", "volumes"): (
        "Archive/staging/data-docs and task logs, shared by every Airflow container."
    ),
    (f"x-{AIRFLOW_COMMON_ANCHOR}", "environment", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"): (
        "psycopg2-binary is locked in uv.lock (via apache-airflow-providers-postgres)."
    ),
    (f"x-{AIRFLOW_COMMON_ANCHOR}", "environment", "AIRFLOW_CONN_WAREHOUSE_DEFAULT"): (
        "The warehouse, from ONE definition: Airflow connection `warehouse_default` and the\n"
        "URL read by the etl library / `news-etl` CLI."
    ),
    (f"x-{AIRFLOW_COMMON_ANCHOR}", "environment", PASSTHROUGH_ENV[0]): (
        "S3 archive credentials: passed through from the shell/.env only when set."
    ),
    ("services", POSTGRES): (
        f"One PostgreSQL server, two databases: '{METADATA_DB}' (Airflow metadata, Celery "
        f"results)\nand '{WAREHOUSE_DB}' (articles), the latter created by {POSTGRES_INIT_DIR}/ "
        "on first start."
    ),
    ("services", REDIS): "Celery broker.",
    ("services", AIRFLOW_INIT): (
        "One-shot: migrate the metadata DB and the warehouse schema, write the UI password\n"
        "file, create the data dirs."
    ),
    ("services", AIRFLOW_APISERVER): "UI + REST API + the Execution API the workers call.",
    ("services", AIRFLOW_WORKER): (
        "Scale out with `docker compose up -d --scale airflow-worker=N`, or run this service\n"
        "on other hosts against the same postgres/redis (see the Deploy section of README.md)."
    ),
}

ENV_EXAMPLE_HEADER = """\
GENERATED by deploy/render_compose.py from deploy/compose_spec.py — do not edit by hand.

Copy to .env (git-ignored) and change every value marked SECRET before the stack is shared
with anyone. The defaults below are DEV-ONLY and are also what docker-compose.yml uses when a
variable is unset.
"""

ENV_EXAMPLE_FOOTER = """\
S3 archive instead of the news-data volume: set NEWS_ETL_ARCHIVE_ROOT=s3://bucket/prefix and
(unless the hosts have an instance role) the AWS_* variables below; they are passed to the
Airflow containers only when set.
"""
