"""sources.yml → typed, validated configuration.

Errors name the source and the field, so a bad config fails fast with a message a
user can act on, before anything is read or fetched.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

SOURCE_KINDS = ("files", "urls", "feed", "sitemap", "warc")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_LANG_RE = re.compile(r"^[a-z]{2}$")


class ConfigError(ValueError):
    """A sources file that cannot be used, with the source and field named."""


@dataclass(frozen=True)
class HttpSettings:
    """HTTP behaviour; a top-level `http:` block, overridable per source and by environment."""

    user_agent: str = "news-etl/0.1 (+https://github.com/news-etl/news-etl)"
    timeout_s: float = 20.0  # read timeout; connect timeout is min(timeout_s, 10)
    max_bytes: int = 10 * 1024 * 1024  # raw body cap
    max_decompressed_bytes: int = 50 * 1024 * 1024
    min_delay_s: float = 1.0  # politeness: minimum gap between two requests to one host
    max_per_host: int = 2  # concurrent requests to one host
    max_redirects: int = 5
    retries: int = 3
    backoff_s: float = 0.5
    allow_hosts: tuple[str, ...] = ()  # names, IPs or CIDR ranges exempt from the SSRF guard
    obey_robots: bool = True
    workers: int = 8  # fetch threads
    # Shared politeness (etl/fetch/politeness.py): empty = per process; a redis:// URL =
    # every process and machine using that Redis shares per-host limits and robots.txt.
    limiter_url: str = ""
    robots_ttl_s: float = 3600.0  # robots.txt is fetched at most once per origin per TTL

    @classmethod
    def from_mapping(cls, data: dict[str, Any], where: str, base: HttpSettings | None = None):
        base = base or cls()
        known = {f.name: f for f in fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in (data or {}).items():
            if key not in known:
                raise ConfigError(f"{where}: unknown http setting {key!r}")
            default = getattr(base, key)
            try:
                if isinstance(default, tuple):
                    if isinstance(value, str):
                        value = [v.strip() for v in value.split(",") if v.strip()]
                    value = tuple(str(v) for v in value)
                elif isinstance(default, bool):
                    value = value if isinstance(value, bool) else str(value).lower() in (
                        "1", "true", "yes", "on")
                else:
                    value = type(default)(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: http setting {key!r} is invalid: {exc}") from exc
            changes[key] = value
        url = changes.get("limiter_url")
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"{where}: http setting 'limiter_url' must be a redis://, "
                              f"rediss:// or unix:// URL")
        return replace(base, **changes)

    @classmethod
    def from_env(cls, base: HttpSettings) -> HttpSettings:
        """NEWS_ETL_ALLOW_HOSTS, NEWS_ETL_MIN_DELAY_S, NEWS_ETL_USER_AGENT, … override the file."""
        data = {}
        for f in fields(cls):
            env = os.environ.get(f"NEWS_ETL_{f.name.upper()}")
            if env is not None:
                data[f.name] = env
        return cls.from_mapping(data, "environment", base) if data else base


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str
    location: str  # resolved: absolute path/glob for files, URL or path otherwise
    language: str | None = None
    boilerplate: tuple[re.Pattern[str], ...] = ()
    max_items: int | None = None
    refresh: bool = False  # re-fetch URLs already loaded
    urls: tuple[str, ...] = ()  # inline URL list for kind=urls
    http: HttpSettings = field(default_factory=HttpSettings)
    min_words: int | None = None  # overrides the validation default
    # Scheduled runs take every feed/sitemap entry not yet seen, up to this many days old;
    # older entries are recorded as not_modified (older_than_max_age).
    max_age_days: int = 30


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


def _resolve_location(raw: str, base_dir: Path, kind: str, where: str = "source",
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
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{where}: field 'name' must match {_NAME_RE.pattern}")
    kind = entry.get("kind")
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"{where}: field 'kind' must be one of {SOURCE_KINDS}, got {kind!r}")
    urls = entry.get("urls") or ()
    if urls and (not isinstance(urls, list) or not all(isinstance(u, str) for u in urls)):
        raise ConfigError(f"{where}: field 'urls' must be a list of strings")
    location = entry.get("location")
    if not location and not (kind == "urls" and urls):
        raise ConfigError(f"{where}: field 'location' is required for kind {kind!r}")
    if location is not None and not isinstance(location, str):
        raise ConfigError(f"{where}: field 'location' must be a string")
    language = entry.get("language")
    if language is not None and (not isinstance(language, str) or not _LANG_RE.match(language)):
        raise ConfigError(f"{where}: field 'language' must be an ISO 639-1 code like 'fr'")
    patterns = entry.get("boilerplate") or []
    if not isinstance(patterns, list):
        raise ConfigError(f"{where}: field 'boilerplate' must be a list of regular expressions")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(str(pattern)))
        except re.error as exc:
            raise ConfigError(
                f"{where}: field 'boilerplate': bad regex {pattern!r}: {exc}") from exc
    max_items = entry.get("max_items")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        raise ConfigError(f"{where}: field 'max_items' must be a positive integer")
    min_words = entry.get("min_words")
    if min_words is not None and (not isinstance(min_words, int) or min_words < 0):
        raise ConfigError(f"{where}: field 'min_words' must be a non-negative integer")
    max_age_days = entry.get("max_age_days", 30)
    if isinstance(max_age_days, bool) or not isinstance(max_age_days, int) or max_age_days < 1:
        raise ConfigError(f"{where}: field 'max_age_days' must be a positive integer (days), "
                          f"got {max_age_days!r}")
    allow_outside = entry.get("allow_outside", False)
    if not isinstance(allow_outside, bool):
        raise ConfigError(f"{where}: field 'allow_outside' must be true or false")
    known = {"name", "kind", "location", "language", "boilerplate", "max_items", "refresh",
             "urls", "http", "min_words", "allow_outside", "max_age_days"}
    extra = sorted(set(entry) - known)
    if extra:
        raise ConfigError(f"{where}: unknown field(s) {extra}")
    return SourceConfig(
        name=name,
        kind=kind,
        location=(_resolve_location(location, base_dir, kind, where, allow_outside)
                  if location else ""),
        language=language,
        boilerplate=tuple(compiled),
        max_items=max_items,
        refresh=bool(entry.get("refresh", False)),
        urls=tuple(urls),
        http=HttpSettings.from_mapping(entry.get("http") or {}, f"{where}: http", http),
        min_words=min_words,
        max_age_days=max_age_days,
    )


def load_sources(path: str | os.PathLike[str]) -> SourcesFile:
    """Read and validate a sources file. Raises ConfigError naming the source and field."""
    path = Path(path).resolve()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if isinstance(data, list):
        data = {"sources": data}
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise ConfigError(f"{path}: expected a top-level 'sources:' list")
    http = HttpSettings.from_mapping(data.get("http") or {}, "http")
    http = HttpSettings.from_env(http)
    sources = tuple(
        _source(entry, i, path.parent, http) for i, entry in enumerate(data["sources"])
    )
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{path}: duplicate source name(s) {dupes}")
    return SourcesFile(path=path, sources=sources, http=http)
