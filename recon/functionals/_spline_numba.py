r"""Compiled one-pass activation of the ridge regularizers (numba, optional; see :mod:`recon._compiled`).

:meth:`recon.functionals.LinearSpline.scaled` evaluates :math:`\varphi(s_c z)/s_c` on the
60-channel arrays of the published models; as array-API calls that is seven passes over the
array plus an int64 index array of the same length.  :func:`scaled_rows` makes one pass with the
same formula in the same order (grid coordinate, clip-then-truncate segment index, table lookups,
one fused multiply-add, division by the scale), so the two paths agree up to rounding.
"""
from __future__ import annotations

import numpy as np

from .._compiled import enabled, lazy

__all__ = ["usable", "scaled_rows"]


_CHUNK = 256


def _scaled_rows(z, out, mul, shift, a, b, last, scale, rows):
    """``out[c, j] = (a[k] + t b[k]) / scale[c]`` with ``t = z[c, j] mul[c] + shift``,
    ``k = rows[c] + clip(t, 0, last)`` (``rows``: each row's offset in the tables, 0 for a shared spline).

    ``out`` may be ``z``.  A NaN ``t`` takes segment 0 (comparisons with NaN are false), so it
    propagates to the output instead of indexing out of bounds.  In chunks: the grid coordinates
    and segment indices in one loop (vectorised), the table lookups in another (LLVM does not
    vectorise gathers on every CPU; split, the first loop still is), 1.5x faster than one loop.
    """
    zero = a[0] - a[0]
    n = z.shape[1]
    index = np.empty(_CHUNK, np.int32)
    coord = np.empty(_CHUNK, z.dtype)
    for c in range(z.shape[0]):
        m = mul[c]
        inv = 1 / scale[c]
        base = np.int32(rows[c])
        for j0 in range(0, n, _CHUNK):
            size = min(_CHUNK, n - j0)
            zc = z[c, j0 : j0 + size]
            oc = out[c, j0 : j0 + size]
            for j in range(size):
                t = zc[j] * m + shift
                u = t if t > zero else zero
                u = u if u < last else last
                index[j] = np.int32(u)
                coord[j] = t
            for j in range(size):
                k = index[j] + base
                oc[j] = (a[k] + coord[j] * b[k]) * inv


_scaled_rows_kernel = lazy(_scaled_rows)


def scaled_rows_kernel():
    """The compiled row kernel ``(rows, out, mul, shift, a, b, last, s, row_index)``, or ``None`` when kernels are off.

    For callers outside recon.functionals (the torch training code) that drive the kernel themselves.
    """
    return _scaled_rows_kernel if _scaled_rows_kernel is not None and enabled() else None


def usable(z, scale) -> bool:
    """Whether :func:`scaled_rows` applies: numba present, NumPy float arrays of one dtype, ``z`` C-contiguous
    with at least one axis, ``scale`` one value per index of ``z``'s first axis (shape ``(C, 1, ...)``)."""
    return (
        _scaled_rows_kernel is not None and enabled()
        and type(z) is np.ndarray and type(scale) is np.ndarray
        and z.dtype in (np.float32, np.float64) and scale.dtype == z.dtype
        and z.ndim >= 1 and z.flags.c_contiguous
        and scale.size == z.shape[0] and scale.shape == (z.shape[0],) + (1,) * (scale.ndim - 1)
        and scale.ndim <= z.ndim
    )


def scaled_rows(z, mul, shift, a, b, last, scale, out, rows=None):
    """One pass of the scaled spline over ``z`` (C, ...): see :func:`_scaled_rows`.  Returns ``out``.

    ``mul`` (C,) is ``scale / h``, ``shift`` the scalar ``-x_min / h``, ``a``, ``b`` the segment
    tables, ``last`` the last segment index, all in ``z``'s dtype; ``out`` C-contiguous like ``z``;
    ``rows`` (C,) integers, row ``c``'s offset in the tables (default 0: one shared spline).
    """
    c = z.shape[0]
    t = z.dtype.type
    rows = np.zeros(c, np.int64) if rows is None else np.asarray(rows, np.int64).reshape(c)
    _scaled_rows_kernel(z.reshape(c, -1), out.reshape(c, -1), mul.reshape(c), t(shift), a, b, t(last),
                        scale.reshape(c), rows)
    return out
