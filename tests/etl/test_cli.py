"""`news-etl` exit codes and error messages.

0 every source completed (rejects and item failures included), 3 a source failed as a whole
or failed every item, 2 a bad command line, sources file or warehouse URL, 1 the run itself
could not complete. Errors are one line, never a traceback, never a password.

Most tests call `etl.cli.main(argv)` in this process — the function the console script
runs — with a clean NEWS_ETL_* environment, the working directory in tmp_path and the
logging the command configures writing to the captured stderr (a stray log line breaks the
one-line checks, as it would in a terminal). A process start costs seconds of imports, so
only the tests at the end, which are about the process itself, run the installed
`news-etl` script: an exit code from argparse's SystemExit and one from main's return value
(Ctrl-C's 130: the console script's sys.exit(main()) passes any code the same way, so the
exit-3 run is checked in process, sparing a process that imports GX), a command that never
reads stdin, Ctrl-C."""

from __future__ import annotations

import http.server
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from support.cli_logging import cli_logging_restored
from support.local_site import STORY, page

from etl.cli import main
from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.warehouse import Warehouse
from etl.warehouse.schema import articles, ingest_runs

CLI = Path(sys.executable).parent / "news-etl"
PASSWORD = "Cli-n0t-a-real-pw-77"
OUTCOMES = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns
HARBOUR = [
    "The harbour ferry returned to service on Friday after a refit that took two years and "
    "replaced both engines, the wheelhouse and most of the passenger deck.",
    "The operator said crossings would run every twenty minutes during the morning and "
    "evening peaks, and every forty minutes for the rest of the day.",
    "Residents of the island villages had relied on a smaller replacement boat that could "
    "carry neither bicycles nor delivery vans during the whole of the refit.",
]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _base_env(cwd: Path) -> dict[str, str]:
    return {"HOME": str(cwd), "GX_ANALYTICS_ENABLED": "false",
            "NEWS_ETL_DATA_DOCS_DIR": str(cwd / "docs"),
            "NEWS_ETL_ARCHIVE_ROOT": str(cwd / "archive")}


@pytest.fixture
def run_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., Result]]:
    """`run_cli(*args, **env)`: `news-etl args` in this process, in tmp_path, with only
    the NEWS_ETL_* variables given here; its exit code and output."""
    for name in list(os.environ):
        if name.startswith("NEWS_ETL_"):
            monkeypatch.delenv(name)
    for name, value in _base_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # relative defaults (data/warehouse.db) land here

    def run(*args: str, **env: str) -> Result:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        with cli_logging_restored():
            # No handler on the root logger, as in a fresh process: basicConfig installs
            # one on the (captured) stderr.
            logging.getLogger().handlers = []
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: the console script exits with this code
                code = exc.code
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    yield run


