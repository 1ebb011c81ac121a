"""SQLAlchemy models of the Attention Atlas store (the schema and its array column type)."""

from models.arrays import NumpyArray, decode_array, encode_array
from models.schema import (
    Agreement,
    Attention,
    Attribution,
    Base,
    Example,
    Faithfulness,
    HeadScore,
    Run,
)

__all__ = [
    "Agreement",
    "Attention",
    "Attribution",
    "Base",
    "Example",
    "Faithfulness",
    "HeadScore",
    "NumpyArray",
    "Run",
    "decode_array",
    "encode_array",
]
