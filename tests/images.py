"""Real image bytes for tests: BookStack (and the validator) sniff image content, not file names."""

from __future__ import annotations

import struct
import zlib


def png(colour: tuple[int, int, int] = (200, 30, 30), width: int = 2, height: int = 2) -> bytes:
    """A valid PNG of one colour, built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = (b"\x00" + bytes(colour) * width) * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
