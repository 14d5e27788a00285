"""Helpers shared by the web sources (urls, feed, sitemap, warc): reading a location,
dates and the [since, until) window, and XML safety."""

from __future__ import annotations

import email.utils
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import defusedxml
import defusedxml.ElementTree as SafeET
from lxml import etree

from etl.config import SourceConfig
from etl.records import to_utc
from etl.sources.errors import SourceError

if TYPE_CHECKING:
    from etl.fetch.http import Fetcher

logger = logging.getLogger(__name__)


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

_W3C_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def parse_date(text: str | None) -> datetime | None:
    """W3C datetime / ISO 8601 (sitemaps, JSON Feed) or RFC 822 (RSS); None if unparseable."""
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        if _W3C_DATE.match(text):  # "2024", "2024-05", "2024-05-03"
            parts = [int(p) for p in text.split("-")] + [1, 1]
            return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        pass
    try:
        return to_utc(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


def in_window(when: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    """[since, until): undated items are always kept."""
    if when is None:
        return True
    when = to_utc(when)
    if since is not None and when < to_utc(since):
        return False
    return not (until is not None and when >= to_utc(until))


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
