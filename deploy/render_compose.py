"""Render docker-compose.yml and .env.example from deploy/compose_spec.py.

    python deploy/render_compose.py           # (re)write both files in the repository root
    python deploy/render_compose.py --check   # exit 1 if a committed file is out of date

A tiny purpose-built YAML emitter (rather than yaml.dump) so the output keeps what makes a
compose file readable and reviewable: comments, the `x-airflow-common: &airflow-common` anchor
with `<<: *airflow-common` merges, literal blocks for scripts, stable key order. Scalars are
written plain only when that is unambiguous, otherwise double-quoted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

DEPLOY_DIR = Path(__file__).resolve().parent
REPO_ROOT = DEPLOY_DIR.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE_FILE = REPO_ROOT / ".env.example"
MAX_FLOW_LINE = 100
INDENT = "  "


def load_spec() -> ModuleType:
    """Import deploy/compose_spec.py by path (works from any working directory)."""
    name = "news_etl_compose_spec"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DEPLOY_DIR / "compose_spec.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------
# Emitter
# ------------------------------------------------------------------------------------------

_PLAIN_START = re.compile(r"[A-Za-z/.$_]")
_DURATION = re.compile(r"\d+(?:us|ms|s|m|h)")  # "30s": a string in YAML 1.1 and 1.2 alike


def _plain_ok(text: str) -> bool:
    """True if `text` reads back as the same string when written as a plain scalar."""
    if _DURATION.fullmatch(text):
        return True
    if not text or text != text.strip() or "\n" in text or not _PLAIN_START.match(text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    try:
        return yaml.safe_load(f"k: {text}") == {"k": text}
    except yaml.YAMLError:
        return False


def scalar(value: Any) -> str:
    """One YAML scalar (no newlines)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value if _plain_ok(value) else json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot render {type(value).__name__} as a YAML scalar")


def _key(key: str) -> str:
    return key if key == "<<" or _plain_ok(key) else json.dumps(key)


def _literal(text: str, indent: str) -> list[str]:
    """A `|` block for a multi-line string; chomping indicator matches trailing newlines."""
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    indicator = {0: "|-", 1: "|"}.get(trailing, "|+")
    if body[:1] in (" ", "\t"):
        raise ValueError("multi-line strings must not start with whitespace")
    lines = [indicator]
    for line in body.split("\n") + [""] * max(0, trailing - 1):
        if line != line.rstrip():
            raise ValueError(f"trailing whitespace in multi-line string: {line!r}")
        lines.append(f"{indent}{line}" if line else "")
    return lines


def _comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}# {line}".rstrip() for line in text.split("\n")]


def _value_lines(value: Any, indent: str, path: tuple[str, ...], spec: ModuleType,
                 prefix: str) -> list[str]:
    """Lines for `prefix` (e.g. `key:` or `-`) followed by `value` at nesting `indent`."""
    if isinstance(value, spec.Alias):
        return [f"{prefix} *{value.name}"]
    if isinstance(value, spec.Anchored):
        return [f"{prefix} &{value.name}", *_mapping(value.value, indent + INDENT, path, spec)]
    if value is None:
        return [prefix]
    if isinstance(value, dict):
        if not value:
            return [f"{prefix} {{}}"]
        return [prefix, *_mapping(value, indent + INDENT, path, spec)]
    if isinstance(value, (list, tuple)):
        return _sequence(list(value), indent, path, spec, prefix)
    if isinstance(value, str) and "\n" in value:
        first, *rest = _literal(value, indent + INDENT)
        return [f"{prefix} {first}", *rest]
    return [f"{prefix} {scalar(value)}"]


def _sequence(items: list[Any], indent: str, path: tuple[str, ...], spec: ModuleType,
              prefix: str) -> list[str]:
    if not items:
        return [f"{prefix} []"]
    if all(isinstance(i, str) and "\n" not in i for i in items):
        flow = f"{prefix} [{', '.join(json.dumps(i, ensure_ascii=False) for i in items)}]"
        if len(indent) + len(flow) <= MAX_FLOW_LINE:
            return [flow]
    lines = [prefix]
    inner = indent + INDENT
    for item in items:
        if isinstance(item, (dict, list, tuple)):
            raise TypeError("nested collections inside sequences are not supported")
        lines += _value_lines(item, inner, path, spec, f"{inner}-")
    return lines


def _mapping(mapping: dict[str, Any], indent: str, path: tuple[str, ...],
             spec: ModuleType) -> list[str]:
    lines: list[str] = []
    for i, (key, value) in enumerate(mapping.items()):
        key_path = (*path, key)
        # Blank line between top-level sections and between services.
        if i and (not path or path == ("services",)):
            lines.append("")
        lines += _comment(spec.COMMENTS.get(key_path), indent)
        lines += _value_lines(value, indent, key_path, spec, f"{indent}{_key(key)}:")
    return lines


def render_compose(spec: ModuleType | None = None) -> str:
    """The docker-compose.yml text for `spec` (default: deploy/compose_spec.py)."""
    spec = spec or load_spec()
    lines = _comment(spec.HEADER.rstrip("\n"), "")
    lines.append("")
    lines += _mapping(spec.COMPOSE, "", (), spec)
    return "\n".join(lines) + "\n"


def render_env_example(spec: ModuleType | None = None) -> str:
    """The .env.example text: every variable with its DEV-ONLY default and what it is for."""
    spec = spec or load_spec()
    lines = _comment(spec.ENV_EXAMPLE_HEADER.rstrip("\n"), "")
    for var in spec.ENV_VARS:
        lines.append("")
        help_text = f"{'SECRET. ' if var.secret else ''}{var.help}"
        for paragraph in help_text.split("\n"):  # explicit line breaks are kept
            if paragraph.startswith("Generate:"):  # a command: never split it
                lines.append(f"# {paragraph}")
            else:
                lines += [f"# {line}" for line in textwrap.wrap(paragraph, MAX_FLOW_LINE - 2)]
        lines.append(f"{var.name}={var.default}")
    lines.append("")
    lines += _comment(spec.ENV_EXAMPLE_FOOTER.rstrip("\n"), "")
    lines += [f"# {name}=" for name in spec.PASSTHROUGH_ENV]
    return "\n".join(lines) + "\n"


def rendered_files() -> dict[Path, str]:
    spec = load_spec()
    return {COMPOSE_FILE: render_compose(spec), ENV_EXAMPLE_FILE: render_env_example(spec)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a committed file differs from the spec")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered_files().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} — run: python deploy/render_compose.py",
              file=sys.stderr)
        return 1
    print(f"{'rewrote' if stale else 'up to date:'} "
          f"{', '.join(stale) or 'docker-compose.yml, .env.example'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
