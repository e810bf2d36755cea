"""The on-disk form of a latency sketch: a few dozen bytes of varints, and a strict decoder.

A year of hourly roll-ups is millions of rows, so the sketch in each row must be
small; and the file outlives the code and can be damaged, so decoding must
refuse anything malformed with :class:`SketchError` instead of crashing or
allocating without bound.

Layout (integers are unsigned LEB128 varints of at most 10 bytes)::

    tag       1 byte: 0x01 sparse, 0x02 packed (anything else is refused)
    max_us    varint: the maximum latency, in whole microseconds
    sparse:   varint n, then n pairs of varints (gap, count - 1), where gap is
              index - previous index - 1 and the first pair's previous index is -1
    packed:   varint first index, varint n, 1 byte width w (1..8), then the counts
              of buckets first..first+n-1 as w-bit fields (little-endian bit
              order, ceil(n * w / 8) bytes); a field of all ones is an escape whose
              count is 2**w - 1 plus the next varint of a list after the fields

The encoder writes the shortest form: packed with a width chosen for the counts
wins when most buckets between the fastest and the slowest run are used (an hour
of one check: about 18 bytes for 60 runs), sparse when they are scattered.
Nothing is signed, so no zigzag step is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["MAX_MICROSECONDS", "SketchError", "decode", "encode"]

SPARSE: Final = 0x01
PACKED: Final = 0x02
MAX_MICROSECONDS: Final = (1 << 63) - 1
"""Largest maximum the format holds (about 292,000 years); larger ones are clamped."""
_MAX_VARINT_BYTES: Final = 10
_WIDTHS: Final = range(1, 9)


class SketchError(ValueError):
    """Bytes that are not a sketch this code can read (damaged, truncated or foreign)."""


def _put(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _size(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _packed_size(descending: list[int], span: int, width: int) -> int:
    """Bytes of the packed fields and escapes; ``descending`` are the counts, largest first."""
    escape = (1 << width) - 1
    size = (span * width + 7) // 8
    for count in descending:
        if count < escape:
            break
        rest = count - escape
        size += 1 if rest < 0x80 else _size(rest)
    return size


def _sparse(out: bytearray, counts: Mapping[int, int], indexes: list[int]) -> None:
    _put(out, len(indexes))
    previous = -1
    for index in indexes:
        _put(out, index - previous - 1)
        _put(out, counts[index] - 1)
        previous = index


def _packed(out: bytearray, first: int, row: list[int], width: int) -> None:
    _put(out, first)
    _put(out, len(row))
    out.append(width)
    escape = (1 << width) - 1
    fields = 0
    escaped: list[int] = []
    for position, count in enumerate(row):
        if count >= escape:
            escaped.append(count - escape)
        fields |= min(count, escape) << (position * width)
    out += fields.to_bytes((len(row) * width + 7) // 8, "little")
    for value in escaped:
        _put(out, value)


def encode(counts: Mapping[int, int], max_us: int, *, max_index: int) -> bytes:
    """The shortest form of ``counts`` (bucket index → count; zeros are ignored)."""
    if not 0 <= max_us <= MAX_MICROSECONDS:
        raise ValueError(f"max_us out of range: {max_us}")
    indexes = sorted(index for index, count in counts.items() if count > 0)
    if any(not 0 <= index <= max_index for index in indexes):
        raise ValueError(f"bucket index outside 0..{max_index}")
    out = bytearray()
    sparse_size = _size(len(indexes))
    previous = -1
    for index in indexes:
        gap, rest = index - previous - 1, counts[index] - 1
        sparse_size += (1 if gap < 0x80 else _size(gap)) + (1 if rest < 0x80 else _size(rest))
        previous = index
    if indexes:
        first = indexes[0]
        row = [max(0, counts.get(index, 0)) for index in range(first, indexes[-1] + 1)]
        descending = sorted((counts[index] for index in indexes), reverse=True)
        width = min(_WIDTHS, key=lambda w: _packed_size(descending, len(row), w))
        packed_size = _size(first) + _size(len(row)) + 1 + _packed_size(descending, len(row), width)
        if packed_size < sparse_size:
            out.append(PACKED)
            _put(out, max_us)
            _packed(out, first, row, width)
            return bytes(out)
    out.append(SPARSE)
    _put(out, max_us)
    _sparse(out, counts, indexes)
    return bytes(out)


class _Reader:
    """Reads bytes and varints from ``data``, refusing truncated or overlong ones."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, size: int, what: str) -> bytes:
        if self._pos + size > len(self._data):
            raise SketchError(f"truncated sketch (reading {what})")
        chunk = self._data[self._pos : self._pos + size]
        self._pos += size
        return chunk

    def varint(self, what: str) -> int:
        value = 0
        for shift in range(0, 7 * _MAX_VARINT_BYTES, 7):
            byte = self.take(1, what)[0]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
        raise SketchError(f"overlong varint (reading {what})")

    def at_end(self) -> bool:
        return self._pos == len(self._data)


def _read_sparse(reader: _Reader, max_index: int) -> dict[int, int]:
    pairs = reader.varint("the bucket count")
    if pairs > max_index + 1:
        raise SketchError(f"{pairs} buckets; a sketch has at most {max_index + 1}")
    counts: dict[int, int] = {}
    index = -1
    for _ in range(pairs):
        index += reader.varint("a bucket gap") + 1
        if index > max_index:
            raise SketchError(f"bucket index {index} beyond {max_index}")
        counts[index] = reader.varint("a bucket count") + 1
    return counts


def _read_packed(reader: _Reader, max_index: int) -> dict[int, int]:
    first = reader.varint("the first bucket")
    span = reader.varint("the bucket span")
    if span == 0 or first + span - 1 > max_index:
        raise SketchError(f"buckets {first}..{first + span - 1} outside 0..{max_index}")
    width = reader.take(1, "the field width")[0]
    if width not in _WIDTHS:
        raise SketchError(f"field width {width} outside 1..8")
    fields = int.from_bytes(reader.take((span * width + 7) // 8, "the counts"), "little")
    escape = (1 << width) - 1
    counts: dict[int, int] = {}
    for position in range(span):
        count = (fields >> (position * width)) & escape
        if count == escape:
            count += reader.varint("an escaped count")
        if count:
            counts[first + position] = count
    return counts


def decode(data: object, *, max_index: int) -> tuple[dict[int, int], int]:
    """``(counts, max_us)`` from :func:`encode`'s bytes; :class:`SketchError` if malformed.

    ``data`` is whatever was read from the file: anything but bytes is refused too.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SketchError(f"a sketch is bytes, not {type(data).__name__}")
    reader = _Reader(bytes(data))
    tag = reader.take(1, "the format")[0]
    if tag not in (SPARSE, PACKED):
        raise SketchError(f"unknown sketch format 0x{tag:02x}")
    max_us = reader.varint("the maximum")
    if max_us > MAX_MICROSECONDS:
        raise SketchError(f"maximum out of range: {max_us}")
    counts = _read_sparse(reader, max_index) if tag == SPARSE else _read_packed(reader, max_index)
    if not reader.at_end():
        raise SketchError("trailing bytes after the sketch")
    return counts, max_us
