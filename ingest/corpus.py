"""Corpus sources: a hub dataset, a local table file, or a ``save_to_disk`` folder.

Whatever the source, the result is a :class:`Corpus`: the selected rows as
``(source_index, text, label)`` where ``source_index`` is the row's index in the source (what
makes ingest resumable), plus label names when the data has them; when ``text_field`` names two
columns (``premise,hypothesis``: a sentence-pair corpus) each item has a ``text_pair`` too.
Empty and whitespace-only texts (either text of a pair) are skipped and counted. Selection is
deterministic: ``--sample N --seed S`` draws the same rows every time, ``--limit N`` keeps the
first N of the (sampled) rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attention_atlas.ingest.rationales import RationaleError, Spans, parse_rationale

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")


class CorpusError(ValueError):
    """A dataset, file, split or field that cannot be used (a user error: exit code 2)."""


@dataclass(frozen=True)
class CorpusItem:
    source_index: int
    text: str
    label: int | None
    rationale: Spans | None = None  # character spans a human marked (--rationale-field)
    text_pair: str | None = None  # the second text of a sentence pair (e.g. the hypothesis)


@dataclass(frozen=True)
class Corpus:
    """Selected rows of a source. ``n_source`` counts selected rows, including the
    ``n_skipped`` empty ones that are not in ``items``."""

    source: str
    split: str | None
    items: tuple[CorpusItem, ...]
    n_source: int
    n_skipped: int
    label_names: tuple[str, ...] | None  # from the data (ClassLabel), None if it has none

    def __iter__(self) -> Iterator[tuple[int, str, int | None]]:
        for item in self.items:
            yield item.source_index, item.text, item.label


@dataclass(frozen=True)
class _Table:
    columns: tuple[str, ...]
    column: Any  # callable name -> list of values
    n_rows: int
    label_names: dict[str, tuple[str, ...]]  # ClassLabel names per column
    split: str | None


def text_fields(text_field: str) -> tuple[str, ...]:
    """``--text-field`` as its columns: one (``text``) or two (``premise,hypothesis``)."""
    fields = tuple(part.strip() for part in text_field.split(","))
    if not 1 <= len(fields) <= 2 or not all(fields):
        raise CorpusError(
            f"--text-field takes one column or two separated by a comma, got {text_field!r}"
        )
    return fields


def load_corpus(
    source: str,
    *,
    split: str | None = None,
    text_field: str = "text",
    label_field: str | None = None,
    label_names: Sequence[str] | None = None,
    limit: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    rationale_field: str | None = None,
    rationale_format: str = "chars",
) -> Corpus:
    """Load and select rows of ``source``; raises :class:`CorpusError` on user errors.

    ``label_names`` (from ``--labels``) maps string labels to class ids and overrides names
    from the data. ``text_field`` may name two columns (``premise,hypothesis``).
    ``rationale_field`` names a column of human rationales in ``rationale_format``
    (``ingest.rationales``); a malformed one is an error naming its row."""
    fields = text_fields(text_field)
    if rationale_field is not None and len(fields) == 2:
        raise CorpusError("--rationale-field takes one --text-field, not a sentence pair")
    table = _open(source, split)
    roles: list[tuple[str | None, str]] = [(name, "text") for name in fields]
    roles += [(label_field, "label"), (rationale_field, "rationale")]
    for name, role in roles:
        if name is not None and name not in table.columns:
            raise CorpusError(
                f"{role} field {name!r} not in {source} (columns: {', '.join(table.columns)})"
            )
    indexes = _select(table.n_rows, limit=limit, sample=sample, seed=seed)
    names = tuple(label_names) if label_names else table.label_names.get(label_field or "")
    columns = [table.column(name) for name in fields]
    labels = table.column(label_field) if label_field else None
    rationales = table.column(rationale_field) if rationale_field else None
    items, skipped = [], 0
    for index in indexes:
        texts = [column[index] for column in columns]
        if not all(isinstance(text, str) and text.strip() for text in texts):
            skipped += 1
            continue
        label = _label(labels[index], names, label_field) if labels is not None else None
        marked = None
        if rationales is not None:
            marked = _rationale(
                rationales[index], texts[0], rationale_format, index, rationale_field
            )
        pair = texts[1] if len(texts) == 2 else None
        items.append(CorpusItem(int(index), texts[0], label, marked, text_pair=pair))
    if not items:
        raise CorpusError(f"no non-empty texts in {source} ({len(indexes)} rows selected)")
    return Corpus(source, table.split, tuple(items), len(indexes), skipped, names or None)


def _select(n_rows: int, *, limit: int | None, sample: int | None, seed: int) -> list[int]:
    indexes = np.arange(n_rows)
    if sample is not None and sample < n_rows:
        rng = np.random.default_rng(seed)
        indexes = np.sort(rng.choice(n_rows, size=sample, replace=False))
    if limit is not None:
        indexes = indexes[:limit]
    return [int(i) for i in indexes]


def _label(value: Any, names: tuple[str, ...] | None, field: str | None) -> int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        if value.strip().lstrip("-").isdigit():
            value = int(value)
        elif names and value in names:
            return names.index(value)
        else:
            raise CorpusError(
                f"label {value!r} in field {field!r} is not a class id or one of the label "
                f"names ({', '.join(names) if names else 'none given; use --labels'})"
            )
    label = int(value)
    return None if label < 0 else label  # -1 marks unlabeled rows in hub datasets


def _rationale(value: Any, text: str, fmt: str, row: int, field: str | None) -> Spans | None:
    try:
        return parse_rationale(value, text, fmt)
    except RationaleError as exc:
        raise CorpusError(
            f"rationale in row {row} (field {field!r}, format {fmt}): {exc}"
        ) from None


# -- sources ------------------------------------------------------------------------------
def _open(source: str, split: str | None) -> _Table:
    path = Path(source).expanduser()
    if path.is_dir():
        return _open_saved(path, split)
    if path.suffix.lower() in TABLE_SUFFIXES or path.exists():
        if not path.exists():
            raise CorpusError(f"dataset file {source} does not exist")
        return _open_file(path)
    if source.startswith((".", "/", "~")):
        raise CorpusError(f"dataset path {source} does not exist")
    return _open_hub(source, split)


def _open_file(path: Path) -> _Table:
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".tsv":
            frame = _read_tsv(path)
        elif suffix == ".csv":
            frame = pd.read_csv(path, keep_default_na=False)
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=suffix == ".jsonl", dtype=False)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raise CorpusError(f"unsupported file type {suffix!r}; use one of {TABLE_SUFFIXES}")
    except CorpusError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors: a bad file is a user error
        raise CorpusError(f"cannot read {path}: {_first_line(exc)}") from exc
    return _Table(
        columns=tuple(str(c) for c in frame.columns),
        column=lambda name: frame[name].tolist(),
        n_rows=len(frame),
        label_names={},
        split=None,
    )


def _read_tsv(path: Path) -> Any:
    """GLUE-style TSV has no quoting (texts contain stray quotes); TSV written by pandas or
    spreadsheets quotes fields that hold tabs. Try the first, fall back to the second."""
    import pandas as pd

    try:
        return pd.read_csv(path, sep="\t", quoting=3, keep_default_na=False)
    except pd.errors.ParserError:
        return pd.read_csv(path, sep="\t", keep_default_na=False)


def _open_saved(path: Path, split: str | None) -> _Table:
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise CorpusError(f"cannot load dataset folder {path}: {_first_line(exc)}") from exc
    if isinstance(loaded, datasets.DatasetDict):
        if split is None and len(loaded) == 1:
            split = next(iter(loaded))
        if split not in loaded:
            raise CorpusError(
                f"split {split!r} not in {path} (splits: {', '.join(loaded)}); use --split"
            )
        loaded = loaded[split]
    return _from_dataset(loaded, split)


def _open_hub(source: str, split: str | None) -> _Table:
    import datasets

    split = split or "test"
    try:
        loaded = datasets.load_dataset(source, split=split)
    except Exception as exc:  # not found, offline, no such split: all user-facing
        raise CorpusError(
            f"cannot load dataset {source!r} split {split!r}: {_first_line(exc)}"
        ) from exc
    return _from_dataset(loaded, split)


def _from_dataset(dataset: Any, split: str | None) -> _Table:
    import datasets

    names = {
        column: tuple(feature.names)
        for column, feature in dataset.features.items()
        if isinstance(feature, datasets.ClassLabel)
    }
    return _Table(
        columns=tuple(dataset.column_names),
        column=lambda name: list(dataset[name]),
        n_rows=len(dataset),
        label_names=names,
        split=split,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
