"""Static checks of the Docker deployment (no Docker needed).

docker-compose.yml and .env.example are written by hand, in the shape of Airflow's official
compose file. These tests pin what they must say for a working Airflow 3 CeleryExecutor
deployment of this project: services, one shared environment through the `x-airflow-common`
anchor, health checks, start order, databases, secrets from `.env`, the image.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_PATH = REPO / "docker-compose.yml"
ENV_EXAMPLE_PATH = REPO / ".env.example"
DOCKERFILE = REPO / "Dockerfile"
UV_LOCK = REPO / "uv.lock"
AIRFLOW_HOME = "/opt/airflow"

INFRA_SERVICES = {"postgres", "redis"}
AIRFLOW_SERVICES = {
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
    "airflow-triggerer", "airflow-worker",
}
ONE_SHOT_SERVICES = {"airflow-init"}
# Keys a service may add to the shared environment (each must say why in the compose file).
EXTRA_ENV_ALLOWED = {
    "airflow-worker": {"DUMB_INIT_SETSID"},
    "airflow-init": {"AIRFLOW_ADMIN_USERNAME", "AIRFLOW_ADMIN_PASSWORD", "NEWS_FETCH_POOL_SLOTS"},
}
# The subset of compose-spec service attributes this project uses (catches typos such as
# `healtcheck`, which Compose would reject but YAML happily parses).
KNOWN_SERVICE_KEYS = {
    "image", "build", "environment", "volumes", "healthcheck", "restart", "depends_on",
    "command", "entrypoint", "ports", "expose", "stop_grace_period", "user", "shm_size",
}
# `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?err}`, `${NAME?err}`.
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")
DEFAULTED_REF = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY\b|_KEY_ID\b")


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def anchor(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["x-airflow-common"]


@pytest.fixture(scope="module")
def common_env(anchor: dict[str, Any]) -> dict[str, Any]:
    return anchor["environment"]


def _env_example() -> dict[str, str]:
    """NAME -> value of the uncommented assignments in .env.example."""
    pairs = re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$",
                       ENV_EXAMPLE_PATH.read_text(encoding="utf-8"), re.M)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), "a variable is assigned twice in .env.example"
    return dict(pairs)


def _walk_strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for k, v in node.items() for item in _walk_strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [item for i, v in enumerate(node) for item in _walk_strings(v, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def _strip_interpolation(text: str) -> str:
    return INTERPOLATION.sub("X", text.replace("$$", ""))


def _lock_versions() -> dict[str, str]:
    lock = tomllib.loads(UV_LOCK.read_text(encoding="utf-8"))
    return {p["name"]: p.get("version", "") for p in lock["package"]}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined: list[str] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    out = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def _copies() -> list[tuple[list[str], str]]:
    out = []
    for keyword, args in _dockerfile_instructions():
        if keyword != "COPY":
            continue
        parts = shlex.split(args)
        if any(p.startswith("--from") for p in parts):
            continue
        paths = [p for p in parts if not p.startswith("--")]
        out.append((paths[:-1], paths[-1]))
    return out


# --------------------------------------------------------------------------------------------
# Services and the shared anchor
# --------------------------------------------------------------------------------------------


def test_compose_file_parses(compose: dict[str, Any]) -> None:
    assert compose["name"] == "news-etl"
    assert isinstance(compose["services"], dict) and compose["services"]


def test_required_services_present(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == INFRA_SERVICES | AIRFLOW_SERVICES


def test_only_known_service_keys(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert set(service) <= KNOWN_SERVICE_KEYS, f"{name}: {set(service) - KNOWN_SERVICE_KEYS}"


def test_every_airflow_service_merges_the_common_anchor(
    compose_text: str, services: dict[str, dict[str, Any]], anchor: dict[str, Any],
) -> None:
    """One image, build, user and start prerequisites, from the anchor, not from copies."""
    assert re.search(r"^x-airflow-common:\s*&airflow-common$", compose_text, re.M)
    assert re.search(r"^  environment:\s*&airflow-common-env$", compose_text, re.M)
    for name in AIRFLOW_SERVICES:
        block = re.search(rf"^  {re.escape(name)}:\n((?:    .*\n|\s*\n)+)", compose_text, re.M)
        assert block, f"{name}: service block not found"
        first_line = block.group(1).lstrip("\n").splitlines()[0].strip()
        assert first_line == "<<: *airflow-common", f"{name} must start with <<: *airflow-common"
        # A service that sets its own environment must merge the shared one into it.
        if re.search(r"^    environment:", block.group(1), re.M):
            assert re.search(r"^    environment:\n      <<: \*airflow-common-env$",
                             block.group(1), re.M), name

    assert anchor["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert (REPO / anchor["build"]["context"] / anchor["build"]["dockerfile"]).is_file()
    assert re.fullmatch(r"\$\{AIRFLOW_UID:-\d+\}:0", anchor["user"])
    for name in AIRFLOW_SERVICES:
        service = services[name]
        for key in ("image", "build", "user"):
            assert service[key] == anchor[key], f"{name}.{key}"
        assert set(anchor["volumes"]) <= set(service["volumes"]), f"{name}.volumes"
        for target, condition in anchor["depends_on"].items():
            assert service["depends_on"][target] == condition, f"{name} depends_on {target}"


def test_airflow_services_share_one_environment(
    services: dict[str, dict[str, Any]], common_env: dict[str, Any],
) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        for key, value in common_env.items():
            assert env.get(key, "<missing>") == value, f"{name} overrides or lacks {key}"
        extra = set(env) - set(common_env)
        assert extra <= EXTRA_ENV_ALLOWED.get(name, set()), f"{name} adds {extra}"
    # The UI password reaches the one container that writes the login file, no other.
    assert "AIRFLOW_ADMIN_PASSWORD" not in common_env


def test_shared_limiter_url_reaches_every_worker(
    services: dict[str, dict[str, Any]], common_env: dict[str, Any],
) -> None:
    """Every Celery worker, however many are scaled up, uses the one Redis limiter."""
    limiter_url = common_env["NEWS_ETL_LIMITER_URL"]
    assert services["airflow-worker"]["environment"]["NEWS_ETL_LIMITER_URL"] == limiter_url
    limiter = urlsplit(limiter_url)
    broker = urlsplit(common_env["AIRFLOW__CELERY__BROKER_URL"])
    assert limiter.scheme == "redis"
    assert limiter.hostname == "redis" and services["redis"]["image"].startswith("redis:")
    assert str(limiter.port) in [str(p) for p in services["redis"]["expose"]]
    # Its own Redis database: limiter keys never mix with the Celery queue.
    assert limiter.path.strip("/") and limiter.path != broker.path


def test_celery_executor_with_redis_broker_and_postgres_backend(
    common_env: dict[str, Any], services: dict[str, dict[str, Any]],
) -> None:
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(common_env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    assert services["redis"]["image"].startswith("redis:")

    metadata = urlsplit(common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    backend = urlsplit(common_env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert metadata.scheme.startswith("postgresql")
    assert backend.scheme == f"db+{metadata.scheme}"
    for url in (metadata, backend):
        assert url.hostname == "postgres"
        assert url.path == f"/{services['postgres']['environment']['POSTGRES_DB']}"
        assert url.username == services["postgres"]["environment"]["POSTGRES_USER"]
    # The SQLAlchemy driver named in the URL must be in the locked (and image) environment.
    driver = metadata.scheme.partition("+")[2] or "psycopg2"
    locked = _lock_versions()
    assert {"psycopg2": "psycopg2-binary", "psycopg": "psycopg"}[driver] in locked


def test_every_long_running_service_has_a_healthcheck(
    services: dict[str, dict[str, Any]], common_env: dict[str, Any],
) -> None:
    for name in set(services) - ONE_SHOT_SERVICES:
        check = services[name].get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert {"interval", "timeout", "retries"} <= set(check), name
        assert services[name]["restart"] == "unless-stopped", name
    api_check = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "/api/v2/monitor/health" in api_check
    scheduler_check = " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert "localhost:8974/health" in scheduler_check
    assert common_env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    for name, job in (("airflow-dag-processor", "DagProcessorJob"),
                      ("airflow-triggerer", "TriggererJob")):
        assert f"airflow jobs check --job-type {job}" in services[name]["healthcheck"]["test"][1]
    assert "inspect ping" in services["airflow-worker"]["healthcheck"]["test"][1]
    for name in ONE_SHOT_SERVICES:
        assert "healthcheck" not in services[name]
        assert services[name]["restart"] == "no"


def test_start_order_uses_health_and_completion(services: dict[str, dict[str, Any]]) -> None:
    healthy = {"condition": "service_healthy"}
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}'s health"
    assert services["airflow-init"]["depends_on"] == {"postgres": healthy, "redis": healthy}
    for name in AIRFLOW_SERVICES - ONE_SHOT_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"] == deps["redis"] == healthy, name
        assert deps["airflow-init"] == {"condition": "service_completed_successfully"}, name
    for name in ("airflow-worker", "airflow-triggerer", "airflow-dag-processor"):
        assert services[name]["depends_on"]["airflow-apiserver"] == healthy, name


def test_execution_api_and_shared_secrets(
    common_env: dict[str, Any], services: dict[str, dict[str, Any]],
) -> None:
    (port_mapping,) = services["airflow-apiserver"]["ports"]
    container_port = port_mapping.rsplit(":", 1)[1]
    assert common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        f"http://airflow-apiserver:{container_port}/execution/"
    )
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-worker"]["command"] == "celery worker"
    # Warm shutdown: SIGTERM to the Celery worker only, so running tasks can finish.
    assert services["airflow-worker"]["environment"]["DUMB_INIT_SETSID"] == "0"
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert DEFAULTED_REF.fullmatch(common_env[key]), key
    jwt_default = DEFAULTED_REF.fullmatch(common_env["AIRFLOW__API_AUTH__JWT_SECRET"]).group(2)
    assert len(jwt_default) >= 64  # HS512 key length, so PyJWT does not warn


def test_warehouse_connection_points_at_the_postgres_warehouse_db(
    common_env: dict[str, Any], services: dict[str, dict[str, Any]],
) -> None:
    pg_env = services["postgres"]["environment"]
    uris = {key: common_env[key] for key in ("AIRFLOW_CONN_WAREHOUSE_DEFAULT",
                                             "NEWS_ETL_WAREHOUSE_URL")}
    assert len(set(uris.values())) == 1, "Airflow and the etl library must name one warehouse"
    for key, uri in uris.items():
        password_ref = DEFAULTED_REF.search(uri)
        assert password_ref and password_ref.group(0) == pg_env["WAREHOUSE_PASSWORD"], key
        url = urlsplit(uri.replace(password_ref.group(0), "pw"))
        assert url.scheme == "postgresql", key
        assert url.hostname == "postgres" and services["postgres"]["image"].startswith("postgres:")
        assert url.port == 5432
        assert url.username == pg_env["WAREHOUSE_USER"], key
        assert url.path == f"/{pg_env['WAREHOUSE_DB']}", key
    assert pg_env["WAREHOUSE_DB"] != pg_env["POSTGRES_DB"]  # two databases, one server


def test_named_volumes_declared_and_bind_mounts_exist(
    compose: dict[str, Any], services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: bind mount {source} missing"
            else:
                assert source in compose["volumes"], f"{name}: volume {source} not declared"
    assert "news-data:/opt/airflow/news-data" in services["airflow-worker"]["volumes"]
    env = services["airflow-worker"]["environment"]
    for key in ("NEWS_ETL_ARCHIVE_ROOT", "NEWS_ETL_STAGING_DIR", "NEWS_ETL_DATA_DOCS_DIR"):
        default = DEFAULTED_REF.fullmatch(env[key]).group(2)
        assert default.startswith("/opt/airflow/news-data/"), key


def test_image_paths_in_the_environment_exist_in_the_repo(common_env: dict[str, Any]) -> None:
    """Paths under /opt/airflow that the env points at are files the Dockerfile copies."""
    copied_dirs = {src.rstrip("/") for sources, _ in _copies() for src in sources}
    default = DEFAULTED_REF.fullmatch(common_env["NEWS_ETL_SOURCES_FILE"]).group(2)
    relative = Path(default).relative_to(AIRFLOW_HOME)
    assert (REPO / relative).is_file(), f"{relative} is not in the repository"
    assert relative.parts[0] in copied_dirs, f"{relative.parts[0]}/ is not copied into the image"


# --------------------------------------------------------------------------------------------
# Secrets and interpolation: everything variable comes from .env
# --------------------------------------------------------------------------------------------


def test_interpolation_is_valid_and_every_variable_is_in_env_example(
    compose: dict[str, Any],
) -> None:
    documented = _env_example()
    defaults: dict[str, str] = {}
    for path, value in _walk_strings(compose):  # compose interpolates values, not comments
        assert "$" not in _strip_interpolation(value), (
            f"{path}: a bare `$` is interpolated by compose — escape it as `$$`"
        )
        for name in INTERPOLATION.findall(value.replace("$$", "")):
            assert name in documented, f"{path}: ${{{name}}} is not in .env.example"
        # Without a default an unset variable becomes "" silently; a `$` meant for the
        # container's shell, written `${X}` instead of `$${X}`, lands here too.
        for ref in re.findall(r"\$\{[^}]*\}", value.replace("$$", "")):
            assert re.fullmatch(r"\$\{\w+(?::-|:\?)[^}]*\}", ref), (
                f"{path}: {ref} needs a default (${{NAME:-default}}) or `:?error`"
            )
        for name, default in DEFAULTED_REF.findall(value.replace("$$", "")):
            assert defaults.setdefault(name, default) == default, (
                f"{path}: ${{{name}}} has two different defaults"
            )
    # An unedited copy of .env.example must not change what the stack does.
    for name, default in defaults.items():
        assert documented[name] == default, f".env.example {name}= differs from the compose default"


def test_no_secret_is_committed(compose: dict[str, Any]) -> None:
    for path, value in _walk_strings(compose):
        key = path.rsplit(".", 1)[-1]
        if SECRET_NAME.search(key) and not key.endswith("_FILE"):
            assert DEFAULTED_REF.fullmatch(value), f"{path} must be a ${{VAR:-dev-default}}"
        # Credentials inside URLs: user:PASSWORD@host, the password always a substitution.
        for match in re.finditer(r"://[^:/@\s]+:([^@\s]+)@", value):
            assert DEFAULTED_REF.fullmatch(match.group(1)), f"{path}: literal password in a URL"
    # Passed-through cloud credentials carry no value at all.
    env = compose["services"]["airflow-worker"]["environment"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert name in env and env[name] is None, name


def test_secret_defaults_are_obviously_dev_only(compose: dict[str, Any]) -> None:
    documented = _env_example()
    secrets = {
        name: default
        for _, value in _walk_strings(compose)
        for name, default in DEFAULTED_REF.findall(value)
        if SECRET_NAME.search(name)
    }
    assert {"POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD", "AIRFLOW_ADMIN_PASSWORD",
            "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY"} <= set(secrets)
    for name, default in secrets.items():
        assert default in ("", "airflow") or re.search(r"dev-only|change-me", default), (
            f"{name}={default!r}"
        )
        assert re.search(rf"^# SECRET\..*(?:\n#.*)*\n{name}=", ENV_EXAMPLE_PATH.read_text(
            encoding="utf-8"), re.M), f"{name} must be marked SECRET in .env.example"
        assert name in documented


def test_dot_env_is_git_ignored_and_untracked() -> None:
    if shutil.which("git") and (REPO / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
        assert ignored.returncode == 0, ".env must be listed in .gitignore"
        tracked = subprocess.run(["git", "ls-files", "--", ".env"], cwd=REPO, check=True,
                                 capture_output=True, text=True).stdout
        assert tracked.strip() == ""
    else:  # pragma: no cover - source tarball without git
        lines = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
        assert ".env" in {line.strip() for line in lines}


# --------------------------------------------------------------------------------------------
# Scripts run inside the containers
# --------------------------------------------------------------------------------------------


def test_postgres_init_script_creates_the_warehouse_database(
    services: dict[str, dict[str, Any]],
) -> None:
    pg = services["postgres"]
    (init_mount,) = [m for m in pg["volumes"] if ":/docker-entrypoint-initdb.d" in m]
    init_dir = REPO / init_mount.split(":", 1)[0]
    scripts = sorted(p for p in init_dir.iterdir() if p.suffix in (".sh", ".sql"))
    assert scripts, f"no init script in {init_dir}"
    text = "\n".join(p.read_text(encoding="utf-8") for p in scripts)
    assert re.search(r"CREATE\s+DATABASE", text, re.I)
    for name in ("WAREHOUSE_DB", "WAREHOUSE_USER", "WAREHOUSE_PASSWORD"):
        assert name in text and name in pg["environment"], name
    for script in scripts:
        if script.suffix == ".sh":
            assert script.stat().st_mode & 0o111, f"{script.name} must be executable"
            subprocess.run(["bash", "-n", str(script)], check=True)


def _memory_settings() -> dict[str, str]:
    lines = (REPO / "deploy" / "postgres-memory.conf").read_text(encoding="utf-8").splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.lstrip()
             .startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


def test_postgres_runs_with_the_memory_settings_ci_applies(
    services: dict[str, dict[str, Any]],
) -> None:
    """The compose server and .ci/services.sh's both follow deploy/postgres-memory.conf."""
    wanted = _memory_settings()
    assert set(wanted) == {"shared_buffers", "max_wal_size"}
    command = services["postgres"]["command"]
    assert command[0] == "postgres"
    given = dict(arg.split("=", 1) for flag, arg in zip(command[1::2], command[2::2],
                                                          strict=True) if flag == "-c")
    assert given == wanted
    script = (REPO / ".ci" / "services.sh").read_text(encoding="utf-8")
    assert "deploy/postgres-memory.conf" in script and "ALTER SYSTEM SET" in script


