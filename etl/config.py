"""sources.yml → typed, validated configuration.

`HttpSettings`, `SourceConfig` and `SourcesFile` are frozen pydantic dataclasses: the field
declarations are the rules, and each field's description is what an error says it must be.
Errors name the source and the field (and, for an unknown key, the closest known one), so a
bad config fails fast with a message a user can act on, before anything is read or fetched.

Nothing here reads the environment: overrides of the `http:` block from the environment
(NEWS_ETL_ALLOW_HOSTS, …) are collected by `etl.settings.Settings` at the edge and passed
to `load_sources(http_overrides=…)`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from etl.delays import DEFAULT_REVISIT, parse_delays

# libyaml's loader when PyYAML has it: a 10,000-source file parses ~10x faster, and every
# Airflow task that reads sources.yml parses it (docs/airflow.md, batches).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SourceKind = Literal["files", "urls", "feed", "sitemap", "warc"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)
_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_LIMITER_SCHEMES = ("redis://", "rediss://", "unix://")
# Unknown keys are refused (a misspelt key would otherwise be silently ignored).
_STRICT = ConfigDict(extra="forbid")


class ConfigError(ValueError):
    """A sources file that cannot be used, with the source and field named."""


def _split_commas(value: Any) -> Any:
    """`allow_hosts: "a, b"` (and NEWS_ETL_ALLOW_HOSTS=a,b) as a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_limiter_url(value: str) -> str:
    if value and not value.startswith(_LIMITER_SCHEMES):
        raise PydanticCustomError("config", "must be a redis://, rediss:// or unix:// URL")
    return value


def _compile_patterns(value: Any) -> Any:
    """Regexes compiled here, so a bad one is reported with re's own explanation."""
    if not isinstance(value, list | tuple):
        return value  # pydantic reports the type
    compiled = []
    for pattern in value:
        if isinstance(pattern, re.Pattern):
            compiled.append(pattern)
            continue
        try:
            compiled.append(re.compile(str(pattern)))
        except re.error as exc:
            raise PydanticCustomError("config", "bad regex {pattern}: {error}",
                                      {"pattern": repr(pattern), "error": str(exc)}) from None
    return compiled


@dataclass(frozen=True, config=_STRICT)
class HttpSettings:
    """HTTP behaviour; a top-level `http:` block, overridable per source and by environment."""

    user_agent: str = Field("news-etl/0.1 (+https://github.com/news-etl/news-etl)",
                            description="a string")
    # read timeout; connect timeout is min(timeout_s, 10)
    timeout_s: float = Field(20.0, description="a number of seconds")
    max_bytes: int = Field(10 * 1024 * 1024, description="a whole number of bytes")  # raw body
    max_decompressed_bytes: int = Field(50 * 1024 * 1024, description="a whole number of bytes")
    # politeness: minimum gap between two requests to one host
    min_delay_s: float = Field(1.0, description="a number of seconds")
    max_per_host: int = Field(2, description="a whole number")  # concurrent requests to a host
    max_redirects: int = Field(5, description="a whole number")
    retries: int = Field(3, description="a whole number")
    backoff_s: float = Field(0.5, description="a number of seconds")
    # names, IPs or CIDR ranges exempt from the SSRF guard
    allow_hosts: Annotated[tuple[str, ...], BeforeValidator(_split_commas)] = Field(
        (), description="a list of host names, IPs or CIDR ranges")
    obey_robots: bool = Field(True, description="true or false")
    workers: int = Field(8, description="a whole number")  # fetch threads
    # Shared politeness (etl/fetch/politeness.py): empty = per process; a redis:// URL =
    # every process and machine using that Redis shares per-host limits and robots.txt.
    limiter_url: Annotated[str, AfterValidator(_check_limiter_url)] = Field(
        "", description="a redis://, rediss:// or unix:// URL, or empty")
    # robots.txt is fetched at most once per origin per TTL
    robots_ttl_s: float = Field(3600.0, description="a number of seconds")


