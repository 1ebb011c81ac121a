"""Numerical analysis of stored arrays: numpy and scipy in, numbers and result dataclasses
out, no SQL and no ORM (an import-linter contract holds it). ``metrics``: agreement between
methods and per-head agreement with reference attributions (ingest stores them; the synthetic
store computes its own with them); ``accuracy_curves``: Karpekov & Miller's relative
accuracy after deleting the top or bottom k tokens (``CurveStack``, ``AccuracyCurves``);
``consistency``: the consistency test's silhouette score, its seeded subsample and the 2-D
PCA projection of the top-5 vectors. The SQL reads that feed them stay in ``db`` (e.g.
``db.accuracy_reads``).
"""