def _init_script(services: dict[str, dict[str, Any]]) -> str:
    init = services["airflow-init"]
    assert init["entrypoint"] == "/bin/bash"
    flag, script = init["command"]
    assert flag == "-c"
    # As the container's bash sees it: compose turns `$$` into `$`.
    return script.replace("$$", "$")


def test_airflow_init_script_parses_and_has_every_variable_it_reads(
    services: dict[str, dict[str, Any]],
) -> None:
    script = _init_script(services)
    subprocess.run(["bash", "-n", "-c", script], check=True)
    assert script.startswith("set -euo pipefail")
    # `set -u`: an unset variable would abort the init, so each must be in its environment.
    env = services["airflow-init"]["environment"]
    read = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", script))
    read |= set(re.findall(r"os\.environ\[\"([A-Z][A-Z0-9_]*)\"\]", script))
    assert read, "the init script reads no variable: the checks above would be vacuous"
    assert read <= set(env), f"airflow-init reads unset {read - set(env)}"


def test_airflow_init_migrates_and_writes_the_ui_login(
    services: dict[str, dict[str, Any]], common_env: dict[str, Any],
) -> None:
    script = _init_script(services)
    assert "airflow db migrate" in script and "news-etl migrate" in script
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    init_env = services["airflow-init"]["environment"]
    assert common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == (
        f"{init_env['AIRFLOW_ADMIN_USERNAME']}:admin"
    )
    assert init_env["AIRFLOW_ADMIN_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:-")
    assert "airflow-auth:/opt/airflow/auth" in services["airflow-init"]["volumes"]
    assert "airflow-auth:/opt/airflow/auth" in services["airflow-apiserver"]["volumes"]
    assert common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith(
        "/opt/airflow/auth/")


