"""Bytes → Unicode for web pages, and which evidence decided the charset.

Order of evidence (docs/extraction.md, "Charsets"):

1. A byte-order mark: UTF-8 or UTF-16, whatever is declared (`bom`).
2. A declared charset — the HTTP Content-Type header, else the document's `<meta charset>`,
   `<meta http-equiv="Content-Type">` or XML declaration in its first 4 KB — when the bytes
   decode in it (`declared`). Except: a page that declares any other charset but whose
   bytes are valid UTF-8 with non-ASCII in them is read as UTF-8 (`utf8_over_declared`).
   Multi-byte UTF-8 sequences almost never occur by chance in legacy text, while pages
   re-saved as UTF-8 under an old template's declaration are common; read with the
   declaration they lose every non-ASCII character.
3. Nothing declared (or no declaration fits the bytes): strict UTF-8 (`utf8`), else
   charset-normalizer's best guess, windows-1252 on a tie (`detected`).
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.\-]+)""")
# Browsers decode these labels as windows-1252 (WHATWG Encoding Standard); so do we.
_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
            "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252"}
_UTF8 = "utf-8"

# How the charset was decided: the values of Decoded.how (counted as charset_<how>).
BOM = "bom"
DECLARED = "declared"
UTF8_OVER_DECLARED = "utf8_over_declared"
UTF8 = "utf8"
DETECTED = "detected"
WINDOWS_1252_CHAOS_MARGIN = 0.05


class Decoded(NamedTuple):
    text: str
    how: str  # one of BOM, DECLARED, UTF8_OVER_DECLARED, UTF8, DETECTED
    encoding: str  # the Python codec name used


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can determine (binary content)."""


def _utf8_with_non_ascii(raw: bytes) -> str | None:
    """The strict UTF-8 decode of `raw` when it has non-ASCII bytes and is valid UTF-8."""
    if raw.isascii():
        return None
    try:
        return raw.decode(_UTF8)
    except UnicodeDecodeError:
        return None


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


def decode_page(raw: bytes, header_charset: str | None = None) -> Decoded:
    """Decode a page by the order of evidence in this module's docstring.

    Raises DecodeError when the content is binary or no encoding fits.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return Decoded(raw[len(codecs.BOM_UTF8):].decode(_UTF8, errors="replace"), BOM, _UTF8)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Decoded(raw.decode("utf-16", errors="replace"), BOM, "utf-16")
    if looks_binary(raw):
        raise DecodeError("binary content (NUL bytes)")
    utf8: str | None = None
    utf8_checked = False
    for label in (header_charset, sniff_declared_charset(raw)):
        codec = _codec(label)
        if codec is None or (codec.startswith(("utf-16", "utf-32")) and b"\x00" not in raw):
            continue  # unknown label, or UTF-16/32 declared over bytes with no NUL in them
        if codec != _UTF8:
            if not utf8_checked:
                utf8, utf8_checked = _utf8_with_non_ascii(raw), True
            if utf8 is not None:
                return Decoded(utf8, UTF8_OVER_DECLARED, _UTF8)
        try:
            return Decoded(raw.decode(codec), DECLARED, codec)
        except UnicodeDecodeError:
            continue  # the declaration does not fit the bytes: next evidence
    try:
        return Decoded(raw.decode(_UTF8), UTF8, _UTF8)
    except UnicodeDecodeError:
        pass
    encoding = _detect(raw)
    return Decoded(raw.decode(encoding, errors="replace"), DETECTED, encoding)


def _detect(raw: bytes) -> str:
    """charset-normalizer's best guess; windows-1252 when it is as plausible (within
    WINDOWS_1252_CHAOS_MARGIN of the best's chaos and at least as coherent). Western text
    fits several single-byte code pages equally well, and windows-1252 is the one the
    web's undeclared legacy pages use most (and browsers' default for them)."""
    results = from_bytes(raw[:200_000])
    best = results.best()
    if best is None:
        raise DecodeError("no text encoding fits the content")
    for match in results:
        if (match.encoding == "cp1252" and match.chaos <= best.chaos + WINDOWS_1252_CHAOS_MARGIN
                and match.coherence >= best.coherence):
            return "cp1252"
    return best.encoding


def decode_html(raw: bytes, header_charset: str | None = None) -> str:
    """The text of `decode_page` (for callers that do not record how it was decided)."""
    return decode_page(raw, header_charset).text
