"""The store's schema: SQLAlchemy 2.0 typed declarative models, nothing else.

One run = one checkpoint over one corpus with one set of settings. Everything below a run hangs
off ``examples``; filterable numbers are plain indexed columns, arrays use :class:`NumpyArray`.
Token-aligned arrays all have length ``Example.length`` (the stored token sequence).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from attention_atlas.models.arrays import NumpyArray

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, np.ndarray: NumpyArray()}


class Run(Base):
    """One ingest: checkpoint x corpus x settings. ``settings`` holds every choice that changes
    the numbers (max length, methods, IG steps and baseline, SHAP evaluations, explained output,
    seed, prompt, ...) so the dashboard can show exactly what was computed."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    checkpoint: Mapped[str] = mapped_column(String(500))
    revision: Mapped[str | None] = mapped_column(String(100))
    # encoder | decoder | zero_shot | encoder_decoder
    adapter: Mapped[str] = mapped_column(String(20))
    dataset: Mapped[str] = mapped_column(String(500))
    split: Mapped[str | None] = mapped_column(String(100))
    text_field: Mapped[str] = mapped_column(String(100))
    label_field: Mapped[str | None] = mapped_column(String(100))
    label_names: Mapped[list[str]] = mapped_column(JSON)
    methods: Mapped[list[str]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    num_layers: Mapped[int] = mapped_column(Integer)
    num_heads: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|complete
    n_source: Mapped[int] = mapped_column(Integer, default=0)  # examples selected from the corpus
    n_done: Mapped[int] = mapped_column(Integer, default=0)
    n_skipped: Mapped[int] = mapped_column(Integer, default=0)  # empty / whitespace-only texts
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # compute time over all sessions
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)

    examples: Mapped[list[Example]] = relationship(back_populates="run", lazy="raise")


class Example(Base):
    """One corpus item as the model saw it. ``special_mask`` is True for tokens that are not
    from the text (tokenizer specials, and the prompt template in zero-shot runs); comparisons
    skip them by default. ``offsets`` are character spans into ``text`` ((0, 0) for specials);
    ``word_ids`` map tokens to words (-1 for specials). A sentence pair's second text is
    ``text_pair``; its tokens start at ``pair_start`` and their offsets index ``text_pair``."""

    __tablename__ = "examples"
    __table_args__ = (
        UniqueConstraint("run_id", "source_index"),
        # covering index of the corpus filter: a run's filterable columns in id order, read
        # without touching the rows (whose blobs push these columns into overflow pages)
        Index(
            "ix_examples_run_filter",
            "run_id",
            "id",
            "label",
            "prediction",
            "correct",
            "length",
            "confidence",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    source_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[list[str]] = mapped_column(JSON)
    offsets: Mapped[np.ndarray] = mapped_column(NumpyArray("int32"))  # [tokens, 2]
    special_mask: Mapped[np.ndarray] = mapped_column(NumpyArray("bool"))  # [tokens]
    word_ids: Mapped[np.ndarray] = mapped_column(NumpyArray("int32"))  # [tokens]
    label: Mapped[int | None] = mapped_column(Integer, index=True)
    prediction: Mapped[int] = mapped_column(Integer, index=True)
    probabilities: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))  # [classes]
    confidence: Mapped[float] = mapped_column(Float, index=True)  # probability of prediction
    correct: Mapped[bool | None] = mapped_column(Boolean, index=True)
    length: Mapped[int] = mapped_column(Integer, index=True)  # stored tokens
    prediction_position: Mapped[int] = mapped_column(Integer)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    # sentence pairs (revision 0007): the second text, whose tokens' ``offsets`` are spans into
    # it, and the position of its first token; None for single texts and older rows
    text_pair: Mapped[str | None] = mapped_column(Text)
    pair_start: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[Run] = relationship(back_populates="examples", lazy="raise")


class Attention(Base):
    """Attention of one example: the prediction position's rows for every layer and head
    ([layers, heads, tokens], always) and the full tensor ([layers, heads, tokens, tokens]) for
    examples up to the run's length cap, both float16 and compressed. The rows are probabilities
    shown on the example page; every number derived from them (head grids, shares) is computed
    at ingest from the float32 rows before they are stored. Rows written by earlier versions
    are float32 and read back as float32."""

    __tablename__ = "attention"

    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), primary_key=True
    )
    rows: Mapped[np.ndarray] = mapped_column(NumpyArray("float16", compress=True))
    full: Mapped[np.ndarray | None] = mapped_column(NumpyArray("float16", compress=True))
    # share of each head's prediction-row attention on the first token and on all non-content
    # tokens ([layers, heads]): precomputed so the heads page never decodes ``rows`` in bulk
    first_share: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))
    special_share: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))


