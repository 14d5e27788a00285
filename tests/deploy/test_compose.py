"""Static checks of the Docker deployment (no Docker needed).

deploy/compose_spec.py is the single source of truth; docker-compose.yml and .env.example are
rendered from it by deploy/render_compose.py. These tests pin (1) that the committed files are
exactly the rendered ones, and (2) that what they say is a working Airflow 3 CeleryExecutor
deployment: services, shared environment, health checks, start order, databases, image.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_PATH = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
UV_LOCK = REPO / "uv.lock"

# What the deployment must offer, whatever the spec grows into.
MUST_HAVE_SERVICES = {
    "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
    "airflow-dag-processor", "airflow-triggerer", "airflow-worker",
}
# The subset of compose-spec service attributes this project uses (catches typos such as
# `healtcheck`, which Compose would reject but YAML happily parses).
KNOWN_SERVICE_KEYS = {
    "image", "build", "environment", "volumes", "healthcheck", "restart", "depends_on",
    "command", "entrypoint", "ports", "expose", "stop_grace_period", "user",
}
# `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?err}`, `${NAME?err}`.
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")
SECRET_REF = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


render = _load("news_etl_render_compose", REPO / "deploy" / "render_compose.py")
spec = render.load_spec()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def common_env(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return services["airflow-scheduler"]["environment"]


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


def _strip_interpolation(text: str) -> str:
    return INTERPOLATION.sub("X", text.replace("$$", ""))


# --------------------------------------------------------------------------------------------
# One source of truth
# --------------------------------------------------------------------------------------------


def test_compose_file_parses(compose: dict[str, Any]) -> None:
    assert compose["name"] == spec.PROJECT_NAME
    assert isinstance(compose["services"], dict) and compose["services"]


@pytest.mark.parametrize("path", [COMPOSE_PATH, REPO / ".env.example"], ids=lambda p: p.name)
def test_committed_file_equals_rendered_spec(path: Path) -> None:
    rendered = render.rendered_files()[path]
    assert path.read_text(encoding="utf-8") == rendered, (
        f"{path.name} differs from deploy/compose_spec.py — edit the spec, then run "
        "`python deploy/render_compose.py` and commit both"
    )


def test_render_check_mode_passes() -> None:
    assert render.main(["--check"]) == 0


def test_rendered_yaml_means_what_the_spec_says(services: dict[str, dict[str, Any]]) -> None:
    """The emitter is faithful: parsing the output gives back the spec's data."""
    assert list(services) == list(spec.SERVICES)
    for name, declared in spec.SERVICES.items():
        for key, value in declared.items():
            if key == "<<":
                continue
            expected = list(value) if isinstance(value, tuple) else value
            assert services[name][key] == expected, f"{name}.{key}"
    for name in spec.AIRFLOW_SERVICES:
        for key, value in spec.AIRFLOW_COMMON.items():
            if key not in spec.SERVICES[name]:
                expected = value.value if isinstance(value, spec.Anchored) else value
                assert services[name][key] == expected, f"{name}.{key} (from the anchor)"


def test_every_comment_is_attached_to_an_existing_key() -> None:
    def exists(node: Any, path: tuple[str, ...]) -> bool:
        for key in path:
            node = node.value if isinstance(node, spec.Anchored) else node
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return True

    for path in spec.COMMENTS:
        assert exists(spec.COMPOSE, path), f"comment for missing key {'.'.join(path)}"


@pytest.mark.parametrize("text", ["30s", "no", "yes", "on", "true", "null", "1.5", "0o17",
                                  "-c", "a: b", "x #y", "${A:-b}", "@x", "*x", "&x", "!x",
                                  "8080:8080", "", " lead", "~", "[x]", "{x}"])
def test_scalar_emitter_round_trips(text: str) -> None:
    assert yaml.safe_load(f"k: {render.scalar(text)}") == {"k": text}


# --------------------------------------------------------------------------------------------
# Services, shared environment, health, start order
# --------------------------------------------------------------------------------------------


