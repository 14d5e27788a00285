"""`news-etl sources`: list a sources file's sources and check it, without running anything."""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import re
import sys
from pathlib import Path
from typing import Any

from etl.cli.common import EXIT_OK, EXIT_USAGE
from etl.config import HttpSettings, SourceConfig, check_sources
from etl.delays import format_delay
from etl.settings import Settings

ORDER = 5

# SourceConfig's own settings shown when they differ from the default (name, kind and
# location have columns of their own; http settings are compared with HttpSettings()).
_SHOWN = ("language", "max_items", "min_words", "max_age_days", "refresh", "urls",
          "boilerplate", "revisit")
_DEFAULT_HTTP = HttpSettings()
# Where one problem starts inside a message that names several (etl.config.describe_errors).
_PROBLEM = re.compile(r"unknown |field '|http setting '")
_NEXT_PROBLEM = re.compile(r"; (?=unknown |field '|http setting ')")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sources", help="list the sources of a sources file and check it (nothing is run)",
        description="List the sources of a sources file with their settings and check the "
                    "file: every error is reported, one per line, naming the source and "
                    "field; exit code 2 when there is one. Nothing is fetched or loaded.")
    p.add_argument("sources", help="path to sources.yml")
    p.add_argument("--json", action="store_true", help="print the sources as JSON")
    p.set_defaults(func=run)


def key_settings(source: SourceConfig) -> dict[str, Any]:
    """The settings of a source that differ from the defaults, http ones as `http.<name>`."""
    shown: dict[str, Any] = {}
    declared = SourceConfig.__pydantic_fields__
    for name in _SHOWN:
        value = getattr(source, name)
        if value != declared[name].get_default(call_default_factory=True):
            if name == "urls":
                value = len(value)  # the list itself can be long: its length
            elif name == "boilerplate":
                value = [p.pattern for p in value]
            elif name == "revisit":  # as written in sources.yml; [] = off
                value = [format_delay(d) for d in value] or "off"
            shown[name] = value
    for field in dataclasses.fields(HttpSettings):
        value = getattr(source.http, field.name)
        if value != getattr(_DEFAULT_HTTP, field.name):
            shown[f"http.{field.name}"] = list(value) if isinstance(value, tuple) else value
    return shown


def one_per_line(message: str) -> list[str]:
    """'source 'x': p1; p2' → ["source 'x': p1", "source 'x': p2"]."""
    found = _PROBLEM.search(message)
    if found is None:
        return [message]
    where = message[:found.start()]
    return [where + problem for problem in _NEXT_PROBLEM.split(message[found.start():])]


def warnings(source: SourceConfig) -> list[str]:
    """What will fail when the source runs but is not an error of the file: a local
    location that does not exist (yet)."""
    if "://" in source.location or not source.location:
        return []
    if source.kind == "files" and not glob.glob(source.location, recursive=True):
        return [f"source {source.name!r}: field 'location': nothing at {source.location}"]
    if source.kind == "warc" and not Path(source.location).exists():
        return [f"source {source.name!r}: field 'location': nothing at {source.location}"]
    return []


def _format(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def run(args: argparse.Namespace, settings: Settings) -> int:
    good, errors = check_sources(args.sources, http_overrides=settings.http_overrides,
                                 overrides_from="environment")
    problems = [line for message in errors for line in one_per_line(message)]
    notes = [w for source in good for w in warnings(source)]
    if args.json:
        print(json.dumps({"file": str(Path(args.sources).resolve()), "errors": problems,
                          "warnings": notes,
                          "sources": [{"name": s.name, "kind": s.kind, "location": s.location,
                                       "settings": key_settings(s)} for s in good]},
                         indent=2, default=str))
    elif good and not problems:
        width = max(len(s.name) for s in good)
        print(f"{'name':<{width}}  {'kind':<8} location", file=sys.stdout)
        for s in good:
            settings_text = ", ".join(f"{k}={_format(v)}" for k, v in key_settings(s).items())
            print(f"{s.name:<{width}}  {s.kind:<8} {s.location or '(inline urls)'}"
                  + (f"\n{'':<{width}}  {'':<8} {settings_text}" if settings_text else ""))
    for note in notes:
        print(f"news-etl: warning: {note}", file=sys.stderr)
    if problems:
        print(f"news-etl: {args.sources}: {len(problems)} error(s); nothing was run:",
              file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    if not args.json:
        print(f"{len(good)} source(s), no errors in {args.sources}")
    return EXIT_OK
