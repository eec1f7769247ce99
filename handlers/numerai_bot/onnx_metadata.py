"""An ONNX file's ``metadata_props`` (the bot's metadata), read from its bytes alone.

Why not onnx or protobuf's generated classes: the onnx package is not in the Lambda package,
and parsing a ModelProto parses its whole graph (21 MB for 20,000 trees) to reach a few
strings. Reading the top-level fields of the protobuf wire format and skipping the graph by
its length takes microseconds, so the worker knows a model's features before its session is
built, and reads the live columns while onnxruntime builds it.
"""

from __future__ import annotations

from numerai_bot.errors import ModelError

GRAPH = 7  # ModelProto.graph: every model has one
METADATA_PROPS = 14  # ModelProto.metadata_props: repeated StringStringEntryProto
KEY, VALUE = 1, 2  # StringStringEntryProto.key, .value
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5  # the wire types a ModelProto uses


def metadata_props(data: bytes) -> dict[str, str]:
    """``metadata_props`` of a serialised ONNX ModelProto, as onnxruntime's
    ``custom_metadata_map`` gives them (the last value wins for a repeated key)."""
    props: dict[str, str] = {}
    fields = _fields(memoryview(data))
    if not any(field == GRAPH for field, _ in fields):
        raise ModelError("the file is not an ONNX model (it has no graph)")
    for field, value in fields:
        if field == METADATA_PROPS and isinstance(value, memoryview):
            entry = {f: v for f, v in _fields(value) if isinstance(v, memoryview)}
            key = _text(entry.get(KEY))
            props[key] = _text(entry.get(VALUE))
    return props


def _fields(data: memoryview) -> list[tuple[int, memoryview | int]]:
    """The (field number, value) pairs of one message: length-delimited values as views."""
    out: list[tuple[int, memoryview | int]] = []
    position, end = 0, len(data)
    while position < end:
        tag, position = _varint(data, position)
        field, wire = tag >> 3, tag & 7
        if wire == VARINT:
            value, position = _varint(data, position)
            out.append((field, value))
        elif wire == LENGTH:
            size, position = _varint(data, position)
            if position + size > end:
                raise ModelError(
                    "the file is not a complete ONNX model (a field runs past its end)"
                )
            out.append((field, data[position : position + size]))
            position += size
        elif wire in (FIXED64, FIXED32):
            position += 8 if wire == FIXED64 else 4
        else:
            raise ModelError(f"the file is not an ONNX model (protobuf wire type {wire})")
    if position != end:
        raise ModelError("the file is not a complete ONNX model (it ends inside a field)")
    return out


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ModelError("the file is not an ONNX model (a malformed number)")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def _text(value: memoryview | None) -> str:
    if value is None:
        return ""
    try:
        return bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise ModelError("the file's metadata is not UTF-8 text") from None