class StackAttention(Base):
    """An encoder-decoder example's other attention stacks (``decoder``: the decoder's
    self-attention, ``cross``: the cross-attention), laid out as :class:`Attention` holds the
    encoder's: prediction-position rows [layers, heads, tokens], the full tensor up to the
    run's length cap, and the per-head shares. Decoder positions are the input's (position j is
    where the decoder re-generates input token j), so every array is token-aligned. Runs of
    one-stack models have no rows here."""

    __tablename__ = "stack_attention"

    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), primary_key=True
    )
    stack: Mapped[str] = mapped_column(String(20), primary_key=True)
    rows: Mapped[np.ndarray] = mapped_column(NumpyArray("float16", compress=True))
    full: Mapped[np.ndarray | None] = mapped_column(NumpyArray("float16", compress=True))
    first_share: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))
    special_share: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))


class Attribution(Base):
    """Token scores of one method for one example ([tokens], float32, signed where the method
    is). ``check`` is the method's own quality signal: IG completeness delta, SHAP additivity
    gap; None where the method has none."""

    __tablename__ = "attributions"
    __table_args__ = (UniqueConstraint("example_id", "method"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(40), index=True)
    scores: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))
    check: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    # sentence pairs (revision 0007): share of |scores| over the content tokens on the second
    # text (the first text's is 1 - it); None for single texts and older rows
    pair_share: Mapped[float | None] = mapped_column(Float)


class Agreement(Base):
    """Rank agreement of two methods on one example (non-special tokens by default).
    ``method_a`` < ``method_b`` in registry order; ``run_id`` is repeated here so corpus
    filters are one indexed query."""

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("example_id", "method_a", "method_b"),
        # covering index of the corpus filter: one pair of one run is a contiguous range in
        # example order holding every measure, so a filter or sort on any measure, and the
        # join to examples, never reads the table (it replaces one index per measure)
        Index(
            "ix_agreements_run_pair",
            "run_id",
            "method_a",
            "method_b",
            "example_id",
            "spearman",
            "kendall",
            "spearman_signed",
            "kendall_signed",
            "jaccard_5",
            "jaccard_10pct",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    method_a: Mapped[str] = mapped_column(String(40))
    method_b: Mapped[str] = mapped_column(String(40))
    spearman: Mapped[float | None] = mapped_column(Float)  # on |scores|
    kendall: Mapped[float | None] = mapped_column(Float)
    spearman_signed: Mapped[float | None] = mapped_column(Float)
    kendall_signed: Mapped[float | None] = mapped_column(Float)
    jaccard_5: Mapped[float | None] = mapped_column(Float)  # top-5 tokens
    jaccard_10pct: Mapped[float | None] = mapped_column(Float)  # top 10% of tokens


class HeadScore(Base):
    """[layers, heads] grid of Spearman rho between each head's prediction-position attention
    row and a reference method's absolute scores (non-special tokens), for one example.
    ``reference`` is the method id for the run's main stack, ``ig@cross`` for another stack of
    an encoder-decoder run (``vocabulary.stack_reference``)."""

    __tablename__ = "head_scores"
    __table_args__ = (UniqueConstraint("example_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(40))
    grid: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))
    # [layers, heads] share of each head's prediction row on the reference's top-10% tokens;
    # None in rows stored before revision 0008
    top_share: Mapped[np.ndarray | None] = mapped_column(NumpyArray("float32"))


class HeadStat(Base):
    """Per-head arrays of one example ([layers, heads] float32): causal importance of each
    head (``gradient``: |d explained output / d gate| with a gate on the head's output, Michel
    et al. 2019; ``ablation``: the predicted class's probability drop with the head's output
    zeroed, opt-in, else None), its role statistics (``roles`` [layers, heads, 5], in
    ``db.analysis.head_roles.ROLE_STATS`` order) and the share of its prediction row on frame
    and punctuation tokens. ``gradient`` is None where the architecture's heads could not be
    gated. Examples stored before revision 0008 have no row."""

    __tablename__ = "head_stats"

    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    gradient: Mapped[np.ndarray | None] = mapped_column(NumpyArray("float32"))
    ablation: Mapped[np.ndarray | None] = mapped_column(NumpyArray("float32"))
    roles: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))
    structure_share: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))


