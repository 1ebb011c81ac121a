"""Attention Atlas: when do transformer attention weights agree with IG and SHAP attributions?

The installed package owns one import name, ``attention_atlas``; its subpackages are the
repository's top-level folders (pyproject.toml maps them with setuptools' ``package-dir``):
``attention_atlas.models`` (the schema and the method vocabulary), ``attention_atlas.db`` (engine,
migrations, queries, writers and ``db.analysis``), ``attention_atlas.ingest`` (the batch job and
the ``attention-atlas`` command) and ``attention_atlas.dashboard`` (the Dash app). Importing it is
cheap: nothing is loaded until a subpackage is imported.

``attention_atlas.open(url)`` opens a store read-only for pandas (``attention_atlas.db.api``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attention_atlas.db.api import Store


def open(url: str | None = None) -> Store:  # noqa: A001 (the read API's one entry point)
    """The store at ``url`` (a database URL or a SQLite file path), read-only: ``.runs()``,
    ``.run(name_or_id)``; see ``attention_atlas.db.api``. Raises ``StoreError``."""
    from attention_atlas.db.api import open_store

    return open_store(url)
