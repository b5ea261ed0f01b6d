r"""Linear splines on a uniform grid: the learned activations of ridge regularizers.

A linear spline with knots :math:`x_k = x_{\min} + k h`, :math:`k = 0, \dots, K-1`, and values
:math:`c_k` is, with :math:`\tau = (x - x_{\min})/h` and the segment index
:math:`j = \min(\max(\lfloor\tau\rfloor, 0), K-2)`,

.. math::
    \varphi(x) = c_j + (\tau - j)(c_{j+1} - c_j),

i.e. piecewise linear between the knots and continued *linearly by the end segments* outside
:math:`[x_{\min}, x_{\max}]` (the convention of the CRR-NN/WCRR code: their activation splines
have flat end segments, so they are constant outside; their noise-scaling spline is not).
Its exact antiderivative, a quadratic spline, is

.. math::
    \Phi(x) = \int_0^x \varphi(t)\,dt = I_j + h\bigl(\delta c_j + \tfrac{\delta^2}{2}(c_{j+1}-c_j)\bigr) - I(0),
    \qquad \delta = \tau - j,\quad I_j = \int_{x_{\min}}^{x_j}\varphi,

normalised so that :math:`\Phi(0) = 0`.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace, asarray
from ._spline_numba import scaled_rows as numba_scaled_rows
from ._spline_numba import scaled_rows_kernel
from ._spline_numba import usable as numba_usable

__all__ = ["LinearSpline"]


class LinearSpline:
    r"""Linear spline :math:`\varphi` on a uniform grid, with its derivative and exact integral.

    Parameters
    ----------
    coefficients : array_like, shape (K,) or (C, K)
        Values :math:`c_k = \varphi(x_k)` at the ``K >= 2`` knots (stored in float64 on the host;
        evaluation casts them to the input's namespace and dtype, cached).  A 2-D array holds
        one spline per *channel* on the same grid (the original CRR-NN's per-channel
        activations): row ``c`` applies to index ``c`` of the first axis of every input, which
        must then have ``C`` entries there.
    x_min, x_max : float
        First and last knot, ``x_min < x_max``.

    Notes
    -----
    :attr:`slope_min`/:attr:`slope_max` bound :math:`\varphi'` everywhere (the extension uses the
    end slopes; over all channels), which is what the convexity and Lipschitz statements of a
    ridge regularizer need.
    """

    def __init__(self, coefficients, x_min, x_max):
        c = np.asarray(coefficients, dtype=np.float64)
        if c.ndim not in (1, 2) or c.shape[-1] < 2 or c.size == 0:
            raise ValueError(f"coefficients must be 1-D (K,) or 2-D (C, K) with K >= 2, got shape {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("coefficients contains NaN or infinity")
        x_min, x_max = float(x_min), float(x_max)
        if not (x_min < x_max and math.isfinite(x_min) and math.isfinite(x_max)):
            raise ValueError(f"need finite x_min < x_max, got x_min={x_min}, x_max={x_max}")
        self.coefficients, self.x_min, self.x_max = c, x_min, x_max
        self.channels = None if c.ndim == 1 else int(c.shape[0])
        self.knots = int(c.shape[-1])
        self.step = (x_max - x_min) / (self.knots - 1)
        rows = c.reshape(-1, self.knots)
        d = np.diff(rows, axis=1)
        # value on segment j as a + tau * b, tau in grid units: one gather per table, one fma.
        # Per-channel tables are flattened with a row stride of K (a and b padded by one zero),
        # so channel c's entry j sits at c K + j in every table.
        a = rows[:, :-1] - np.arange(self.knots - 1) * d
        knot_integrals = np.concatenate(
            [np.zeros((rows.shape[0], 1)), np.cumsum(self.step * (rows[:, :-1] + 0.5 * d), axis=1)], axis=1)
        if self.channels is None:
            self._a, self._b, self._slopes = a[0], d[0], d[0] / self.step
            self._values, self._knot_integrals = rows[0], knot_integrals[0]
        else:
            pad = np.zeros((rows.shape[0], 1))
            self._a = np.concatenate([a, pad], axis=1).reshape(-1)
            self._b = np.concatenate([d, pad], axis=1).reshape(-1)
            self._slopes = self._b / self.step
            self._values, self._knot_integrals = rows.reshape(-1), knot_integrals.reshape(-1)
            self._row_offsets = np.arange(self.channels) * self.knots
        self._tables = {}
        self._offset = 0.0 if self.channels is None else np.zeros(self.channels)
        zero = np.zeros((1,) if self.channels is None else (self.channels, 1))
        offset = self.integral(zero)
        self._offset = float(offset[0]) if self.channels is None else offset[:, 0].copy()
        self._tables = {}  # the zero offset's tables must not outlive this

    @property
    def slopes(self) -> np.ndarray:
        """Slopes :math:`(c_{k+1} - c_k)/h` of the ``K - 1`` segments (``(C, K - 1)`` per channel)."""
        return np.diff(self.coefficients, axis=-1) / self.step

    @property
    def slope_min(self) -> float:
        return float(self.slopes.min())

    @property
    def slope_max(self) -> float:
        return float(self.slopes.max())

    def _table(self, name, xp, dtype):
        key = (name, id(xp), dtype)
        if key not in self._tables:
            self._tables[key] = asarray(getattr(self, name), xp=xp, dtype=dtype)
        return self._tables[key]

    def _rows(self, xp, x):
        """Per-channel table offsets ``c K`` shaped to broadcast over ``x`` (channel first)."""
        if not hasattr(x, "ndim") or x.ndim < 1 or x.shape[0] != self.channels:
            raise ValueError(f"x must have {self.channels} channels along its first axis (one per spline), "
                             f"got shape {getattr(x, 'shape', type(x).__name__)}")
        key = ("_row_offsets", id(xp), x.ndim)
        if key not in self._tables:
            self._tables[key] = xp.reshape(asarray(self._row_offsets, xp=xp, dtype=xp.int64),
                                           (self.channels,) + (1,) * (x.ndim - 1))
        return self._tables[key]

    def _locate(self, x):
        """Grid coordinate ``tau``, clipped segment index ``j`` and flat table index (integer arrays)."""
        xp = array_namespace(x)
        tau = (x - self.x_min) * (1.0 / self.step)
        # clip, then truncate: on [0, K-2] truncation is floor, so no floor pass is needed
        j = xp.astype(xp.clip(tau, 0.0, float(self.knots - 2)), xp.int64)
        index = j if self.channels is None else j + self._rows(xp, x)
        return xp, tau, j, xp.reshape(index, (-1,))

    def _offset_as(self, xp, x):
        if self.channels is None:
            return self._offset
        return xp.reshape(self._table("_offset", xp, x.dtype), (self.channels,) + (1,) * (x.ndim - 1))

    def __call__(self, x):
        """:math:`\varphi(x)` elementwise, same shape and dtype as ``x``."""
        xp, tau, _, flat = self._locate(x)
        a = xp.reshape(xp.take(self._table("_a", xp, x.dtype), flat), x.shape)
        b = xp.reshape(xp.take(self._table("_b", xp, x.dtype), flat), x.shape)
        return a + tau * b

    def scaled(self, z, scale, out=None):
        r""":math:`\varphi(s z)/s` elementwise, ``scale`` :math:`s` broadcasting against ``z``.

        The activation of a ridge regularizer with per-channel scales.  With numba, on a
        C-contiguous NumPy ``z`` whose scale is one value per index of the first axis (shape
        ``(C, 1, ...)``), one compiled pass (:mod:`~recon.functionals._spline_numba`).  Otherwise
        seven array-API passes instead of eleven (the 60-channel arrays of the published models
        make this a large part of a gradient): :math:`\tau = z\,(s/h) - x_{\min}/h` in one
        multiply and one in-place add, the segment index by clip-then-truncate, the two table
        gathers, and the division by :math:`s` done in place.  Both paths compute the same
        formula in the same order and agree up to rounding.  Per-channel splines add the row
        offset of each channel to the segment index (one more pass on the array-API path).

        Parameters
        ----------
        z : array
            Real floating (``C`` channels along the first axis for per-channel splines).
        scale : array
            :math:`s > 0`, same library and dtype as ``z``, broadcastable to ``z``.
        out : array, optional
            Where to write (may be ``z``): same shape and dtype as ``z``.  NumPy and CuPy only.

        Returns
        -------
        array
            ``out`` if given, else a new array.
        """
        if self.channels is not None:
            self._rows(array_namespace(z), z)  # checks the channel axis
        if numba_usable(z, scale) and (out is None or (
                type(out) is np.ndarray and out.dtype == z.dtype and out.shape == z.shape and out.flags.c_contiguous)):
            dtype = z.dtype
            mul = scale * (1.0 / self.step)
            rows = (np.zeros(z.shape[0], np.int64) if self.channels is None
                    else self._table("_row_offsets", np, np.int64))
            return numba_scaled_rows(
                z, mul, -self.x_min / self.step, self._table("_a", np, dtype), self._table("_b", np, dtype),
                self.knots - 2, scale, np.empty_like(z) if out is None else out, rows=rows)
        xp = array_namespace(z)
        tau = z * (scale * (1.0 / self.step))
        tau += -self.x_min / self.step
        index = xp.astype(xp.clip(tau, 0.0, float(self.knots - 2)), xp.int64)
        if self.channels is not None:
            index = index + self._rows(xp, z)
        flat = xp.reshape(index, (-1,))
        val = xp.reshape(xp.take(self._table("_a", xp, z.dtype), flat), z.shape)
        b = xp.reshape(xp.take(self._table("_b", xp, z.dtype), flat), z.shape)
        b *= tau
        val += b
        val /= scale
        if out is None:
            return val
        out[...] = val
        return out

    def derivative(self, x):
        """:math:`\varphi'(x)` elementwise (right derivative at the knots)."""
        xp, _, _, flat = self._locate(x)
        return xp.reshape(xp.take(self._table("_slopes", xp, x.dtype), flat), x.shape)

    def integral(self, x):
        r""":math:`\Phi(x) = \int_0^x \varphi(t)\,dt` elementwise (exact)."""
        xp, tau, j, flat = self._locate(x)
        c = xp.reshape(xp.take(self._table("_values", xp, x.dtype), flat), x.shape)
        d = xp.reshape(xp.take(self._table("_b", xp, x.dtype), flat), x.shape)
        base = xp.reshape(xp.take(self._table("_knot_integrals", xp, x.dtype), flat), x.shape)
        delta = tau - xp.astype(j, x.dtype)
        return base + self.step * delta * (c + 0.5 * delta * d) - self._offset_as(xp, x)

    def __repr__(self):
        per = "" if self.channels is None else f"{self.channels} channels × "
        return f"LinearSpline({per}{self.knots} knots on [{self.x_min:g}, {self.x_max:g}])"


def compiled_rows_available() -> bool:
    """Whether the compiled one-pass activation (:func:`numba_scaled_rows`) can run: numba importable and enabled.

    For the torch training code, which drives the row kernel on NumPy views of its tensors.
    """
    return scaled_rows_kernel() is not None
