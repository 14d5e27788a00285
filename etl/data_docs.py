"""Great Expectations Data Docs: one static HTML site per run and source.

A run's validation results are rendered by GX's SiteBuilder into
`<data_docs_dir>/<run>/<source>/index.html`, then made to render offline
(etl.data_docs_offline). A failure to render never fails the run.

Why the views below: GX's page views build a new Jinja environment for every page of every
build, so each site recompiled the same ~50 templates (three quarters of a build's time).
The views here keep GX's rendering and add a process-wide Jinja bytecode cache — Jinja's
documented way to share compiled templates between environments — so a process compiles
each template once. GX's profiling section is left out: this project never profiles.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from etl.data_docs_offline import make_offline
from etl.records import safe_name

log = logging.getLogger(__name__)

DEFAULT_DATA_DOCS_DIR = "data/data-docs"


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory, keyed by template and source checksum (a changed
    template source is compiled again)."""

    def __init__(self) -> None:
        self._codes: dict[tuple[str, str], Any] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._codes.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._codes[(bucket.key, bucket.checksum)] = bucket.code

    def clear(self) -> None:
        self._codes.clear()

    def __len__(self) -> int:
        return len(self._codes)


COMPILED_TEMPLATES = _CompiledTemplates()


def _view_classes() -> tuple[type, type]:
    """GX's page and index views, sharing COMPILED_TEMPLATES (built on first use: GX is
    imported only when a site is built)."""
    global _VIEWS
    if _VIEWS is None:
        from great_expectations.render.view import (
            DefaultJinjaIndexPageView,
            DefaultJinjaPageView,
        )

        class CachedPageView(DefaultJinjaPageView):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.env.bytecode_cache = COMPILED_TEMPLATES

        class CachedIndexPageView(DefaultJinjaIndexPageView):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self.env.bytecode_cache = COMPILED_TEMPLATES

        _VIEWS = (CachedPageView, CachedIndexPageView)
    return _VIEWS


_VIEWS: tuple[type, type] | None = None


_VIEW_NAMES = ("CachedPageView", "CachedIndexPageView")


def __getattr__(name: str) -> type:
    """GX instantiates views by module and class name: the classes above, on demand (and
    only for those names: the import system probes others, which must not import GX)."""
    if name not in _VIEW_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return dict(zip(_VIEW_NAMES, _view_classes(), strict=True))[name]


def data_docs_root(path: str | os.PathLike[str] | None = None) -> Path:
    """Where Data Docs sites are written: `path`, else data/data-docs."""
    return Path(path or DEFAULT_DATA_DOCS_DIR)


def _site_config(folder: Path) -> dict[str, Any]:
    page_view = {"module_name": __name__, "class_name": "CachedPageView"}
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                          "base_directory": str(folder.resolve())},
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": {"module_name": __name__, "class_name": "CachedIndexPageView"},
        },
        "site_section_builders": {
            "expectations": {"view": page_view},
            "validations": {"view": page_view},
            "profiling": "None",
        },
    }


def build_data_docs(gx_results: list[Any], folder: Path, run_id: str) -> Path | None:
    """Render a run's validation results (GX objects, or their JSON between Airflow tasks)
    as a Data Docs site in `folder`; returns its index.html, or None when nothing was
    validated."""
    if not gx_results:
        return None
    from etl.validate import SUITE_NAME, build_suite, gx_ready

    gx_ready()
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    folder.mkdir(parents=True, exist_ok=True)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        data_docs_sites={"news_etl": _site_config(folder)},
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.suites.add(build_suite(gx, gxe))
    schema = ExpectationSuiteValidationResultSchema()
    run_time = datetime.now(UTC)
    for i, result in enumerate(gx_results):
        if isinstance(result, dict):  # results kept as JSON between Airflow tasks
            result = schema.load(result)
        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(name=SUITE_NAME),
            RunIdentifier(run_name=run_id, run_time=run_time + timedelta(microseconds=i)),
            f"batch-{i:04d}",
        )
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=["news_etl"])
    return folder.resolve() / "index.html"


def write_data_docs(results: list[Any], run_id: str, source: str,
                    root: str | os.PathLike[str] | None = None) -> str | None:
    """Data Docs of this run and source under `root`, made to render offline; None when
    there is nothing to show or rendering failed (logged: it never fails the run)."""
    folder = data_docs_root(root) / safe_name(run_id) / source
    try:
        path = build_data_docs(results, folder, run_id)
        if path:  # GX's pages load their CSS/JS from CDNs: rewritten to render offline
            make_offline(path.parent)
    except Exception as exc:
        log.warning("could not build data docs for %s: %s", source, exc)
        return None
    return str(path) if path else None
