"""The dashboard's data access: the data service (one read-only engine, one cache holder grouped
by run) and what pages derive from it (run comparison, accuracy curves, write access)."""
