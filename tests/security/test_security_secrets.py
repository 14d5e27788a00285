"""Secrets never reach logs or error messages, and none are committed."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli_logging import cli_logging_restored

from etl.cli import main
from etl.warehouse import Warehouse, WarehouseError

from .conftest_helpers import closed_port

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "S3cr3t-Pa55w0rd-91c"
CLI = Path(sys.executable).parent / "news-etl"


def test_warehouse_error_and_logs_never_show_the_password(caplog):
    url = f"postgresql://etl:{PASSWORD}@127.0.0.1:{closed_port()}/warehouse"
    caplog.set_level(logging.DEBUG)
    warehouse = Warehouse(url)
    with pytest.raises(WarehouseError) as info:
        warehouse.migrate()
    message = str(info.value)
    assert "***" in message and PASSWORD not in message
    assert PASSWORD not in repr(warehouse)
    assert PASSWORD not in caplog.text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_installed_command_never_shows_the_password(tmp_path):
    """The real process, verbose: everything it prints, tracebacks and logs included."""
    url = f"postgresql://etl:{PASSWORD}@127.0.0.1:{closed_port()}/warehouse"
    result = subprocess.run([str(CLI), "-v", "ingest", str(REPO / "seeds" / "sources.yml"),
                             "--warehouse", url], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "warehouse error" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["report"], ["migrate"], ["revalidate"]])
def test_cli_failure_output_never_shows_the_password(command, tmp_path, capsys, caplog,
                                                     monkeypatch):
    """The other commands through the CLI's main in this process (a process each only
    paid the imports again): what they print, and every record logged at DEBUG (what
    -v writes to stderr in a process of their own)."""
    url = f"postgresql://etl:{PASSWORD}@127.0.0.1:{closed_port()}/warehouse"
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    with cli_logging_restored():
        code = main(["-v", *command, "--warehouse", url])
    out, err = capsys.readouterr()
    assert code == 1, err[-2000:]
    assert "warehouse error" in err
    assert PASSWORD not in out + err + caplog.text


# -- nothing sensitive committed ------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "URL with a literal password": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^\s:/@${}]+:(?!\$\{)[^\s@/${}]{6,}@(?!postgres:|localhost|127\.)"),
}


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                         check=True).stdout
    return [REPO / p for p in out.decode().split("\0") if p]


def test_no_secrets_in_tracked_files():
    findings = []
    for path in tracked_files():
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for name, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                findings.append(f"{path.relative_to(REPO)}: {name}: {match.group(0)[:40]}")
    assert findings == []
    names = {p.name for p in tracked_files()}
    assert not names & {".env", "id_rsa", "id_ed25519", ".netrc", ".pgpass", "credentials"}


def test_compose_defaults_are_marked_dev_only():
    compose = (REPO / "docker-compose.yml").read_text()
    assert "DEV-ONLY" in compose.splitlines()[3] or "DEV-ONLY" in compose[:600]
    # Every password/secret is overridable from the environment, never a bare literal.
    for line in compose.splitlines():
        if re.search(r"(PASSWORD|SECRET)\w*:\s", line) and not line.lstrip().startswith("#"):
            value = line.split(":", 1)[1].strip()
            assert "${" in value or value.startswith("/"), line

