"""Content-type policy: the Accept header sent for each kind of fetch, and which response
media types each kind can use (anything else fails the fetch with `not_html`)."""

from __future__ import annotations

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_TYPES = frozenset({"text/xml", "application/xml", "application/rss+xml",
                        "application/atom+xml", "application/rdf+xml", "text/rss+xml",
                        "text/atom+xml"})
_JSON_TYPES = frozenset({"application/json", "application/feed+json", "text/json"})
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/x-gunzip",
                         "application/gzipped", "application/octet-stream"})

ACCEPT_HEADERS = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/feed+json,"
            "application/xml;q=0.9,text/xml;q=0.9,text/html;q=0.5,*/*;q=0.1",
    "sitemap": "application/xml,text/xml;q=0.9,application/gzip;q=0.8,*/*;q=0.1",
    "text": "text/plain,*/*;q=0.1",
    "any": "*/*",
}
ACCEPT_KINDS = tuple(ACCEPT_HEADERS)


def acceptable(accept: str, media_type: str) -> bool:
    """Whether a response's media type is usable for what the caller asked for."""
    if not media_type or accept == "any":
        return True  # no Content-Type: let the consumer judge the bytes
    is_xml = media_type in _XML_TYPES or media_type.endswith("+xml")
    if accept == "html":
        return media_type in _HTML_TYPES
    if accept == "feed":  # HTML allowed: a homepage is used for feed autodiscovery
        return (media_type in _HTML_TYPES or is_xml or media_type in _JSON_TYPES
                or media_type.endswith("+json") or media_type == "text/plain")
    if accept == "sitemap":
        return is_xml or media_type in _GZIP_TYPES or media_type == "text/plain"
    if accept == "text":
        return media_type.startswith("text/")
    return True
