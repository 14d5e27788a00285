"""Helpers for the operator-command tests: a small newsroom folder as a `files` source,
the CLI run in-process, and an environment without the caller's NEWS_ETL_* variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.local_site import STORY, page

FERRY = [
    "The harbour ferry returned to service on Friday after a refit that took two years and "
    "replaced both engines, the wheelhouse and most of the passenger deck.",
    "The operator said crossings would run every twenty minutes during the morning and "
    "evening peaks, and every forty minutes for the rest of the day.",
    "Residents of the island villages had relied on a smaller replacement boat that could "
    "carry neither bicycles nor delivery vans during the whole of the refit.",
]


def clear_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make test` exports NEWS_ETL_* variables: a test of defaults starts without them."""
    for name in [n for n in os.environ if n.upper().startswith("NEWS_ETL_")]:
        monkeypatch.delenv(name)


def newsroom(root: Path, language: str = "en", stub: bool = True) -> Path:
    """sources.yml with one `files` source `desk` (expects `language`): two good English
    articles and (`stub`) a stub of a few words, rejected by every run."""
    folder = root / "desk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trains.html").write_text(page("Night trains every thirty minutes", STORY))
    (folder / "ferry.html").write_text(page("Harbour ferry returns", FERRY))
    if stub:
        (folder / "stub.html").write_text(page("Stub", ["Subscribe to read the rest of this."]))
    path = root / "sources.yml"
    path.write_text("sources:\n"
                    f"- {{name: desk, kind: files, location: desk/*.html, language: {language}}}\n")
    return path
