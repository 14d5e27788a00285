"""Real Airflow services (api-server, scheduler, dag-processor, triggerer, Celery workers) on
127.0.0.1 for end-to-end tests, plus the REST API calls the tests make.

`AirflowServices` is a context manager: it starts every component in its own process group,
waits until the API answers, and on exit stops every group (SIGTERM, then SIGKILL) and waits
for each process, also when the test failed. Each component logs to `<home>/proc-logs/`;
`log_tails()` returns the last lines of each for failure messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import psutil
import requests
import yaml
from sqlalchemy import create_engine, text
from support.postgres import ensure_template_database

from .conftest import BIN, REPO, airflow, airflow_env

Executor = Literal["LocalExecutor", "CeleryExecutor"]

ADMIN_USER = "admin"
POLL_S = 2.0  # one cheap REST call every 2 s; each wait ends at most this late
STARTUP_TIMEOUT_S = 180.0
STOP_GRACE_S = 20.0
TERMINAL_RUN_STATES = {"success", "failed"}

# Stands in for `[core] hostname_callable` on each Celery worker: the workers share this
# machine, so the default (the FQDN) would be identical for both. Each worker reports
# `<worker name>@<fqdn>`, like the Celery node name, in the task instance `hostname` field.
HOSTNAME_MODULE = '''\
import os
import socket


def hostname() -> str:
    name = os.environ.get("NEWS_ETL_TEST_WORKER_NAME")
    return f"{name}@{socket.getfqdn()}" if name else socket.getfqdn()
'''


def free_port() -> int:
    """A TCP port nobody listens on right now (tiny race with other tests: acceptable)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    finally:
        engine.dispose()


def drop_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def pg_url(admin_url: str, database: str, driver: str) -> str:
    """`postgresql+<driver>://user@host:port/<database>` from the admin URL."""
    rest = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql{'+' + driver if driver else ''}://{rest}/{database}"


def migrate_metadata_template(admin_url: str, home: Path) -> str:
    """`airflow db migrate` once into a new database, used as a TEMPLATE for each variant.

    Copying a migrated database takes under a second; migrating takes ~20 s.
    """
    name = f"news_etl_af_tpl_{uuid.uuid4().hex[:10]}"
    create_database(admin_url, name)
    env = airflow_env(home, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=pg_url(admin_url, name,
                                                                      "psycopg2"))
    airflow(env, "db", "migrate", timeout=300)
    return name


def shared_metadata_template(admin_url: str, home: Path) -> str:
    """A migrated metadata database kept across sessions and shared by xdist workers, named
    after the Airflow version: `airflow db migrate` runs once per machine, not per worker.

    Built under another name and renamed once complete (ensure_template_database). Use it only as
    a TEMPLATE (copies), never directly, and never drop it."""
    from importlib.metadata import version

    name = f"news_etl_af_tpl_{version('apache-airflow').replace('.', '_')}"
    return ensure_template_database(admin_url, name, 7263550,
                                    lambda: migrate_metadata_template(admin_url, home))


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path


