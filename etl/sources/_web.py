"""Helpers shared by the web sources (urls, feed, sitemap, warc): reading a location,
dates and the date window (a requested interval, else the source's maximum age), and XML
safety."""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import defusedxml
import defusedxml.ElementTree as SafeET
from lxml import etree

from etl.config import SourceConfig
from etl.records import Article, to_utc
from etl.sources.errors import SourceError

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher

log = logging.getLogger(__name__)


def is_url(location: str) -> bool:
    return urlsplit(location).scheme.lower() in ("http", "https")


def local_path(location: str) -> Path:
    """A local path from a plain path or a file:// URL."""
    if location.lower().startswith("file://"):
        return Path(unquote(urlsplit(location).path))
    return Path(location)


def read_location(
    source: SourceConfig,
    fetcher: Fetcher | None,
    location: str,
    *,
    accept: str,
    max_bytes: int | None = None,
) -> tuple[bytes, str, str]:
    """Bytes of a local file or URL → (body, final location, media type).

    Raises SourceError naming the source when it cannot be read.
    """
    if is_url(location):
        if fetcher is None:
            raise SourceError(f"source {source.name!r}: {location} is a URL but no fetcher "
                              "was given")
        result = fetcher.fetch(location, accept=accept)
        if result.reason is not None or result.body is None:
            raise SourceError(f"source {source.name!r}: cannot fetch {location}: "
                              f"{result.reason}" + (f" ({result.detail})" if result.detail else ""))
        return result.body, result.final_url, result.media_type
    if "://" in location and not location.lower().startswith("file://"):
        raise SourceError(f"source {source.name!r}: unsupported location {location!r}")
    path = local_path(location)
    limit = max_bytes if max_bytes is not None else source.http.max_bytes
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise SourceError(f"source {source.name!r}: cannot read {path}: "
                          f"{exc.strerror or exc}") from exc
    if len(data) > limit:
        raise SourceError(f"source {source.name!r}: {path} is larger than {limit} bytes")
    return data, str(path), ""


# -- dates --------------------------------------------------------------------------------

# ISO 8601 that names a day: "2024-05-03", "20240503", "2024-W18-5", "2024-124", with or
# without a time. A bare year or month ("2024", "2024-05") or week ("2024-W18") names none.
_ISO_DAY = re.compile(r"^\d{4}-?(?:\d{2}-?\d{2}|W\d{2}-?\d|\d{3})(?:[T ]|$)")
_ISO_LIKE = re.compile(r"^\d{4}(?:$|[-W\d])")