def test_required_services_present(services: dict[str, dict[str, Any]]) -> None:
    assert set(spec.REQUIRED_SERVICES) >= MUST_HAVE_SERVICES
    assert set(services) >= set(spec.REQUIRED_SERVICES)
    assert set(spec.AIRFLOW_SERVICES) == {s for s in MUST_HAVE_SERVICES if s.startswith("airflow")}


def test_only_known_service_keys(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert set(service) <= KNOWN_SERVICE_KEYS, f"{name}: {set(service) - KNOWN_SERVICE_KEYS}"


def test_airflow_services_share_one_environment_image_and_build(
    services: dict[str, dict[str, Any]],
) -> None:
    reference = services[spec.AIRFLOW_SERVICES[0]]
    assert reference["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert reference["environment"] == spec.AIRFLOW_COMMON_ENV
    assert set(reference["environment"]) == set(spec.COMMON_ENV_KEYS)
    for name in spec.AIRFLOW_SERVICES:
        service = services[name]
        assert service["environment"] == reference["environment"], name
        assert service["image"] == reference["image"], name
        assert service["build"] == reference["build"], name
        # …and they get it from the anchor, not from a copy that could drift.
        assert spec.SERVICES[name].get("<<") == spec.Alias(spec.AIRFLOW_COMMON_ANCHOR), name
        assert "environment" not in spec.SERVICES[name], name
    text = COMPOSE_PATH.read_text(encoding="utf-8")
    assert "x-airflow-common: &airflow-common\n" in text
    assert text.count("<<: *airflow-common\n") == len(spec.AIRFLOW_SERVICES)


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
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(spec.LONG_RUNNING_SERVICES) == set(services) - set(spec.ONE_SHOT_SERVICES)
    for name in spec.LONG_RUNNING_SERVICES:
        check = services[name].get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert services[name]["restart"] == "unless-stopped", name
    api_check = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "/api/v2/monitor/health" in api_check
    assert services["airflow-scheduler"]["environment"][
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "healthcheck" not in services["airflow-init"]
    assert services["airflow-init"]["restart"] == "no"


def test_start_order_uses_health_and_completion(services: dict[str, dict[str, Any]]) -> None:
    healthy = {"condition": "service_healthy"}
    for name, service in services.items():
        for target, condition in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}'s health"
    init = services["airflow-init"]["depends_on"]
    assert init == {"postgres": healthy, "redis": healthy}
    for name in set(spec.AIRFLOW_SERVICES) - {"airflow-init"}:
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
    assert services["airflow-worker"]["command"] == ["celery", "worker"]
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert SECRET_REF.fullmatch(common_env[key]), key
    jwt_default = SECRET_REF.fullmatch(common_env["AIRFLOW__API_AUTH__JWT_SECRET"]).group(2)
    assert len(jwt_default) >= 64  # HS512 key length, so PyJWT does not warn


def test_warehouse_connection_points_at_the_postgres_warehouse_db(
    common_env: dict[str, Any], services: dict[str, dict[str, Any]],
) -> None:
    pg_env = services["postgres"]["environment"]
    for key in ("AIRFLOW_CONN_WAREHOUSE_DEFAULT", "NEWS_ETL_WAREHOUSE_URL"):
        uri = common_env[key]
        password_ref = SECRET_REF.search(uri)
        assert password_ref and password_ref.group(0) == pg_env["WAREHOUSE_PASSWORD"], key
        url = urlsplit(uri.replace(password_ref.group(0), "pw"))
        assert url.scheme == "postgresql", key
        assert url.hostname == "postgres" and services["postgres"]["image"].startswith("postgres:")
        assert url.port == spec.POSTGRES_PORT
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
        default = SECRET_REF.fullmatch(env[key]).group(2)
        assert default.startswith("/opt/airflow/news-data/"), key


def test_image_paths_in_the_environment_exist_in_the_repo(common_env: dict[str, Any]) -> None:
    """Paths under /opt/airflow that the env points at are files the Dockerfile copies."""
    copied_dirs = {src.rstrip("/") for sources, _ in _copies() for src in sources}
    default = SECRET_REF.fullmatch(common_env["NEWS_ETL_SOURCES_FILE"]).group(2)
    relative = Path(default).relative_to(spec.AIRFLOW_HOME)
    assert (REPO / relative).is_file(), f"{relative} is not in the repository"
    assert relative.parts[0] in copied_dirs, f"{relative.parts[0]}/ is not copied into the image"


# --------------------------------------------------------------------------------------------
# Secrets and interpolation
# --------------------------------------------------------------------------------------------


def test_interpolation_is_valid_and_every_variable_is_documented(
    compose: dict[str, Any],
) -> None:
    declared = {v.name for v in spec.ENV_VARS}
    for path, value in _walk_strings(compose):  # compose interpolates values, not comments
        assert "$" not in _strip_interpolation(value), (
            f"{path}: a bare `$` is interpolated by compose — escape it as `$$`"
        )
        used = set(INTERPOLATION.findall(value.replace("$$", "")))
        assert used <= declared, f"{path}: undocumented variables {used - declared}"
    env_example = (REPO / ".env.example").read_text(encoding="utf-8")
    for name in declared:
        assert re.search(rf"^{name}=", env_example, re.M), name


def _walk_strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [item for k, v in node.items() for item in _walk_strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [item for i, v in enumerate(node) for item in _walk_strings(v, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def test_no_secret_is_committed(compose: dict[str, Any]) -> None:
    secret_key = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY\b|_KEY_ID\b")
    for path, value in _walk_strings(compose):
        key = path.rsplit(".", 1)[-1]
        if secret_key.search(key) and not key.endswith("_FILE"):
            assert SECRET_REF.fullmatch(value), f"{path} must be a ${{VAR:-dev-default}}"
        # Credentials inside URLs: user:PASSWORD@host, the password always a substitution.
        for match in re.finditer(r"://[^:/@\s]+:([^@\s]+)@", value):
            assert SECRET_REF.fullmatch(match.group(1)), f"{path}: literal password in a URL"
    # The admin password reaches airflow-init as an argv entry, also a substitution.
    assert SECRET_REF.fullmatch(compose["services"]["airflow-init"]["command"][-1])
    # Passed-through cloud credentials carry no value at all.
    env = compose["services"]["airflow-worker"]["environment"]
    assert all(env[name] is None for name in spec.PASSTHROUGH_ENV)


def test_secret_defaults_are_obviously_dev_only() -> None:
    for var in spec.ENV_VARS:
        if var.secret:
            assert var.default in ("", "airflow") or re.search(
                r"dev-only|change-me", var.default), f"{var.name}={var.default!r}"


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


def test_airflow_init_migrates_and_writes_the_ui_login(
    services: dict[str, dict[str, Any]], common_env: dict[str, Any],
) -> None:
    init = services["airflow-init"]
    assert init["entrypoint"] == "/bin/bash"
    flag, script, _argv0, username, password = init["command"]
    assert flag == "-c"
    assert "airflow db migrate" in script and "news-etl migrate" in script
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    assert common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{username}:admin"
    assert "airflow-auth:/opt/airflow/auth" in init["volumes"]
    assert "airflow-auth:/opt/airflow/auth" in services["airflow-apiserver"]["volumes"]
    assert common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith(
        "/opt/airflow/auth/")
    assert password.startswith("${AIRFLOW_ADMIN_PASSWORD:-")
    # The script as the container's bash sees it (compose turns `$$` into `$`) must parse.
    subprocess.run(["bash", "-n", "-c", script.replace("$$", "$")], check=True)


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
    assert airflow_version.startswith("3.3.")
    assert airflow_version == _lock_versions()["apache-airflow"], (
        "Dockerfile FROM tag must equal apache-airflow's version in uv.lock"
    )
    from packaging.specifiers import SpecifierSet

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert f"{python_version}.0" in SpecifierSet(pyproject["project"]["requires-python"])


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