class Faithfulness(Base):
    """ERASER faithfulness of one method's ranking on one example (``method='random'`` is the
    seeded random-order baseline). ``comprehensiveness``/``sufficiency`` are the means (AOPC)
    over the fractions in ``fractions``; ``deletion`` is the probability of the originally
    predicted class after removing the top-k tokens, k = 0..K."""

    __tablename__ = "faithfulness"
    __table_args__ = (
        UniqueConstraint("example_id", "method"),
        # covering index of the per-filter means: (run, method) ranges in example order
        Index(
            "ix_faithfulness_run_method",
            "run_id",
            "method",
            "example_id",
            "comprehensiveness",
            "sufficiency",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(40), index=True)
    comprehensiveness: Mapped[float] = mapped_column(Float, index=True)
    sufficiency: Mapped[float] = mapped_column(Float, index=True)
    fractions: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))  # [F]
    comprehensiveness_at: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))  # [F]
    sufficiency_at: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))  # [F]
    deletion: Mapped[np.ndarray] = mapped_column(NumpyArray("float32"))  # [K + 1]
    # whether the predicted class is unchanged after removing the top-k tokens ([K + 1]); the
    # accuracy curve of Karpekov & Miller. None in rows stored before revision 0003.
    deletion_same: Mapped[np.ndarray | None] = mapped_column(NumpyArray("bool"))
    # signed methods only: the same after removing the k tokens that push most toward another
    # class (most negative scores first), the "bottom" strategy; None for unsigned methods
    deletion_bottom: Mapped[np.ndarray | None] = mapped_column(NumpyArray("float32"))
    deletion_bottom_same: Mapped[np.ndarray | None] = mapped_column(NumpyArray("bool"))


class TopVector(Base):
    """Mean last-layer hidden vector of one method's top-5 content tokens on one example
    ([hidden], float16): the input of the consistency test (Liu et al. 2021), whose silhouette
    over the two classes is computed on the faithfulness page."""

    __tablename__ = "top_vectors"
    __table_args__ = (
        UniqueConstraint("example_id", "method"),
        Index("ix_top_vectors_run_method", "run_id", "method", "example_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(40))
    vector: Mapped[np.ndarray] = mapped_column(NumpyArray("float16"))


class Rationale(Base):
    """A human rationale over one example's tokens (``ingest --rationale-field``): ``mask``
    [tokens] bool (never a special or prompt token), ``marked`` its count, ``cut`` how many
    marked characters truncation cut off. Examples without a rationale have no row."""

    __tablename__ = "rationales"

    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    mask: Mapped[np.ndarray] = mapped_column(NumpyArray("bool"))
    marked: Mapped[int] = mapped_column(Integer)
    cut: Mapped[int] = mapped_column(Integer, default=0)


class Plausibility(Base):
    """Agreement of one method's scores with the example's human rationale (ERASER):
    ``auprc`` of the soft scores, ``token_f1`` and ``iou_f1`` of the top-k tokens, k = marked
    tokens (``method='random'``: a seeded random order, the baseline). Rows exist only for
    examples whose rationale kept at least one token."""

    __tablename__ = "plausibility"
    __table_args__ = (
        UniqueConstraint("example_id", "method"),
        # covering index of the corpus filter and the per-filter means, as for faithfulness
        Index(
            "ix_plausibility_run_method",
            "run_id",
            "method",
            "example_id",
            "auprc",
            "token_f1",
            "iou_f1",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(40))
    auprc: Mapped[float | None] = mapped_column(Float)
    token_f1: Mapped[float | None] = mapped_column(Float)
    iou_f1: Mapped[float | None] = mapped_column(Float)


# -- the reading-group layer: the only tables the dashboard writes ------------------------
class Note(Base):
    """A reader's note on one example, Markdown ``body``, written from the view ``view`` (the
    page URL, path and query, it was written on)."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    view: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)

    tags: Mapped[list[NoteTag]] = relationship(
        back_populates="note", cascade="all, delete-orphan", lazy="selectin"
    )


class NoteTag(Base):
    """One tag (a free word: ``negation``, ``sink-head``) of one note."""

    __tablename__ = "note_tags"

    note_id: Mapped[int] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)

    note: Mapped[Note] = relationship(back_populates="tags")


class SavedView(Base):
    """A named dashboard URL (any page, with its state) a reading group wants to come back to."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2000))
    author: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class RunShard(Base):
    """One shard of a run ingested as N processes (``ingest --shard I/N``): which shards have
    finished, so the run is ``complete`` when the last one does and ``runs`` shows the count."""

    __tablename__ = "run_shards"
    __table_args__ = (UniqueConstraint("run_id", "shard_index", "shard_count"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    shard_index: Mapped[int] = mapped_column(Integer)
    shard_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running|complete
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