def test_airflow_init_creates_every_pool_the_dags_use(
    services: dict[str, dict[str, Any]],
) -> None:
    """A task in a pool that does not exist is never scheduled: init must create each one."""
    pools = {
        match
        for path in (REPO / "dags").rglob("*.py")
        for match in re.findall(r"\bpool\s*=\s*[\"']([\w.-]+)[\"']", path.read_text("utf-8"))
    }
    assert "news_fetch" in pools
    script = _init_script(services)
    for pool in pools:
        assert re.search(rf"airflow pools set {re.escape(pool)} ", script), pool


def test_news_etl_cli_has_the_migrate_command_init_runs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "news-etl" in pyproject["project"]["scripts"]
    from etl.cli import build_parser

    assert build_parser().parse_args(["migrate"]).command == "migrate"


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------


def test_dockerfile_base_image_matches_the_lock() -> None:
    froms = [args for keyword, args in _dockerfile_instructions() if keyword == "FROM"]
    final = froms[-1].split()[0]
    match = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", final)
    assert match, f"final FROM must be apache/airflow:<version>-python<x.y>, got {final}"
    airflow_version, python_version = match.groups()
    assert airflow_version.startswith("3.")
    assert airflow_version == _lock_versions()["apache-airflow"], (
        "Dockerfile FROM tag must equal apache-airflow's version in uv.lock"
    )
    from packaging.specifiers import SpecifierSet

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert f"{python_version}.0" in SpecifierSet(pyproject["project"]["requires-python"])


