r"""Compiled one-pass activation of the ridge regularizers (numba, optional; see ``backend.compiled``).

:meth:`recon.functionals.LinearSpline.scaled` evaluates :math:`\varphi(s_c z)/s_c` on the
60-channel arrays of the published models; as array-API calls that is seven passes over the
array plus an int64 index array of the same length.  :func:`scaled_rows` makes one pass with the
same formula in the same order (grid coordinate, clip-then-truncate segment index, table lookups,
one fused multiply-add, division by the scale), so the two paths agree up to rounding.
"""
from __future__ import annotations

import numpy as np

from ..backend import compiled

__all__ = ["usable", "scaled_rows"]


def _scaled_rows(z, out, mul, shift, a, b, last, scale):
    """``out[c, j] = (a[k] + t b[k]) / scale[c]`` with ``t = z[c, j] mul[c] + shift``, ``k = clip(t, 0, last)``.

    ``out`` may be ``z``.  A NaN ``t`` takes segment 0 (comparisons with NaN are false), so it
    propagates to the output instead of indexing out of bounds.
    """
    zero = a[0] - a[0]
    for c in range(z.shape[0]):
        m = mul[c]
        s = scale[c]
        for j in range(z.shape[1]):
            t = z[c, j] * m + shift
            u = t if t > zero else zero
            u = u if u < last else last
            k = int(u)
            out[c, j] = (a[k] + t * b[k]) / s


_scaled_rows_kernel = compiled(_scaled_rows)


def usable(z, scale) -> bool:
    """Whether :func:`scaled_rows` applies: numba present, NumPy float arrays of one dtype, ``z`` C-contiguous
    with at least one axis, ``scale`` one value per index of ``z``'s first axis (shape ``(C, 1, ...)``)."""
    return (
        _scaled_rows_kernel is not None
        and type(z) is np.ndarray and type(scale) is np.ndarray
        and z.dtype in (np.float32, np.float64) and scale.dtype == z.dtype
        and z.ndim >= 1 and z.flags.c_contiguous
        and scale.size == z.shape[0] and scale.shape == (z.shape[0],) + (1,) * (scale.ndim - 1)
        and scale.ndim <= z.ndim
    )


def scaled_rows(z, mul, shift, a, b, last, scale, out):
    """One pass of the scaled spline over ``z`` (C, ...): see :func:`_scaled_rows`.  Returns ``out``.

    ``mul`` (C,) is ``scale / h``, ``shift`` the scalar ``-x_min / h``, ``a``, ``b`` the segment
    tables, ``last`` the last segment index, all in ``z``'s dtype; ``out`` C-contiguous like ``z``.
    """
    c = z.shape[0]
    t = z.dtype.type
    _scaled_rows_kernel(z.reshape(c, -1), out.reshape(c, -1), mul.reshape(c), t(shift), a, b, t(last),
                        scale.reshape(c))
    return out
