"""trafilatura options for the extract stage, chosen by measurement (benchmarks/metadata.py)."""

from __future__ import annotations

from typing import Any

TRAFILATURA_OPTIONS: dict[str, Any] = {}
