"""Compiled 2-D kernels for :class:`recon.operators.Gradient` (numba, optional; see :mod:`recon._compiled`).

One sweep each instead of the 2–4 NumPy passes of the array-API path, same values up to rounding
(no sum is reordered: each output entry is the same one or two differences).  They take C-contiguous
NumPy arrays of one float dtype with unit spacing; :func:`usable` says whether a call qualifies.
"""
from __future__ import annotations

import numpy as np

from .._compiled import enabled, lazy

__all__ = ["usable", "forward", "adjoint"]


def _forward(u, out0, out1, accumulate):
    """``out = grad u`` (or ``out += grad u``): forward differences, zero on the last row/column."""
    m, n = u.shape
    for i in range(m):
        if i < m - 1:
            for j in range(n):
                d = u[i + 1, j] - u[i, j]
                out0[i, j] = out0[i, j] + d if accumulate else d
        elif not accumulate:
            for j in range(n):
                out0[i, j] = 0
        for j in range(n - 1):
            d = u[i, j + 1] - u[i, j]
            out1[i, j] = out1[i, j] + d if accumulate else d
        if not accumulate:
            out1[i, n - 1] = 0


def _adjoint(p0, p1, out):
    """``out = grad* p = -div p``; the entries of ``p`` where the gradient is zero are ignored.

    Row by row: the column differences first, then the row differences added while the row is in cache.
    """
    m, n = out.shape
    for i in range(m):
        if n == 1:
            out[i, 0] = p1[i, 0] - p1[i, 0]
        else:
            out[i, 0] = -p1[i, 0]
            for j in range(1, n - 1):
                out[i, j] = p1[i, j - 1] - p1[i, j]
            out[i, n - 1] = p1[i, n - 2]
        if m == 1:
            continue
        if i == 0:
            for j in range(n):
                out[i, j] -= p0[i, j]
        elif i == m - 1:
            for j in range(n):
                out[i, j] += p0[i - 1, j]
        else:
            for j in range(n):
                out[i, j] += p0[i - 1, j] - p0[i, j]


_forward_kernel = lazy(_forward)
_adjoint_kernel = lazy(_adjoint)


def usable(gradient, image, field) -> bool:
    """Whether the kernels apply: numba present, 2-D unit spacing, NumPy C-contiguous, one float dtype."""
    return (
        _forward_kernel is not None and enabled()
        and len(gradient.shape_in) == 2
        and gradient.spacing == (1.0, 1.0)
        and type(image) is np.ndarray and type(field) is np.ndarray
        and image.dtype == field.dtype and image.dtype in (np.float32, np.float64)
        and image.flags.c_contiguous and field.flags.c_contiguous
    )


def forward(u, out, accumulate=False):
    _forward_kernel(u, out[0], out[1], bool(accumulate))
    return out


def adjoint(p, out):
    _adjoint_kernel(p[0], p[1], out)
    return out
