"""gzip/deflate decompression with an output cap, so a compression bomb costs at most
the cap in memory (response bodies, gzipped sitemaps)."""

from __future__ import annotations

import zlib


class DecompressedTooLarge(ValueError):
    """Decompressed output exceeded its cap."""


class CappedDecoder:
    """gzip/deflate decompression that stops as soon as the output passes `limit`."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.size = 0
        self._raw_deflate_tried = False
        self._d = self._new()

    def _new(self) -> zlib._Decompress:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj()  # deflate: zlib-wrapped, raw fallback below

    def feed(self, chunk: bytes) -> bytes:
        out = bytearray()
        buf = chunk
        while buf:
            try:
                data = self._d.decompress(buf, self.limit - self.size + 1)
            except zlib.error:
                # Some servers send raw deflate for "deflate"; retry once that way.
                if self.encoding == "deflate" and not self._raw_deflate_tried and not self.size:
                    self._raw_deflate_tried = True
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            self.size += len(data)
            out += data
            if self.size > self.limit:
                raise DecompressedTooLarge(f"decompressed body over {self.limit} bytes")
            buf = self._d.unconsumed_tail
            if not buf and self._d.eof and self._d.unused_data:
                buf = self._d.unused_data  # concatenated gzip members
                self._d = self._new()
        return bytes(out)


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress gzip `data`, raising DecompressedTooLarge past `limit` bytes of output
    and zlib.error when it is not valid gzip."""
    return CappedDecoder("gzip", limit).feed(data)