@dataclass
class AirflowServices:
    """Airflow 3 with its metadata DB on PostgreSQL, every component a real process.

    `metadata_db` must exist and be migrated; `warehouse_url` is the SQLAlchemy URL of the
    warehouse, given to the tasks as the connection `warehouse_default`.
    """

    executor: Executor
    home: Path
    admin_url: str
    metadata_db: str
    warehouse_url: str
    sources_file: Path
    celery_workers: tuple[str, ...] = ("w1", "w2")
    worker_concurrency: int = 2
    broker_url: str = "redis://127.0.0.1:6379/5"
    extra_env: dict[str, str] = field(default_factory=dict)

    port: int = field(init=False, default=0)
    procs: list[Proc] = field(init=False, default_factory=list)
    env: dict[str, str] = field(init=False, default_factory=dict)
    password: str = field(init=False, default="")
    queue: str = field(init=False, default="")
    _token: str | None = field(init=False, default=None)
    _session: requests.Session = field(init=False, default_factory=requests.Session)
    _started: float = field(init=False, default=0.0)

    # ---- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> AirflowServices:
        self._started = time.monotonic()
        try:
            self._configure()
            self._start("api-server", "api-server", "--host", "127.0.0.1",
                        "--port", str(self.port))
            self._start("scheduler", "scheduler")
            self._start("dag-processor", "dag-processor")
            self._start("triggerer", "triggerer")
            if self.executor == "CeleryExecutor":
                for worker in self.celery_workers:
                    self._start_worker(worker)
            self._wait_for_api()
            if self.executor == "CeleryExecutor":
                self._wait_for_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            print(self.log_tails())  # pytest shows captured output of failing tests
        self.stop()

    def _configure(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "proc-logs").mkdir(exist_ok=True)
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        # The simple auth manager keeps generated passwords in this file and only
        # generates one for users missing from it: writing it first fixes the password.
        passwords = self.home / "simple_auth_manager_passwords.json"
        passwords.write_text(json.dumps({ADMIN_USER: self.password}))
        (self.home / "news_etl_test_hostname.py").write_text(HOSTNAME_MODULE)
        # A queue of our own: other test sessions may use the same Redis database.
        self.queue = f"news-etl-test-{uuid.uuid4().hex[:8]}"
        metadata_url = pg_url(self.admin_url, self.metadata_db, "psycopg2")
        env = {
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # Few concurrent task processes: the machine has 2 cores, shared.
            "AIRFLOW__CORE__PARALLELISM": "4",
            # Pick new DAG files up within seconds instead of minutes, but parse each file
            # once: re-parsing every DAG file every few seconds was a third of the idle CPU.
            # A test that needs a file parsed again asks for it (reparse()).
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "300",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            # Log servers on free ports: the defaults (8793/8794) clash between sessions.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "news_etl_test_hostname.hostname",
            "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(self.home)]),
            "AIRFLOW_CONN_WAREHOUSE_DEFAULT": self.warehouse_url.replace(
                "postgresql+psycopg://", "postgresql://"),
            "NEWS_ETL_WAREHOUSE_URL": self.warehouse_url,
            "NEWS_ETL_SOURCES_FILE": str(self.sources_file),
            "NEWS_ETL_STAGING_DIR": str(self.home / "staging"),
            "NEWS_ETL_ARCHIVE_ROOT": str(self.home / "archive"),
            "NEWS_ETL_DATA_DOCS_DIR": str(self.home / "data-docs"),
        }
        if self.executor == "CeleryExecutor":
            env.update({
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            })
        env.update(self.extra_env)
        self.env = airflow_env(self.home, **env)

    def _start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = self.home / "proc-logs" / f"{name}.log"
        handle = log.open("ab")
        # Own session = own process group: stop() signals the component and its children.
        popen = subprocess.Popen([str(BIN / "airflow"), *args], env=env or self.env, cwd=REPO,
                                 stdin=subprocess.DEVNULL, stdout=handle,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        self.procs.append(Proc(name, popen, log))

    def _start_worker(self, worker: str) -> None:
        env = {**self.env, "NEWS_ETL_TEST_WORKER_NAME": worker,
               "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        self._start(f"worker-{worker}", "celery", "worker", "--celery-hostname", f"{worker}@%h",
                    "--concurrency", str(self.worker_concurrency), "--queues", self.queue,
                    "--without-gossip", "--without-mingle", env=env)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each component has used so far: its own, its live
        descendants' and those of the children it has reaped (task processes)."""
        used: dict[str, float] = {}
        for proc in self.procs:
            total = 0.0
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(proc.popen.pid)
                for member in (parent, *parent.children(recursive=True)):
                    with contextlib.suppress(psutil.Error):
                        t = member.cpu_times()
                        total += t.user + t.system + t.children_user + t.children_system
            used[proc.name] = round(total, 1)
        return used

    def stop(self) -> None:
        """SIGTERM every process group (and stray descendants), SIGKILL what is left."""
        if self.procs:  # what each component cost, for tuning the settings above
            used = self.cpu_seconds()
            print(f"component CPU s after {time.monotonic() - self._started:.0f} s: {used}, "
                  f"total {sum(used.values()):.1f}")
        victims: list[psutil.Process] = []
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(proc.popen.pid)
                victims += [parent, *parent.children(recursive=True)]
        for proc in self.procs:
            _signal_group(proc.popen.pid, signal.SIGTERM)
        for victim in victims:
            with contextlib.suppress(psutil.Error):
                victim.terminate()
        _gone, alive = psutil.wait_procs(victims, timeout=STOP_GRACE_S)
        for proc in self.procs:
            _signal_group(proc.popen.pid, signal.SIGKILL)
        for victim in alive:
            with contextlib.suppress(psutil.Error):
                victim.kill()
        psutil.wait_procs(alive, timeout=10)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=10)  # reap: no zombies left behind
        self.procs.clear()
        self._session.close()
        if self.executor == "CeleryExecutor" and self.queue:
            _forget_queue(self.broker_url, self.queue)

    def log_tails(self, lines: int = 40) -> str:
        parts = []
        for proc in self.procs:
            try:
                tail = proc.log.read_text(errors="replace").splitlines()[-lines:]
            except OSError as exc:
                tail = [f"<unreadable: {exc}>"]
            status = proc.popen.poll()
            parts.append(f"===== {proc.name} (pid {proc.popen.pid}, "
                         f"{'running' if status is None else f'exit {status}'}): {proc.log}\n"
                         + "\n".join(tail))
        return "\n".join(parts)

    def _check_alive(self) -> None:
        dead = [p for p in self.procs if p.popen.poll() is not None]
        if dead:
            raise AssertionError(f"Airflow component(s) exited: {[p.name for p in dead]}\n"
                                 + self.log_tails())

    def _wait_for_api(self) -> None:
        def healthy() -> bool:
            try:
                return self._session.get(self.url("/api/v2/monitor/health"),
                                         timeout=10).status_code == 200
            except requests.RequestException:
                return False

        self.wait_until(healthy, STARTUP_TIMEOUT_S, "the API server to answer")

    def _wait_for_workers(self) -> None:
        """Both workers consume the queue before anything is queued (else one takes all)."""
        def ready() -> bool:
            return all("ready." in (self.home / "proc-logs" / f"worker-{w}.log").read_text(
                errors="replace") for w in self.celery_workers)

        self.wait_until(ready, STARTUP_TIMEOUT_S, "the Celery workers to be ready")

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n"
                                     + self.log_tails())
            time.sleep(POLL_S)

    # ---- REST API ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def token(self) -> str:
        if self._token is None:
            resp = self._session.post(self.url("/auth/token"), timeout=30,
                                      json={"username": ADMIN_USER, "password": self.password})
            assert resp.status_code == 201, f"POST /auth/token: {resp.status_code} {resp.text}"
            self._token = resp.json()["access_token"]
        return self._token

    def api(self, method: str, path: str, *, expect: tuple[int, ...] = (200,),
            **kwargs: Any) -> requests.Response:
        resp = self._session.request(method, self.url(path), timeout=60,
                                     headers={"Authorization": f"Bearer {self.token()}"},
                                     **kwargs)
        assert resp.status_code in expect, f"{method} {path}: {resp.status_code} {resp.text}"
        return resp

    def set_pool(self, name: str, slots: int, description: str) -> None:
        body = {"name": name, "slots": slots, "description": description}
        resp = self.api("POST", "/api/v2/pools", json=body, expect=(201, 409))
        if resp.status_code == 409:
            self.api("PATCH", f"/api/v2/pools/{name}", json=body)

    def wait_for_dags(self, dag_ids: list[str], timeout: float = STARTUP_TIMEOUT_S) -> None:
        def parsed() -> bool:
            return all(self.api("GET", f"/api/v2/dags/{d}", expect=(200, 404)).status_code == 200
                       for d in dag_ids)

        try:
            self.wait_until(parsed, timeout, f"DAGs {dag_ids} to be parsed")
        except AssertionError as exc:
            errors = self.api("GET", "/api/v2/importErrors").json()
            raise AssertionError(f"{exc}\nimport errors: {json.dumps(errors, indent=1)}") from None

    def reparse(self, dag_id: str) -> None:
        """Ask the dag-processor to parse the DAG's file again now (PUT /parseDagFile)."""
        token = self.api("GET", f"/api/v2/dags/{dag_id}").json()["file_token"]
        self.api("PUT", f"/api/v2/parseDagFile/{token}", expect=(201,))

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": True})

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        resp = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                        json={"logical_date": None, "conf": conf})
        return resp.json()["dag_run_id"]

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns",
                        params={"limit": 100, "order_by": "run_after"}).json()["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                        params={"limit": 100}).json()["task_instances"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """Poll until the run is finished; fail with its task states and the logs if it failed."""
        run = self.wait_until(
            lambda: (r := self.dag_run(dag_id, run_id))["state"] in TERMINAL_RUN_STATES and r,
            timeout, f"{dag_id} run {run_id} to finish")
        if run["state"] != "success":
            states = [(t["task_id"], t["map_index"], t["state"], t["hostname"])
                      for t in self.task_instances(dag_id, run_id)]
            raise AssertionError(f"{dag_id} run {run_id} ended {run['state']}: {states}\n"
                                 + self.task_log_tails(dag_id, run_id) + self.log_tails())
        return run

    def task_log_tails(self, dag_id: str, run_id: str, lines: int = 30) -> str:
        """The end of every failed task's log file (local files: all processes share them)."""
        parts = []
        for path in sorted((self.home / "logs").glob(f"dag_id={dag_id}/run_id={run_id}/**/*")):
            if path.is_file() and "failed" in path.read_text(errors="replace").lower():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"----- {path}\n" + "\n".join(tail))
        return "\n".join(parts) + "\n"

    def metadata_scalar(self, sql: str, **params: Any) -> Any:
        """One value from the metadata DB, for state the REST API does not expose."""
        engine = create_engine(pg_url(self.admin_url, self.metadata_db, "psycopg"))
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()