def one_line_error(result: Result) -> str:
    """The whole of stderr, asserted to be a single `news-etl: …` line."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("news-etl: "), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return lines[0]


def newsroom(root: Path) -> Path:
    """A folder of two good articles, a stub (rejected) and an empty page (failed)."""
    folder = root / "newsroom"
    folder.mkdir()
    (folder / "trains.html").write_text(page("Night trains every thirty minutes", STORY))
    (folder / "ferry.html").write_text(page("Harbour ferry returns", HARBOUR))
    (folder / "stub.html").write_text(page("Stub", ["Subscribe to read the rest of this."]))
    (folder / "empty.html").write_bytes(b"")
    return folder


def write_sources(root: Path, *entries: str, http: str = "") -> Path:
    path = root / "sources.yml"
    path.write_text((f"http: {http}\n" if http else "") + "sources:\n"
                    + "".join(f"- {e}\n" for e in entries))
    return path


def runs_of(url: str) -> dict[str, dict]:
    engine = create_engine(url)
    with engine.connect() as conn:
        runs = {r["source"]: dict(r) for r in conn.execute(select(ingest_runs)).mappings()}
    engine.dispose()
    for run in runs.values():  # nothing lost: every item read has one outcome
        assert run["discovered"] == sum(run[c] for c in OUTCOMES), run
        assert run["status"] != "running"
    return runs


def loaded_titles(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        titles = set(conn.execute(select(articles.c.title)).scalars())
    engine.dispose()
    return titles


GOOD_TITLES = {"Night trains every thirty minutes", "Harbour ferry returns"}


# --- 0: every source completed ---------------------------------------------------------------

def test_exit_0_when_every_source_completes_rejects_and_failures_included(run_cli,
                                                                         warehouse_url,
                                                                         tmp_path):
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--warehouse", warehouse_url, "--workers", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "source(s) failed" not in result.stderr
    run = runs_of(warehouse_url)["newsroom"]
    assert (run["status"], run["discovered"], run["loaded"], run["rejected"], run["failed"]) \
        == ("success", 4, 2, 1, 1)
    assert loaded_titles(warehouse_url) == GOOD_TITLES


# --- 3: a source failed as a whole, or every item of a source failed ------------------------

def test_exit_3_when_a_source_fails_as_a_whole(run_cli, warehouse_url, tmp_path):
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}",
                            "{name: vanished, kind: files, location: no-such-folder}")
    result = run_cli("ingest", str(sources), "--warehouse", warehouse_url, "--workers", "1")
    assert result.returncode == 3, result.stderr[-3000:]
    assert "newsroom" in result.stdout and "TOTAL" in result.stdout  # the summary
    assert "1 source(s) failed" in result.stderr
    assert "vanished: source_failed:" in result.stderr and "no-such-folder" in result.stderr
    assert "Traceback" not in result.stderr
    runs = runs_of(warehouse_url)
    assert runs["vanished"]["status"] == "source_failed" and runs["vanished"]["error"]
    assert runs["newsroom"]["status"] == "success"
    # The other source was loaded all the same.
    assert loaded_titles(warehouse_url) == GOOD_TITLES


def test_exit_3_when_every_item_of_a_source_fails(run_cli, warehouse_url, tmp_path):
    newsroom(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    # Each file fails: two too large for the source's cap, one a symlink out of its folder.
    (broken / "huge.html").write_text(page("Huge", STORY * 20))
    (broken / "huge.txt").write_text("Huge\n" + " ".join(STORY) * 20)
    (tmp_path / "outside.html").write_text(page("Outside", HARBOUR))
    (broken / "escape.html").symlink_to(tmp_path / "outside.html")
    sources = write_sources(
        tmp_path, "{name: newsroom, kind: files, location: newsroom}",
        "{name: broken, kind: files, location: broken, http: {max_bytes: 2000}}")
    result = run_cli("ingest", str(sources), "--warehouse", warehouse_url, "--workers", "1",
                     "--json")
    assert result.returncode == 3, result.stderr[-3000:]
    assert "broken: all_failed: every item failed" in result.stderr
    summary = json.loads(result.stdout)  # --json output stays parseable
    statuses = {s["source"]: s["status"] for s in summary["sources"]}
    assert statuses == {"newsroom": "success", "broken": "all_failed"}
    runs = runs_of(warehouse_url)
    assert (runs["broken"]["status"], runs["broken"]["discovered"], runs["broken"]["failed"]) \
        == ("all_failed", 3, 3)
    assert loaded_titles(warehouse_url) == GOOD_TITLES


# --- 2: bad command line, sources file or warehouse URL -------------------------------------

@pytest.mark.parametrize("sources_text, message", [
    ("sources: [\n", "configuration error"),  # YAML syntax
    ("sources:\n- {name: x, kind: telepathy, location: in}\n", "field 'kind'"),
    ("sources:\n- {kind: files, location: in}\n", "field 'name'"),
    (None, "cannot read sources file"),  # no such file
])
def test_exit_2_for_a_bad_sources_file(run_cli, sources_text, message, tmp_path, sqlite_url):
    path = tmp_path / "sources.yml"
    if sources_text is not None:
        path.write_text(sources_text)
    result = run_cli("ingest", str(path), "--warehouse", sqlite_url)
    assert result.returncode == 2
    # A YAML error keeps the parser's pointer to the line: more than one line, no traceback.
    assert result.stderr.startswith("news-etl: configuration error: ")
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "warehouse.db").exists()  # nothing was run


def test_exit_2_for_an_unknown_source_name(run_cli, tmp_path, sqlite_url):
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--source", "nope", "--warehouse", sqlite_url)
    assert result.returncode == 2
    assert "unknown source(s) ['nope']" in one_line_error(result)


@pytest.mark.parametrize("args", [
    ["--limit", "0"], ["--limit", "many"], ["--workers", "-1"], ["--batch-size", "0"],
    ["--extract-timeout", "nan"], ["--no-such-option"],
])
def test_exit_2_for_a_bad_command_line(run_cli, args, tmp_path, sqlite_url):
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--warehouse", sqlite_url, *args)
    assert result.returncode == 2, result.stderr
    assert "usage: news-etl" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "warehouse.db").exists()


BAD_WAREHOUSE_URLS = [
    ("sqlite:///", "in-memory SQLite"),
    ("sqlite://", "in-memory SQLite"),
    ("sqlite:///:memory:", "in-memory SQLite"),
    ("sqlite:///file::memory:?cache=shared", "in-memory SQLite"),
    ("not a url", "malformed warehouse URL"),
    (f"postgresql://etl:{PASSWORD}@127.0.0.1:port/db", "malformed warehouse URL"),
    (f"mysql://etl:{PASSWORD}@127.0.0.1/db", "unsupported warehouse dialect 'mysql'"),
    ("nosuchdb://somewhere/db", "unsupported warehouse dialect 'nosuchdb'"),
    ("postgresql+nosuchdriver://127.0.0.1/db", "no database driver"),
]


@pytest.mark.parametrize("url, message", BAD_WAREHOUSE_URLS)
def test_exit_2_and_one_line_for_a_bad_warehouse_url(run_cli, url, message, tmp_path):
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--warehouse", url, "--workers", "1")
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    line = one_line_error(result)
    assert line.startswith("news-etl: bad warehouse URL: ") and message in line
    assert PASSWORD not in result.stdout + result.stderr
    assert not (tmp_path / "data").exists()  # no fallback to the default warehouse


@pytest.mark.parametrize("variable, value, message", [
    ("NEWS_ETL_NEAR_DUP_THRESHOLD", "high", "environment variable NEWS_ETL_NEAR_DUP_THRESHOLD: "),
    ("NEWS_ETL_MIN_WORDS", "-5", "environment variable NEWS_ETL_MIN_WORDS: "),
    ("NEWS_ETL_MIN_DELAY_S", "soon", "environment: http setting 'min_delay_s' must be a number"),
])
def test_exit_2_and_one_line_for_a_bad_setting_in_the_environment(run_cli, variable, value,
                                                                   message, tmp_path,
                                                                   sqlite_url):
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--warehouse", sqlite_url, **{variable: value})
    assert result.returncode == 2
    line = one_line_error(result)
    assert line.startswith("news-etl: configuration error: ") and message in line
    assert not (tmp_path / "warehouse.db").exists()


def test_the_environment_reaches_the_run_through_the_command(run_cli, tmp_path, sqlite_url):
    """NEWS_ETL_* settings apply to the run (min_words, Data Docs and archive folders); the
    --warehouse flag beats NEWS_ETL_WAREHOUSE_URL."""
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--warehouse", sqlite_url, "--workers", "1",
                     NEWS_ETL_MIN_WORDS="1000",
                     NEWS_ETL_WAREHOUSE_URL="sqlite:///")  # would be refused
    assert result.returncode == 0, result.stderr[-3000:]
    run = runs_of(sqlite_url)["newsroom"]
    assert (run["loaded"], run["rejected"], run["failed"]) == (0, 3, 1)  # every text too short
    assert list((tmp_path / "docs").rglob("index.html"))  # NEWS_ETL_DATA_DOCS_DIR
    assert not (tmp_path / "data").exists()  # no default folder used


@pytest.mark.parametrize("command", [["migrate"], ["report"], ["revalidate"]])
def test_every_command_refuses_a_bad_warehouse_url_from_the_environment(run_cli, command):
    result = run_cli(*command, NEWS_ETL_WAREHOUSE_URL="sqlite:///")
    assert result.returncode == 2
    line = one_line_error(result)
    assert "in-memory SQLite" in line and "(from NEWS_ETL_WAREHOUSE_URL)" in line


def test_the_help_documents_the_exit_codes(run_cli):
    for args in (["--help"], ["ingest", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0
        out = " ".join(result.stdout.split())
        assert "exit codes: 0 every source completed" in out
        assert "1 the run itself could not complete" in out
        assert "2 bad command line, sources file or warehouse URL" in out
        assert "3 (ingest) a source failed as a whole (status source_failed" in out
        assert "every item of a source failed (status all_failed)" in out


# --- 1: the run itself could not complete ---------------------------------------------------

def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exit_1_and_one_line_when_the_warehouse_is_unreachable(run_cli, tmp_path):
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    url = f"postgresql://etl:{PASSWORD}@127.0.0.1:{_closed_port()}/warehouse"
    result = run_cli("ingest", str(sources), "--warehouse", url)
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith("news-etl: warehouse error: cannot migrate warehouse")
    assert "Connection refused" in line and PASSWORD not in result.stdout + result.stderr


@pytest.fixture
def read_only_role(pg_database):
    """A PostgreSQL role that may read the migrated warehouse but write nothing."""
    Warehouse(pg_database).migrate()
    role = f"etl_read_only_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    try:
        yield pg_database.replace("postgresql+psycopg://postgres@",
                                  f"postgresql://{role}:{PASSWORD}@")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_exit_1_and_one_line_when_the_warehouse_refuses_the_run(run_cli, read_only_role, tmp_path):
    newsroom(tmp_path)
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = run_cli("ingest", str(sources), "--warehouse", read_only_role, "--workers", "1")
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith("news-etl: warehouse error on postgresql+psycopg://")
    assert "ProgrammingError: permission denied for table" in line
    assert PASSWORD not in result.stdout + result.stderr


# --- the warehouse URL rules themselves -----------------------------------------------------

@pytest.mark.parametrize("url, message", BAD_WAREHOUSE_URLS[:-1])
def test_check_url_refuses_what_cannot_hold_a_warehouse(url, message):
    from etl.warehouse import WarehouseConfigError, check_url

    with pytest.raises(WarehouseConfigError) as info:
        check_url(url)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert PASSWORD not in str(info.value)


def test_file_and_server_urls_pass_and_an_explicit_engine_is_trusted(tmp_path):
    from etl.warehouse import check_url

    for url in (f"sqlite:///{tmp_path / 'w.db'}", "postgresql+psycopg://u:p@h:5432/db",
                "sqlite:///relative/warehouse.db"):
        check_url(url)
    # Code that builds its own engine (an Airflow provider's hook) is not second-guessed.
    engine = create_engine("sqlite://")
    assert Warehouse("sqlite://", engine=engine).dialect == "sqlite"
    engine.dispose()


# --- the installed command, as a process ------------------------------------------------------

def spawn(*args: str, cwd: Path) -> subprocess.Popen:
    """The installed `news-etl` script with a clean NEWS_ETL_* environment. Its stdin is a
    pipe nobody writes to or closes: a command that read stdin would hang there."""
    # No Data Docs: no process test reads them, and a fresh process builds them cold.
    env = {"PATH": str(CLI.parent), **_base_env(cwd), "NEWS_ETL_DATA_DOCS": "false"}
    if os.environ.get("PYTHONPATH"):  # lets the suite run against another checkout
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.Popen([str(CLI), *args], env=env, cwd=cwd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Result(proc.returncode, out, err)


def test_a_bad_command_line_exits_2_through_the_process(tmp_path):
    """argparse's SystemExit, not main's return value, carries this one."""
    sources = write_sources(tmp_path, "{name: newsroom, kind: files, location: newsroom}")
    result = finish(spawn("ingest", str(sources), "--limit", "0", cwd=tmp_path))
    assert result.returncode == 2, result.stderr[-3000:]
    assert "usage: news-etl" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_ctrl_c_stops_a_run_with_exit_130_and_no_traceback(tmp_path, sqlite_template):
    """SIGINT while a page is being fetched: the command exits 130 (main's return value,
    through the console script's sys.exit), quietly. The page is held until the signal is
    sent, so the signal lands mid-run; then it is answered (an interrupted run still waits
    for fetches in flight, each bounded by its deadline)."""
    asked, release = threading.Event(), threading.Event()

    class Held(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            release.wait(60)
            body = page("Held", STORY).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Held)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    sources = write_sources(
        tmp_path, f"{{name: held, kind: urls, urls: ['{url}/page']}}",
        http="{allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
             "timeout_s: 30}")
    # A copy of the migrated template: the child process does not replay the migrations.
    shutil.copyfile(sqlite_template, tmp_path / "w.db")
    proc = spawn("ingest", str(sources), "--warehouse", f"sqlite:///{tmp_path / 'w.db'}",
                 "--workers", "1", cwd=tmp_path)
    try:
        assert asked.wait(120), finish(proc, timeout=5).stderr[-3000:]
        proc.send_signal(signal.SIGINT)
        release.set()
        result = finish(proc, timeout=60)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
    assert result.returncode == 130, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
