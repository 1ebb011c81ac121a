"""The dashboard's data service: one read-only engine and the per-run / per-filter caches every page reads through."""
