"""A throw-away PostgreSQL 15 server of the tests' own (never the shared one), so tests
can stop and start it. Run as the postgres OS user."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """Our own PostgreSQL 15 cluster (never the shared server), run as the postgres user."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="news-etl-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args],
                       check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.dir / "log"), "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def ensure_template_database(admin_url: str, name: str, lock_id: int,
                             build: Callable[[], str]) -> str:
    """The database `name`, made once per machine and kept, for use as a TEMPLATE.

    Concurrent sessions (xdist workers) serialise on the advisory lock `lock_id`; the first
    finds it missing and calls `build()`, which fills a database under another name and
    returns that name; it is renamed to `name` only once complete, so a crashed build never
    poses as the template."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
            try:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                    {"n": name}).first():
                    building = build()
                    conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
    finally:
        admin.dispose()
    return name
