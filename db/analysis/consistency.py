"""The consistency test's maths (Liu et al. 2021, as Karpekov & Miller run it): do a method's
top-5 tokens carry the class? Over the correctly classified examples of a filter, the
silhouette score of the classes' clusters of the stored top-5 vectors says how well they
separate (1 = tight, separate clusters; 0 = overlapping; < 0 = closer to the other class);
:func:`project_2d` places them on a plane for the scatter.

Pure numpy, so the dashboard computes it without scikit-learn (a test checks
:func:`silhouette_score` against ``sklearn.metrics.silhouette_score``). Cost is O(n^2 d):
above :data:`MAX_POINTS` examples a seeded subsample is used (:func:`subsample`). The vectors
themselves are read by ``db.accuracy_reads``.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 1000  # examples per silhouette and method: ~3 ms (16-d) to ~17 ms (768-d) here
SUBSAMPLE_SEED = 0
CHUNK = 512  # rows of the distance matrix held at once


def subsample(n: int, limit: int = MAX_POINTS, seed: int = SUBSAMPLE_SEED) -> np.ndarray:
    """Sorted row indices: all ``n`` rows, or ``limit`` of them drawn with a fixed seed (the
    same filter always gives the same points)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _distances(x: np.ndarray, start: int, stop: int, norms: np.ndarray) -> np.ndarray:
    """Euclidean distances [stop - start, n] of rows ``start:stop`` to every row of ``x``."""
    block = x[start:stop] @ x.T  # in place from here: the n^2 passes dominate small d
    block *= -2.0
    block += norms[start:stop, None]
    block += norms[None, :]
    np.maximum(block, 0.0, out=block)
    block[np.arange(stop - start), np.arange(start, stop)] = 0.0  # exactly 0 to itself
    return np.sqrt(block, out=block)


def silhouette_samples(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """[n] silhouette of each point (Rousseeuw 1987): (b - a) / max(a, b) with a the mean
    distance to the rest of its cluster, b the smallest mean distance to another cluster;
    0 for a point alone in its cluster (as scikit-learn). Needs 2 <= clusters <= n - 1."""
    x = np.asarray(x, dtype=np.float64)
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    onehot = np.eye(codes.max() + 1)[codes]  # [n, C]
    sizes = onehot.sum(axis=0)
    norms = np.einsum("ij,ij->i", x, x)
    sums = np.empty((len(x), len(sizes)))
    for start in range(0, len(x), CHUNK):
        stop = min(start + CHUNK, len(x))
        sums[start:stop] = _distances(x, start, stop, norms) @ onehot
    own = sizes[codes]
    rows = np.arange(len(x))
    a = sums[rows, codes] / np.maximum(own - 1, 1)
    means = sums / sizes
    means[rows, codes] = np.inf
    b = means.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    return np.where((own > 1) & np.isfinite(s), s, 0.0)


def silhouette_score(x: np.ndarray, labels: np.ndarray) -> float | None:
    """Mean silhouette of ``x`` [n, d] clustered by ``labels`` [n]; None when undefined
    (fewer than two clusters, or every point its own cluster)."""
    clusters = len(np.unique(np.asarray(labels)))
    if clusters < 2 or clusters > len(x) - 1:
        return None
    return float(silhouette_samples(x, labels).mean())


def project_2d(x: np.ndarray) -> np.ndarray:
    """[n, 2] coordinates on the first two principal components of ``x`` [n, d] (PCA by
    SVD of the centred data; fewer points or dimensions give zeros in the missing axes)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((len(x), 2))
    if len(x) < 2:
        return out
    centred = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    k = min(2, len(s))
    out[:, :k] = u[:, :k] * s[:k]
    return out