def test_dockerfile_copy_sources_exist_and_are_not_dockerignored() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copied = [src for sources, _ in _copies() for src in sources]
    assert {"pyproject.toml", "uv.lock", "etl/", "dags/", "plugins/", "seeds/"} <= set(copied)
    for src in copied:
        path = REPO / src
        assert path.exists(), f"COPY source {src} does not exist"
        if path.is_dir():
            assert any(p.is_file() for p in path.rglob("*")), (
                f"COPY source {src} is empty: git will not keep it, so a fresh clone cannot build"
            )
        assert src.rstrip("/") not in ignored, f"{src} is excluded by .dockerignore"


def test_dockerfile_installs_the_locked_dependencies_and_the_project() -> None:
    runs = " && ".join(args for keyword, args in _dockerfile_instructions() if keyword == "RUN")
    export = re.search(r"uv export ([^&]*)", runs)
    assert export, "dependencies must come from uv.lock (uv export)"
    flags = export.group(1).split()
    assert "--no-dev" in flags and ({"--locked", "--frozen"} & set(flags))
    requirements = flags[flags.index("--output-file") + 1]
    assert re.search(rf"pip install [^&]*-r {re.escape(requirements)}", runs)
    (project_dir,) = [dest for sources, dest in _copies() if "uv.lock" in sources]
    project_install = re.search(r"pip install [^&]*--no-deps (\S+)", runs)
    assert project_install and project_install.group(1).rstrip("/") == project_dir.rstrip("/")
    readme = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"].get("readme")
    if readme:  # hatchling needs it to build the project
        assert any(readme in sources for sources, _ in _copies())


def test_image_prepares_the_volume_mount_points_for_group_zero(anchor: dict[str, Any]) -> None:
    """Named volumes take their owner from the image; the anchor's `user` writes as group 0."""
    runs = " ".join(args for keyword, args in _dockerfile_instructions() if keyword == "RUN")
    for mount in anchor["volumes"]:
        target = mount.split(":")[1]
        if target == f"{AIRFLOW_HOME}/logs":
            continue  # the official image already ships it group-writable
        assert target in runs, f"{target} is not created in the image"
    assert "chown -R airflow:0" in runs and "g+rwX" in runs