@dataclass(frozen=True, config=_STRICT)
class SourceConfig:
    name: str = Field(pattern=_NAME_PATTERN, description=f"a name matching {_NAME_PATTERN}")
    kind: SourceKind = Field(description=f"one of {SOURCE_KINDS}")
    # resolved: absolute path/glob for files, URL or path otherwise
    location: str = Field(description="a string: a path, glob or URL")
    language: str | None = Field(None, pattern=r"^[a-z]{2}$",
                                 description="an ISO 639-1 code like 'fr'")
    # matching lines are removed from this source's text
    boilerplate: Annotated[tuple[re.Pattern[str], ...], BeforeValidator(_compile_patterns)] = (
        Field((), description="a list of regular expressions"))
    # per run
    max_items: int | None = Field(None, strict=True, ge=1, description="a positive integer")
    refresh: bool = Field(False, description="true or false")  # re-fetch URLs already loaded
    urls: tuple[str, ...] = Field((), description="a list of strings")  # inline list, kind urls
    http: HttpSettings = Field(default_factory=HttpSettings, description="a mapping")
    # overrides the validation default
    min_words: int | None = Field(None, strict=True, ge=0,
                                  description="a non-negative integer")
    # Scheduled runs take every feed/sitemap entry not yet seen, up to this many days old;
    # older entries are recorded as not_modified (older_than_max_age).
    max_age_days: int = Field(30, strict=True, ge=1, description="a positive integer (days)")
    # Revisits of stored articles (etl.revisit, docs/revisits.md): delays after the first
    # store; [] = never revisited.
    revisit: Annotated[tuple[timedelta, ...], BeforeValidator(parse_delays)] = Field(
        DEFAULT_REVISIT, description="a list of delays like [1h, 6h, 24h, 3d, 7d]")


@dataclass(frozen=True)
class SourcesFile:
    path: Path
    sources: tuple[SourceConfig, ...]
    http: HttpSettings

    def select(self, names: list[str] | None) -> list[SourceConfig]:
        if not names:
            return list(self.sources)
        known = {s.name: s for s in self.sources}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(f"unknown source(s) {unknown}; known: {sorted(known)}")
        return [known[n] for n in names]


HTTP_SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(HttpSettings))
# Keys a source entry may have: SourceConfig's fields, plus what only the loader reads.
_LOADER_KEYS = ("allow_outside",)
SOURCE_KEYS: tuple[str, ...] = (*(f.name for f in dataclasses.fields(SourceConfig)),
                                *_LOADER_KEYS)
_HTTP = TypeAdapter(HttpSettings)
_SOURCE = TypeAdapter(SourceConfig)


def did_you_mean(key: object, known: tuple[str, ...]) -> str:
    """' (did you mean 'location'?)' for a near miss, else the list of known keys."""
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(sorted(known))})"


def describe_errors(exc: ValidationError, where: str, cls: type, noun: str,
                    known: tuple[str, ...]) -> str:
    """One line naming every bad key: what it must be (the field's description), what it got,
    and for an unknown key the closest known one."""
    problems: list[str] = []
    declared = cls.__pydantic_fields__
    for error in exc.errors():
        key = error["loc"][0] if error["loc"] else ""
        if error["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
            problem = f"unknown {noun} {key!r}{did_you_mean(key, known)}"
        elif error["type"] in ("missing", "missing_argument"):
            problem = f"{noun} {key!r} is required"
        elif error["type"] == "config":  # our own message: it says what is wrong
            problem = f"{noun} {key!r}: {error['msg']}"
        else:
            field = declared.get(str(key))
            rule = field.description if field else None
            problem = (f"{noun} {key!r} must be {rule}, got {error['input']!r}" if rule
                       else f"{noun} {key!r}: {error['msg']}, got {error['input']!r}")
        if problem not in problems:
            problems.append(problem)
    return f"{where}: " + "; ".join(problems)


def layer_http(base: HttpSettings, changes: Any, where: str) -> HttpSettings:
    """`base` with the settings of one `http:` block (or override mapping) applied."""
    if not changes:
        return base
    if not isinstance(changes, Mapping):
        raise ConfigError(f"{where}: expected a mapping of http settings, "
                          f"got {type(changes).__name__}")
    try:
        return _HTTP.validate_python({**dataclasses.asdict(base), **changes})
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, where, HttpSettings, "http setting",
                                          HTTP_SETTING_NAMES)) from None


