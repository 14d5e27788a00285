"""A sources.yml with one source on a local test server (pytest-httpserver on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path


def local_sources(tmp_path: Path, *, name: str, kind: str, location: str, fields: str = "",
                  timeout_s: float = 2) -> Path:
    """Write tmp_path/sources.yml: only 127.0.0.1 allowed, no pacing, no robots.txt, no
    retries; `fields` is more of the source's YAML flow mapping (", language: en")."""
    path = tmp_path / "sources.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        f"timeout_s: {timeout_s:g}, retries: 0}}\n"
        f"sources:\n- {{name: {name}, kind: {kind}, location: '{location}'{fields}}}\n")
    return path
