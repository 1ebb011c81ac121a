"""The ``attention-atlas ingest`` argument list the ingest tests share (tiny model, local
labelled corpus, predictions and attention only unless ``--methods`` is passed again)."""

from __future__ import annotations

from pathlib import Path


def ingest_args(
    model: Path, corpus: Path, db_url: str, *extra: str, batch_size: int = 4
) -> list[str]:
    """``ingest`` arguments for ``model`` over ``corpus`` into ``db_url``; ``extra`` last, so a
    later ``--methods`` or ``--run`` overrides the defaults here."""
    return [
        "ingest",
        "--model",
        str(model),
        "--dataset",
        str(corpus),
        "--label-field",
        "label",
        "--db",
        db_url,
        "--methods",
        "none",
        "--batch-size",
        str(batch_size),
        *extra,
    ]
