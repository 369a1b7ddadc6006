"""Thrift compact protocol, generically: what a Parquet footer (``FileMetaData``) is
written in.

A struct decodes to a ``Struct``: its fields in the order they were written, each with
its field id, compact type and value, unknown fields included, so that ``encode(decode(b))
== b`` and a caller can change a few fields (offsets, counts) without a schema of the
rest. Containers keep their element types. Spec:
https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

# compact types
BOOL_TRUE, BOOL_FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)
_INTS = (I16, I32, I64)


@dataclass
class Field:
    id: int
    type: int  # a compact type; booleans are BOOL_TRUE (value True/False follows the type)
    value: Any


@dataclass
class Container:
    """A list or set (``type`` LIST or SET) of ``element_type`` values, or a map
    (``type`` MAP) whose ``items`` are (key, value) pairs."""

    type: int
    element_type: int
    items: list[Any] = field(default_factory=list)
    value_type: int = 0  # maps only


@dataclass
class Struct:
    fields: list[Field] = field(default_factory=list)

    def get(self, field_id: int, default: Any = None) -> Any:
        for f in self.fields:
            if f.id == field_id:
                return f.value
        return default

    def set(self, field_id: int, value: Any) -> None:
        """Replace the value of a field that is present (its type stays)."""
        for f in self.fields:
            if f.id == field_id:
                f.value = value
                return
        raise KeyError(field_id)

    def drop(self, *field_ids: int) -> None:
        self.fields = [f for f in self.fields if f.id not in field_ids]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, ctype: int) -> Any:
        if ctype in (BOOL_TRUE, BOOL_FALSE):  # inside a container: one byte, 1 = true
            return self.byte() == BOOL_TRUE
        if ctype == BYTE:
            return struct.unpack("<b", bytes([self.byte()]))[0]
        if ctype in _INTS:
            return self.zigzag()
        if ctype == DOUBLE:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if ctype == BINARY:
            n = self.varint()
            self.pos += n
            return self.data[self.pos - n:self.pos]
        if ctype in (LIST, SET):
            header = self.byte()
            size, etype = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return Container(ctype, etype, [self.value(etype) for _ in range(size)])
        if ctype == MAP:
            size = self.varint()
            if not size:
                return Container(MAP, 0, [])
            types = self.byte()
            ktype, vtype = types >> 4, types & 0x0F
            return Container(MAP, ktype, [(self.value(ktype), self.value(vtype)) for _ in range(size)], vtype)
        if ctype == STRUCT:
            return self.struct()
        raise ValueError(f"unknown thrift compact type {ctype} at byte {self.pos}")

    def struct(self) -> Struct:
        out = Struct()
        last = 0
        while True:
            header = self.byte()
            if header == 0:
                return out
            delta, ctype = header >> 4, header & 0x0F
            fid = last + delta if delta else self.zigzag()
            value = ctype == BOOL_TRUE if ctype in (BOOL_TRUE, BOOL_FALSE) else self.value(ctype)
            out.fields.append(Field(fid, BOOL_TRUE if ctype in (BOOL_TRUE, BOOL_FALSE) else ctype, value))
            last = fid


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, n: int) -> None:
        while n > 0x7F:
            self.out.append((n & 0x7F) | 0x80)
            n >>= 7
        self.out.append(n)

    def zigzag(self, n: int) -> None:
        self.varint((n << 1) ^ (n >> 63))

    def value(self, ctype: int, value: Any) -> None:
        if ctype in (BOOL_TRUE, BOOL_FALSE):
            self.out.append(BOOL_TRUE if value else BOOL_FALSE)
        elif ctype == BYTE:
            self.out += struct.pack("<b", value)
        elif ctype in _INTS:
            self.zigzag(value)
        elif ctype == DOUBLE:
            self.out += struct.pack("<d", value)
        elif ctype == BINARY:
            self.varint(len(value))
            self.out += value
        elif ctype in (LIST, SET):
            size = len(value.items)
            if size < 15:
                self.out.append((size << 4) | value.element_type)
            else:
                self.out.append(0xF0 | value.element_type)
                self.varint(size)
            for item in value.items:
                self.value(value.element_type, item)
        elif ctype == MAP:
            self.varint(len(value.items))
            if value.items:
                self.out.append((value.element_type << 4) | value.value_type)
            for k, v in value.items:
                self.value(value.element_type, k)
                self.value(value.value_type, v)
        elif ctype == STRUCT:
            self.struct(value)
        else:
            raise ValueError(f"unknown thrift compact type {ctype}")

    def struct(self, s: Struct) -> None:
        last = 0
        for f in s.fields:
            ctype = (BOOL_TRUE if f.value else BOOL_FALSE) if f.type in (BOOL_TRUE, BOOL_FALSE) else f.type
            delta = f.id - last
            if 0 < delta <= 15:
                self.out.append((delta << 4) | ctype)
            else:
                self.out.append(ctype)
                self.zigzag(f.id)
            if f.type not in (BOOL_TRUE, BOOL_FALSE):
                self.value(f.type, f.value)
            last = f.id
        self.out.append(0)


def decode_struct(data: bytes) -> tuple[Struct, int]:
    """The struct at the start of ``data`` and how many bytes it took."""
    reader = _Reader(data)
    return reader.struct(), reader.pos


def encode_struct(s: Struct) -> bytes:
    writer = _Writer()
    writer.struct(s)
    return bytes(writer.out)
