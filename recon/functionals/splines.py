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
from . import spline_kernels

__all__ = ["LinearSpline"]


class LinearSpline:
    r"""Linear spline :math:`\varphi` on a uniform grid, with its derivative and exact integral.

    Parameters
    ----------
    coefficients : array_like, shape (K,)
        Values :math:`c_k = \varphi(x_k)` at the ``K >= 2`` knots (stored in float64 on the host;
        evaluation casts them to the input's namespace and dtype, cached).
    x_min, x_max : float
        First and last knot, ``x_min < x_max``.

    Notes
    -----
    :attr:`slope_min`/:attr:`slope_max` bound :math:`\varphi'` everywhere (the extension uses the
    end slopes), which is what the convexity and Lipschitz statements of a ridge regularizer need.
    """

    def __init__(self, coefficients, x_min, x_max):
        c = np.asarray(coefficients, dtype=np.float64)
        if c.ndim != 1 or c.size < 2:
            raise ValueError(f"coefficients must be 1-D with at least 2 values, got shape {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("coefficients contains NaN or infinity")
        x_min, x_max = float(x_min), float(x_max)
        if not (x_min < x_max and math.isfinite(x_min) and math.isfinite(x_max)):
            raise ValueError(f"need finite x_min < x_max, got x_min={x_min}, x_max={x_max}")
        self.coefficients, self.x_min, self.x_max = c, x_min, x_max
        self.step = (x_max - x_min) / (c.size - 1)
        d = np.diff(c)
        # value on segment j as a + tau * b, tau in grid units: one gather per table, one fma
        self._a = c[:-1] - np.arange(c.size - 1) * d
        self._b = d
        # integral of segment j from its left knot: h * (delta c_j + delta^2/2 d_j)
        self._knot_integrals = np.concatenate([[0.0], np.cumsum(self.step * (c[:-1] + 0.5 * d))])
        self._tables = {}
        self._offset = 0.0
        self._offset = float(self.integral(np.zeros(1))[0])

    @property
    def slopes(self) -> np.ndarray:
        """Slopes :math:`(c_{k+1} - c_k)/h` of the ``K - 1`` segments."""
        return self._b / self.step

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

    def _locate(self, x):
        """Grid coordinate ``tau`` and clipped segment index ``j`` (integer array)."""
        xp = array_namespace(x)
        tau = (x - self.x_min) * (1.0 / self.step)
        # clip, then truncate: on [0, K-2] truncation is floor, so no floor pass is needed
        j = xp.astype(xp.clip(tau, 0.0, float(self.coefficients.size - 2)), xp.int64)
        return xp, tau, j

    def __call__(self, x):
        """:math:`\\varphi(x)` elementwise, same shape and dtype as ``x``."""
        xp, tau, j = self._locate(x)
        flat = xp.reshape(j, (-1,))
        a = xp.reshape(xp.take(self._table("_a", xp, x.dtype), flat), x.shape)
        b = xp.reshape(xp.take(self._table("_b", xp, x.dtype), flat), x.shape)
        return a + tau * b

    def scaled(self, z, scale, out=None):
        r""":math:`\varphi(s z)/s` elementwise, ``scale`` :math:`s` broadcasting against ``z``.

        The activation of a ridge regularizer with per-channel scales.  With numba, on a
        C-contiguous NumPy ``z`` whose scale is one value per index of the first axis (shape
        ``(C, 1, ...)``), one compiled pass (:mod:`~recon.functionals.spline_kernels`).  Otherwise
        seven array-API passes instead of eleven (the 60-channel arrays of the published models
        make this a large part of a gradient): :math:`\tau = z\,(s/h) - x_{\min}/h` in one
        multiply and one in-place add, the segment index by clip-then-truncate, the two table
        gathers, and the division by :math:`s` done in place.  Both paths compute the same
        formula in the same order and agree up to rounding.

        Parameters
        ----------
        z : array
            Real floating.
        scale : array
            :math:`s > 0`, same library and dtype as ``z``, broadcastable to ``z``.
        out : array, optional
            Where to write (may be ``z``): same shape and dtype as ``z``.  NumPy and CuPy only.

        Returns
        -------
        array
            ``out`` if given, else a new array.
        """
        if spline_kernels.usable(z, scale) and (out is None or (
                type(out) is np.ndarray and out.dtype == z.dtype and out.shape == z.shape and out.flags.c_contiguous)):
            dtype = z.dtype
            mul = scale * (1.0 / self.step)
            return spline_kernels.scaled_rows(
                z, mul, -self.x_min / self.step, self._table("_a", np, dtype), self._table("_b", np, dtype),
                self.coefficients.size - 2, scale, np.empty_like(z) if out is None else out)
        xp = array_namespace(z)
        tau = z * (scale * (1.0 / self.step))
        tau += -self.x_min / self.step
        flat = xp.reshape(xp.astype(xp.clip(tau, 0.0, float(self.coefficients.size - 2)), xp.int64), (-1,))
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
        """:math:`\\varphi'(x)` elementwise (right derivative at the knots)."""
        xp, _, j = self._locate(x)
        slopes = self._table("slopes", xp, x.dtype)
        return xp.reshape(xp.take(slopes, xp.reshape(j, (-1,))), x.shape)

    def integral(self, x):
        """:math:`\\Phi(x) = \\int_0^x \\varphi(t)\\,dt` elementwise (exact)."""
        xp, tau, j = self._locate(x)
        flat = xp.reshape(j, (-1,))
        c = xp.reshape(xp.take(self._table("coefficients", xp, x.dtype), flat), x.shape)
        d = xp.reshape(xp.take(self._table("_b", xp, x.dtype), flat), x.shape)
        base = xp.reshape(xp.take(self._table("_knot_integrals", xp, x.dtype), flat), x.shape)
        delta = tau - xp.astype(j, x.dtype)
        return base + self.step * delta * (c + 0.5 * delta * d) - self._offset

    def __repr__(self):
        return f"LinearSpline({self.coefficients.size} knots on [{self.x_min:g}, {self.x_max:g}])"