def _resolve_location(raw: str, base_dir: Path, where: str = "source",
                      allow_outside: bool = False) -> str:
    """URLs as given; paths relative to the sources file's folder.

    A relative path may not climb out of that folder (`../../etc`) unless the source says
    `allow_outside: true`: a sources file copied from elsewhere must not quietly read the
    host's files. Absolute paths are an explicit choice and are taken as written; symlinks
    that escape a files source's folder are refused when read (reason outside_source_folder).
    """
    if "://" in raw:
        return raw
    path = Path(os.path.expanduser(raw))
    if not path.is_absolute():
        path = base_dir / path
        inside = Path(os.path.normpath(path)).is_relative_to(base_dir)
        if not inside and not allow_outside:
            raise ConfigError(
                f"{where}: field 'location' {raw!r} points outside the sources file's folder "
                f"{base_dir}; set 'allow_outside: true' on the source to permit it")
    return str(path)


def _source(entry: Any, index: int, base_dir: Path, http: HttpSettings) -> SourceConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"sources[{index}]: expected a mapping, got {type(entry).__name__}")
    name = entry.get("name")
    where = f"source {name!r}" if name else f"sources[{index}]"
    fields = dict(entry)
    allow_outside = fields.pop("allow_outside", False)
    if not isinstance(allow_outside, bool):
        raise ConfigError(f"{where}: field 'allow_outside' must be true or false, "
                          f"got {allow_outside!r}")
    source_http = layer_http(http, fields.pop("http", None), f"{where}: http")
    for key in ("location", "urls", "boilerplate"):  # `key:` with nothing after it = absent
        if fields.get(key) is None:
            fields.pop(key, None)
    fields.setdefault("location", "")
    try:
        source = _SOURCE.validate_python({**fields, "http": source_http})
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, where, SourceConfig, "field",
                                          SOURCE_KEYS)) from None
    if not source.location and not (source.kind == "urls" and source.urls):
        raise ConfigError(f"{where}: field 'location' is required for kind {source.kind!r}")
    if not source.location:
        return source
    return dataclasses.replace(
        source, location=_resolve_location(source.location, base_dir, where, allow_outside))


def load_sources(path: str | os.PathLike[str],
                 http_overrides: Mapping[str, Any] | None = None,
                 overrides_from: str = "overrides") -> SourcesFile:
    """Read and validate a sources file. Raises ConfigError naming the source and field.

    `http_overrides` (the edge passes the environment's NEWS_ETL_<SETTING> values) apply
    over the file's top-level `http:` block; a source's own `http:` block applies over both.
    `overrides_from` names them in error messages.
    """
    path = Path(path).resolve()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if isinstance(data, list):
        data = {"sources": data}
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        hint = ""
        if isinstance(data, dict) and "sources" not in data:
            close = difflib.get_close_matches("sources", [str(k) for k in data], n=1)
            hint = f" (found {close[0]!r}: did you mean 'sources'?)" if close else ""
        raise ConfigError(f"{path}: expected a top-level 'sources:' list{hint}")
    http = layer_http(HttpSettings(), data.get("http"), "http")
    http = layer_http(http, http_overrides, overrides_from)
    sources = tuple(
        _source(entry, i, path.parent, http) for i, entry in enumerate(data["sources"])
    )
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{path}: duplicate source name(s) {dupes}")
    return SourcesFile(path=path, sources=sources, http=http)


def check_sources(path: str | os.PathLike[str],
                  http_overrides: Mapping[str, Any] | None = None,
                  overrides_from: str = "overrides") -> tuple[list[SourceConfig], list[str]]:
    """Every problem of a sources file, not only the first (`news-etl sources`): the
    sources that are fine and one message per source (or for the file) that is not."""
    try:
        return list(load_sources(path, http_overrides, overrides_from).sources), []
    except ConfigError as exc:
        first = str(exc)
    # Errors of the file as a whole (unreadable, not YAML, no list) stop at the first one;
    # past those, each source is checked on its own.
    resolved = Path(path).resolve()
    try:
        data = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return [], [first]
    entries = data if isinstance(data, list) else (
        data.get("sources") if isinstance(data, dict) else None)
    if not isinstance(entries, list):
        return [], [first]
    errors: list[str] = []
    http = HttpSettings()
    try:
        http = layer_http(http, data.get("http") if isinstance(data, dict) else None, "http")
        http = layer_http(http, http_overrides, overrides_from)
    except ConfigError as exc:
        errors.append(str(exc))
    good: list[SourceConfig] = []
    for i, entry in enumerate(entries):
        try:
            good.append(_source(entry, i, resolved.parent, http))
        except ConfigError as exc:
            errors.append(str(exc))
    names = [s.name for s in good]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        errors.append(f"{resolved}: duplicate source name(s) {dupes}")
    return good, errors or [first]
