"""Engine and sessions from a URL, migrations, writers (ingest side) and queries (read side).

Functions here take a Session and return plain data (DataFrames, numpy arrays, dataclasses);
ORM objects do not leave this package.
"""
