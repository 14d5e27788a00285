"""The canonical URL a page states for itself, and the URL dedup compares.

`page_canonical` reads the statement from the page's <head> (a light scan of the markup, not a
parse: a <link> in the body names no canonical); `canonical_url` normalises the URL dedup
compares. Whether a statement is plausible is decided by the dedup stage (etl.dedup.canonical).
"""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import urljoin, urlsplit

_HEAD_END_RE = re.compile(r"</head\s*>|<body[\s>]", re.IGNORECASE)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_TAG_RE = re.compile(r"<(link|meta)\b([^>]*)>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


def _attributes(raw: str) -> dict[str, str]:
    return {m.group(1).lower(): html_lib.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            .strip() for m in _ATTR_RE.finditer(raw)}


def page_canonical(html: str, url: str) -> str | None:
    """What the page states as its own canonical URL: ``<link rel="canonical">`` (relative
    links resolved against the page URL), else ``og:url``. Not ``<base href>`` nor an
    ``hreflang`` alternate, which trafilatura also reports as the page URL: neither names
    this page. Whether the statement is plausible is decided by the dedup stage."""
    end = _HEAD_END_RE.search(html, 0, 200_000)
    head = _COMMENT_RE.sub("", html[:end.start() if end else 200_000])
    og_url = None
    for match in _TAG_RE.finditer(head):
        attrs = _attributes(match.group(2))
        if match.group(1).lower() == "link":
            if "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href"):
                return urljoin(url, attrs["href"])
        elif og_url is None and attrs.get("property", attrs.get("name", "")).lower() == "og:url":
            og_url = urljoin(url, attrs["content"]) if attrs.get("content") else None
    return og_url


def canonical_url(url: str, page_canonical: str | None = None) -> str:
    """The URL dedup compares: the page's own canonical link when it is on the same site
    (or the item is a local file), else the item's URL; lower-cased host, tracking
    parameters and fragment removed."""
    from courlan import normalize_url

    chosen = url
    if page_canonical and page_canonical.startswith(("http://", "https://")):
        own_host = (urlsplit(url).hostname or "").removeprefix("www.")
        their_host = (urlsplit(page_canonical).hostname or "").removeprefix("www.")
        if url.startswith("file://") or own_host == their_host:
            chosen = page_canonical
    if chosen.startswith("file://"):
        return chosen
    try:
        return normalize_url(chosen, strict=True)
    except Exception:  # courlan raises assorted errors on odd URLs; keep the raw one
        return chosen
