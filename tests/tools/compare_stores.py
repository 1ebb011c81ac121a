"""Compare the stored numbers of two SQLite stores of the same run, cell by cell.

    python tests/tools/compare_stores.py OLD.db NEW.db   (SQLite files or database URLs)

For a refactor that must not change results: ingest the same fixed run with the old code (a
``git worktree`` of the old commit, ``PYTHONPATH`` set to it) and with the new, then compare.
Rows are matched by the example's source index (and method / method pair / reference); every
column both stores have is compared, ids and timings excepted. Array cells that differ only in
dtype (a column now stored narrower) count as equal when the old values cast to the new dtype
are the new values exactly. Prints one line per table; exit code 0 when everything is equal.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from sqlalchemy import create_engine, text

from attention_atlas.db.engine import resolve_url
from attention_atlas.models.arrays import decode_array

SKIP = {"id", "run_id", "example_id", "seconds", "created_at", "updated_at"}
KEYS = {
    "examples": [],
    "attention": [],
    "attributions": ["method"],
    "agreements": ["method_a", "method_b"],
    "head_scores": ["reference"],
    "head_stats": [],
    "faithfulness": ["method"],
}


def _rows(db: str, table: str) -> tuple[dict, list[str]]:
    """Rows of ``table`` keyed by source index (and the table's key columns); ``db`` is a
    SQLite file path or any database URL."""
    engine = create_engine(resolve_url(db))
    join = "id" if table == "examples" else "example_id"
    query = f"SELECT e.source_index, t.* FROM {table} t JOIN examples e ON e.id = t.{join}"
    rows = {}
    with engine.connect() as connection:
        result = connection.execute(text(query))
        columns = list(result.keys())[1:]
        for source_index, *values in result:
            row = dict(zip(columns, (_plain(v) for v in values), strict=True))
            rows[(source_index, *(row[k] for k in KEYS[table]))] = row
    engine.dispose()
    return rows, columns


def _plain(value: object) -> object:
    """One form for both backends: PostgreSQL hands BYTEA back as memoryview (SQLite: bytes)
    and JSON parsed (SQLite, through a raw query: its text)."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _verdict(old: object, new: object) -> str | None:
    """None when equal; 'cast' when equal after casting to the new dtype; else a difference."""
    if old == new:
        return None
    if isinstance(old, bytes) and isinstance(new, bytes):
        a, b = decode_array(old), decode_array(new)
        if a.dtype != b.dtype and a.shape == b.shape and np.array_equal(a.astype(b.dtype), b):
            return "cast"
        return f"max |d| {np.max(np.abs(a.astype(float) - b.astype(float)), initial=0):.3g}"
    return f"{old!r} != {new!r}"


def compare(old_db: str, new_db: str) -> bool:
    equal = True
    for table in KEYS:
        old, old_columns = _rows(old_db, table)
        new, new_columns = _rows(new_db, table)
        if old.keys() != new.keys():
            print(f"{table}: different rows ({len(old)} vs {len(new)})")
            equal = False
            continue
        columns = [c for c in old_columns if c in new_columns and c not in SKIP]
        found: dict[str, list[str]] = {}
        for key, row in old.items():
            for column in columns:
                verdict = _verdict(row[column], new[key][column])
                if verdict is not None:
                    found.setdefault(column, []).append(verdict)
        casts = [c for c, v in found.items() if set(v) == {"cast"}]
        diffs = {c: v for c, v in found.items() if c not in casts}
        print(
            f"{table}: {len(old)} rows x {len(columns)} columns; "
            + (f"equal after a dtype cast: {', '.join(casts)}; " if casts else "")
            + (", ".join(f"{c} differs in {len(v)} cells ({v[0]})" for c, v in diffs.items())
               or "every other cell byte-identical")
        )  # fmt: skip
        equal &= not diffs
    return equal


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(0 if compare(sys.argv[1], sys.argv[2]) else 1)
