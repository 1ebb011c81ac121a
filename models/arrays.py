"""The one array column type: a numpy array stored as ``.npy`` bytes.

``np.save`` keeps dtype and shape inside the bytes, so an array read back is the array written,
on SQLite (BLOB) and PostgreSQL (BYTEA) alike. Large arrays (the full attention tensor) can be
zlib-compressed; the first byte says which, so reading never needs to be told.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

_RAW = b"N"
_ZLIB = b"Z"


def encode_array(array: np.ndarray, *, compress: bool = False) -> bytes:
    """Serialise ``array`` (any shape, any non-object dtype) to tagged ``.npy`` bytes."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)
    payload = buffer.getvalue()
    if compress:
        return _ZLIB + zlib.compress(payload, 1)
    return _RAW + payload


def decode_array(blob: bytes) -> np.ndarray:
    """Inverse of :func:`encode_array`."""
    tag, payload = blob[:1], blob[1:]
    if tag == _ZLIB:
        payload = zlib.decompress(payload)
    elif tag != _RAW:
        raise ValueError(f"not an Attention Atlas array blob (tag {tag!r})")
    return np.load(io.BytesIO(payload), allow_pickle=False)


class NumpyArray(TypeDecorator[np.ndarray]):
    """SQLAlchemy column type holding one numpy array (dtype and shape kept).

    ``dtype`` (optional) casts on write, e.g. ``NumpyArray(dtype="float16")`` for the full
    attention tensor; ``compress`` zlib-compresses on write.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, dtype: str | None = None, compress: bool = False) -> None:
        super().__init__()
        self.dtype = dtype
        self.compress = compress

    def process_bind_param(self, value, dialect):  # noqa: ANN001 - SQLAlchemy hook
        if value is None:
            return None
        array = np.asarray(value)
        if self.dtype is not None:
            array = array.astype(self.dtype, copy=False)
        return encode_array(array, compress=self.compress)

    def process_result_value(self, value, dialect):  # noqa: ANN001 - SQLAlchemy hook
        if value is None:
            return None
        return decode_array(bytes(value))