def parse_machine_date(text: str | None) -> datetime | None:
    """A full date from W3C datetime / ISO 8601 (sitemaps, JSON Feed) or RFC 822 (RSS).

    None when unparseable or impossible ("2026-13-45T25:61"), and when no day is stated:
    rounding "2024" or "2024-05" to the 1st would invent a date.
    """
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    if _ISO_LIKE.match(text):
        if not _ISO_DAY.match(text):
            return None
        try:
            return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")
                                                 .replace("z", "+00:00")))
        except ValueError:
            return None
    try:
        return to_utc(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


def in_window(when: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    """[since, until): undated items are always kept."""
    return DateWindow(since, until).excludes(when) is None


# Receives each entry a source leaves out of the run, with (reason, detail): the pipeline
# accounts for it (outcome not_modified), so no entry is skipped silently.
SkipSink = Callable[[Article, str, str], None]

OUTSIDE_INTERVAL = "outside_interval"
OLDER_THAN_MAX_AGE = "older_than_max_age"


def _stamp(when: datetime) -> str:
    return to_utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DateWindow:
    """Which dated feed/sitemap entries a run takes; undated entries are always taken.

    A run that asks for an interval (a backfill, `only_interval`, `--since/--until`) takes
    [since, until). Any other run takes every entry not older than `oldest` (now minus the
    source's `max_age_days`): the fetch ledger, not the date, is what keeps runs incremental,
    so an entry that shows up late is still taken.
    """

    since: datetime | None = None
    until: datetime | None = None
    oldest: datetime | None = None
    max_age_days: int | None = None  # only to explain `oldest` in the skip detail

    @classmethod
    def for_run(cls, max_age_days: int | None, since: datetime | None = None,
                until: datetime | None = None, now: datetime | None = None) -> DateWindow:
        """The requested interval when there is a lower bound, else the maximum age."""
        if since is not None:
            return cls(since=since, until=until)
        if not max_age_days:
            return cls(until=until)
        oldest = to_utc(now or datetime.now(UTC)) - timedelta(days=max_age_days)
        return cls(until=until, oldest=oldest, max_age_days=max_age_days)

    @property
    def lower(self) -> datetime | None:
        """Entries dated before this are left out (None: no lower bound)."""
        bound = self.since if self.since is not None else self.oldest
        return to_utc(bound) if bound is not None else None

    def excludes(self, when: datetime | None) -> tuple[str, str] | None:
        """(reason, detail) when an entry dated `when` is left out of the run, else None."""
        if when is None:
            return None
        when = to_utc(when)
        if self.since is not None and when < to_utc(self.since):
            return OUTSIDE_INTERVAL, (f"dated {_stamp(when)}, before the run's interval "
                                      f"starting {_stamp(self.since)}")
        if self.until is not None and when >= to_utc(self.until):
            return OUTSIDE_INTERVAL, (f"dated {_stamp(when)}, at or after the run's interval "
                                      f"ending {_stamp(self.until)}")
        if self.oldest is not None and when < to_utc(self.oldest):
            return OLDER_THAN_MAX_AGE, (f"dated {_stamp(when)}, more than "
                                        f"{self.max_age_days} day(s) old (max_age_days)")
        return None


def skip_entry(source: SourceConfig, item: Article, why: tuple[str, str],
               on_skip: SkipSink | None) -> None:
    """Hand an entry left out by the date window to the run (or log it when used alone)."""
    if on_skip is not None:
        on_skip(item, *why)
    else:
        log.debug("source %s: %s left out: %s", source.name, item.url, why[1])


def item_limit(source: SourceConfig, max_items: int | None) -> int | None:
    return max_items if max_items is not None else source.max_items


# -- XML safety ---------------------------------------------------------------------------


def declares_entities(data: bytes) -> bool:
    """True when the document declares entities (internal or external) in a DTD —
    the vector for billion-laughs and XXE. Malformed documents are not judged here."""
    try:
        SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden,
            defusedxml.NotSupportedError):
        return True
    except Exception:  # ParseError etc.: feedparser's lenient parser deals with those
        return False
    return False


def strip_doctype(data: bytes) -> bytes:
    """Remove the DOCTYPE declaration (with its internal subset) from the prolog.

    Works on ASCII-compatible encodings; returns `data` unchanged when there is none.
    """
    i = 0
    n = len(data)
    if data.startswith(b"\xef\xbb\xbf"):
        i = 3
    while i < n:
        while i < n and data[i : i + 1].isspace():
            i += 1
        if data.startswith(b"<?", i):
            end = data.find(b"?>", i)
            if end < 0:
                return data
            i = end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i)
            if end < 0:
                return data
            i = end + 3
        elif data[i : i + 9].upper() == b"<!DOCTYPE":
            j, depth, quote = i + 9, 0, 0
            while j < n:
                c = data[j]
                if quote:
                    if c == quote:
                        quote = 0
                elif c in (0x22, 0x27):  # " or '
                    quote = c
                elif c == 0x5B:  # [
                    depth += 1
                elif c == 0x5D:  # ]
                    depth -= 1
                elif c == 0x3E and depth <= 0:  # >
                    return data[:i] + data[j + 1 :]
                j += 1
            return data[:i]  # unterminated DOCTYPE: nothing usable follows
        else:
            return data
    return data


def safe_xml_parser(recover: bool = False) -> etree.XMLParser:
    """lxml parser that neither expands entities nor touches the network or DTDs."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False, remove_comments=True,
                           remove_pis=True, recover=recover)


def local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""  # comments, entities, processing instructions
    return tag.rsplit("}", 1)[-1].lower()


def element_text(element: etree._Element | None) -> str | None:
    """Text of an element with unexpanded entity references left out."""
    if element is None:
        return None
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    text = "".join(parts).strip()
    return text or None
