"""SQLAlchemy models of the Attention Atlas store (the schema and its array column type)."""

from attention_atlas.models.arrays import NumpyArray, decode_array, encode_array
from attention_atlas.models.schema import (
    Agreement,
    Attention,
    Attribution,
    Base,
    Example,
    Faithfulness,
    HeadScore,
    Note,
    NoteTag,
    Plausibility,
    Rationale,
    Run,
    RunShard,
    SavedView,
    StackAttention,
    TopVector,
)

__all__ = [
    "Agreement",
    "Attention",
    "Attribution",
    "Base",
    "Example",
    "Faithfulness",
    "HeadScore",
    "Note",
    "NoteTag",
    "NumpyArray",
    "Plausibility",
    "Rationale",
    "Run",
    "SavedView",
    "RunShard",
    "StackAttention",
    "TopVector",
    "decode_array",
    "encode_array",
]
