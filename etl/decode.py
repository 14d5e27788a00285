"""Bytes → Unicode for web pages: declared charset, then the document's meta, then detection."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""")
# Browsers decode these labels as windows-1252 (WHATWG Encoding Standard); so do we.
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
            "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252"}


_SINGLE_BYTE = {"cp1252", "iso8859-1", "iso8859-15", "latin-1", "ascii"}


def _is_utf8_with_non_ascii(raw: bytes) -> bool:
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can determine (binary content)."""


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_declared_charset(raw: bytes) -> str | None:
    """The charset a document declares in its first 4 KB (meta tag or XML declaration)."""
    head = raw[:4096]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii", "ignore") if match else None


def looks_binary(raw: bytes) -> bool:
    """NUL bytes in the head are never in HTML or text; they are in PNG, PDF, gzip, …"""
    head = raw[:2048]
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def decode_html(raw: bytes, header_charset: str | None = None) -> str:
    """Decode a page: HTTP header charset, then BOM/meta charset, then detection.

    Raises DecodeError when the content is binary or no encoding fits.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16", errors="replace")
    if looks_binary(raw):
        raise DecodeError("binary content (NUL bytes)")
    for label in (header_charset, sniff_declared_charset(raw)):
        codec = _codec(label)
        if codec and codec in _SINGLE_BYTE and _is_utf8_with_non_ascii(raw):
            # Pages that declare Latin-1 but are UTF-8 are common (templates copied from
            # older sites); valid multi-byte UTF-8 sequences almost never occur by chance.
            return raw.decode("utf-8")
        if codec:
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue  # declared charset is wrong: fall through to the next evidence
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw[:200_000]).best()
    if best is None:
        raise DecodeError("no text encoding fits the content")
    return raw.decode(best.encoding, errors="replace")
