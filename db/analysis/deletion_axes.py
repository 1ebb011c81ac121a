"""Deletion curves on their two x axes, the maths: against k (tokens deleted, the stored grid)
and against the deleted fraction k / n of each example's n content tokens.

Curves are stacked as [N, M, G] over (example, method, grid point), NaN past an example's
last point; ``k`` [G] is the grid (``models.deletion_grid``) and ``content`` [N] each
example's n. Past its last point an example is *carried* (its last value repeated) only when
that point deleted all of its content tokens: deleting more leaves it as it was. A curve that
stops at half the tokens is not carried, so a mean at large k covers the examples that reach
it. On the fraction axis each example's curve is read at k = f * n by linear interpolation
between its two neighbouring grid points (NaN past its last point), and a method's curves are
kept up to the fraction all of them reach (:func:`shared`).
"""

from __future__ import annotations

import numpy as np

AXES = ("k", "fraction")
FRACTION_AXIS = np.round(np.linspace(0.0, 0.5, 51), 4)  # 0, 1%, ..., 50%


def last_index(curves: np.ndarray) -> np.ndarray:
    """[N, M] index of each curve's last stored point (-1 where nothing is stored)."""
    stored = ~np.isnan(curves)
    width = curves.shape[-1]
    return np.where(stored.any(-1), width - 1 - np.argmax(stored[..., ::-1], axis=-1), -1)


def carried(curves: np.ndarray, k: np.ndarray, content: np.ndarray) -> np.ndarray:
    """[N, M, G] ``curves`` with the NaN tail of every curve that deleted all its example's
    content tokens filled by its last value."""
    out = curves.copy()
    last = last_index(curves)
    ended = (last >= 0) & (k[last.clip(0)] >= content[:, None])
    after = np.arange(curves.shape[-1]) > last[..., None]
    fill = np.take_along_axis(curves, last.clip(0)[..., None], axis=-1)
    mask = ended[..., None] & after
    out[mask] = np.broadcast_to(fill, curves.shape)[mask]
    return out


def on_fractions(
    curves: np.ndarray, k: np.ndarray, content: np.ndarray, fractions: np.ndarray = FRACTION_AXIS
) -> np.ndarray:
    """[N, M, F] each curve at k = f * content (linear between grid points; NaN past the
    curve's last point or for an example without content tokens)."""
    n, m, width = curves.shape
    if width == 0:
        return np.full((n, m, len(fractions)), np.nan, dtype=np.float32)
    target = fractions[None, :] * content[:, None]  # [N, F] tokens deleted at each fraction
    low = (np.searchsorted(k, target.ravel(), side="right") - 1).reshape(target.shape)
    low = low.clip(0, width - 1)
    high = (low + 1).clip(max=width - 1)
    span = (k[high] - k[low]).astype(float)
    weight = np.divide(target - k[low], span, out=np.zeros_like(target), where=span > 0)
    rows = np.arange(n)[:, None, None]
    cols = np.arange(m)[None, :, None]
    below = curves[rows, cols, low[:, None, :]]
    above = curves[rows, cols, high[:, None, :]]
    value = below + weight[:, None, :] * (above - below)
    exact = weight[:, None, :] == 0  # on a grid point: the point itself, even the last one
    value = np.where(exact, below, value)
    beyond = (target > k[width - 1])[:, None, :]
    empty = (content[:, None, None] <= 0) & (fractions > 0)[None, None, :]
    value[np.broadcast_to(beyond | empty, value.shape)] = np.nan
    return value.astype(np.float32)


def x_values(axis: str, k: np.ndarray) -> np.ndarray:
    """The x of a curve on ``axis``: the grid's k, or the fraction axis."""
    return FRACTION_AXIS if axis == "fraction" else k


def shared(values: np.ndarray) -> np.ndarray:
    """[N, M, X] ``values`` kept only at the points every curve of a method reaches (NaN
    elsewhere), so a mean over examples covers one population all along the axis."""
    has = ~np.isnan(values[:, :, :1])
    missing = (np.isnan(values) & has).any(axis=0)  # [M, X]
    out = values.copy()
    out[np.broadcast_to(missing, out.shape)] = np.nan
    return out


def on_axis(curves: np.ndarray, k: np.ndarray, content: np.ndarray, axis: str) -> np.ndarray:
    """``curves`` [N, M, G] on ``axis``: carried on the k grid, or interpolated on fractions
    up to the fraction every example reaches (all of them to 50% on the grid; runs stored
    before it stop at k = 20, so at 20 / n of their longest text)."""
    if axis == "fraction":
        return shared(on_fractions(curves, k, content))
    return carried(curves, k, content)