def _forget_queue(broker_url: str, queue: str) -> None:
    """Drop the per-test queue's keys, so repeated runs leave the Redis database clean."""
    import redis

    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(broker_url)
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # pgid == pid: each component leads its own session


# ---- a sources file shared by the variants -------------------------------------------------

# Extra `files` sources for the scale-out test: one article each, written for these tests
# (English, >= 80 words, distinct from each other and from the seeds).
EXTRA_ARTICLES: dict[str, str] = {
    "valley-gazette": """\
Council approves a footbridge over the Marren after a decade of petitions
The district council voted on Tuesday evening to build a pedestrian and cycle bridge across \
the Marren river, ending a campaign that residents of the east bank started eleven years ago. \
The steel structure will land beside the old grain store and connect the new housing estate \
with the railway station, cutting a twenty minute detour to four minutes on foot. Engineers \
expect piling work to begin in early spring, once the river level drops and the spawning \
season for brown trout has ended. The budget of 3.2 million includes lighting, a ramp at each \
end and a five year maintenance contract.""",
    "orchard-cooperative": """\
Hill orchard cooperative reports its largest apple harvest since it was founded
Members of the Sorrel Hill fruit cooperative picked almost nine hundred tonnes of apples this \
autumn, a third more than last year, after a mild spring spared the blossom from frost. The \
cooperative's chair said the new cold store, financed by a regional grant, let growers keep \
late varieties for winter markets instead of selling everything to juice presses in October. \
Seasonal pickers came from nearby towns and from two agricultural colleges, whose students \
also tested a small robot that sorts fruit by colour and bruising on a conveyor belt. Prices \
at the weekly auction stayed stable despite the larger supply.""",
    "campus-robotics": """\
Student rover team from the technical university wins the national field challenge
A team of fourteen engineering students has won this year's national rover challenge, a \
three day competition in a disused quarry where autonomous vehicles must map terrain, collect \
soil samples and return to base without human help. Their six wheeled rover, built largely \
from recycled bicycle parts and a secondhand lidar sensor, finished every task and lost \
points only for arriving two minutes late at the final checkpoint. The team leader thanked \
local workshops that machined parts for free during the summer break. The prize money will \
pay for travel to the international final, held next June in the desert.""",
    "rail-desk": """\
Night train between the two river cities returns after eight years of absence
The overnight rail service linking the northern port with the southern capital will resume \
in December, the operator announced, with sleeper cars refurbished in a workshop that had \
been due to close. Trains will leave each city shortly before ten in the evening and arrive \
just after seven the next morning, with a stop at the junction town for connections to the \
mountain line. Tickets for couchettes start at forty-nine, and private compartments with a \
washbasin cost about twice as much. Travel groups welcomed the return, saying demand for \
trips without flying has grown steadily among families and business travellers alike.""",
}


def write_sources_file(folder: Path) -> tuple[Path, dict[str, int]]:
    """seeds/sources.yml with its sources copied into `folder`, plus one source per extra
    article. Returns the file and the expected number of loaded articles per source."""
    import shutil

    seeds = REPO / "seeds"
    shutil.copytree(seeds, folder, dirs_exist_ok=True)  # relative locations keep working
    config = yaml.safe_load((seeds / "sources.yml").read_text(encoding="utf-8"))
    for name, body in EXTRA_ARTICLES.items():
        target = folder / "extra" / name
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.txt").write_text(body + "\n", encoding="utf-8")
        config["sources"].append({"name": name, "kind": "files", "location": f"extra/{name}/"})
    path = folder / "sources.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    # The seed sources load 5 articles between them (tests/e2e/test_news_ingest_dag.py).
    return path, {"1scandal": 1, "newsroom-samples": 4, **dict.fromkeys(EXTRA_ARTICLES, 1)}


def iter_mapped(task_instances: list[dict[str, Any]], task_ids: set[str]
                ) -> Iterator[dict[str, Any]]:
    return (t for t in task_instances if t["task_id"] in task_ids and t["map_index"] >= 0)
