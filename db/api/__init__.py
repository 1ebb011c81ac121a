"""Read a store from Python: ``attention_atlas.open(url)`` -> :class:`Store` -> ``store.run(...)``
-> :class:`RunReader`, whose methods return pandas DataFrames (and numpy arrays) over the
dashboard's corpus filter. Pure read side: SQLAlchemy, numpy and pandas only, no ML stack.

``store.py`` opens the store and finds runs; ``reader.py`` runs every read and owns
:class:`StoreError`; ``run.py`` is one run's tables; ``frames.py``
holds their SQL reads and frame builders.
"""

from attention_atlas.db.api.reader import StoreError
from attention_atlas.db.api.run import AttentionRows, RunReader
from attention_atlas.db.api.store import Store, open_store

__all__ = ["AttentionRows", "RunReader", "Store", "StoreError", "open_store"]
