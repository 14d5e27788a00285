"""The command line starts without the heavy libraries: Great Expectations (seconds of CPU),
trafilatura, pandas and scipy are imported by the stages that use them, when they run.
The extraction forkserver re-imports the CLI's main module, so this cost would be paid twice
per run."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("great_expectations", "trafilatura", "pandas", "scipy", "datasketch")


@pytest.mark.parametrize("module", ["etl.cli", "etl.pipeline", "etl.data_docs"])
def test_importing_does_not_import_heavy_libraries(module: str) -> None:
    code = (f"import sys, {module}\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "print(heavy)\n"
            "sys.exit(1 if heavy else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_data_docs_views_still_resolve_by_name() -> None:
    """GX instantiates the cached views by module and class name."""
    import etl.data_docs as data_docs

    assert data_docs.CachedPageView.__name__ == "CachedPageView"
    assert data_docs.CachedIndexPageView.__name__ == "CachedIndexPageView"
    with pytest.raises(AttributeError):
        data_docs.__getattr__("NoSuchView")
