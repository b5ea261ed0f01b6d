"""Finite differences: the discrete gradient and its negative adjoint, the divergence."""
from __future__ import annotations

import math

from ..backend import apply_into, array_namespace, is_cupy, is_numpy
from ._gradient_numba import adjoint as numba_adjoint
from ._gradient_numba import forward as numba_forward
from ._gradient_numba import usable as numba_usable
from .base import LinearOperator

__all__ = ["Gradient", "Divergence"]


class Gradient(LinearOperator):
    r"""Forward differences with Neumann boundary, on arrays of any dimension.

    .. math::
        (\nabla u)_{a, i} = \begin{cases} u_{i + e_a} - u_i & i_a < n_a - 1 \\ 0 & i_a = n_a - 1 \end{cases}

    for every axis :math:`a`, each difference scaled by ``1 / spacing[a]``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the image :math:`u`; the output has shape ``(len(shape), *shape)``.
    spacing : float or sequence of float, default 1
        Grid spacing per axis.

    Notes
    -----
    The adjoint is :math:`\nabla^* = -\operatorname{div}` with the matching backward
    differences (zero flux at the boundary).  :math:`\|\nabla\|^2 \le \sum_a 4 / h_a^2`
    (e.g. 8 in 2-D with unit spacing); this bound is what :meth:`norm` returns, a safe value for
    step sizes (the exact norm is slightly smaller and tends to it as the grid grows).
    """

    def __init__(self, shape, *, spacing=1.0):
        shape = tuple(int(n) for n in shape)
        if not shape or any(n < 1 for n in shape):
            raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape}")
        if isinstance(spacing, (int, float)):
            spacing = (float(spacing),) * len(shape)
        spacing = tuple(float(h) for h in spacing)
        if len(spacing) != len(shape) or any(not h > 0 for h in spacing):
            raise ValueError(f"spacing must be positive, one per axis, got {spacing}")
        super().__init__(shape, (len(shape),) + shape)
        self.spacing = spacing

    def _slices(self, axis, part):
        """Index of the first ``n - 1`` (``"lo"``) or last ``n - 1`` (``"hi"``) samples along ``axis``."""
        sl = [slice(None)] * len(self.shape_in)
        sl[axis] = slice(0, -1) if part == "lo" else slice(1, None)
        return tuple(sl)

    def _index(self, axis, sl):
        idx = [slice(None)] * len(self.shape_in)
        idx[axis] = sl
        return tuple(idx)

    def _flat_last_axis(self, xp, *arrays):
        """Whether the last axis can be differenced on flat contiguous views (NumPy/CuPy only).

        Differences along the last axis of a C-ordered array read and write with a stride per row;
        on the flattened array they are one contiguous pass, and the few entries that wrap from one
        row to the next are fixed afterwards.  Measured ~2.7x faster on 512x512 (NumPy).
        """
        return (
            len(self.shape_in) >= 2
            and self.spacing[-1] == 1.0
            and (is_numpy(xp) or is_cupy(xp))
            and all(a.flags.c_contiguous for a in arrays)
        )

    def forward_into(self, u, out, *, accumulate: bool = False):
        """Write :math:`\\nabla u` into ``out`` (shape ``(ndim, *shape)``), or add it when ``accumulate``.

        Returns ``out``.
        """
        if numba_usable(self, u, out):
            return numba_forward(u, out, accumulate)
        xp = array_namespace(u, out)
        if accumulate:
            out += self.forward_into(u, xp.empty_like(out))
            return out
        last_axis = len(self.shape_in) - 1
        flat = self._flat_last_axis(xp, u, out)
        for a, h in enumerate(self.spacing):
            if self.shape_in[a] == 1:
                out[a, ...] = 0
                continue
            if a == last_axis and flat:
                uf, of = xp.reshape(u, (-1,)), xp.reshape(out[a, ...], (-1,))
                xp.subtract(uf[1:], uf[:-1], out=of[:-1])
            else:
                lo, hi = self._slices(a, "lo"), self._slices(a, "hi")
                apply_into("subtract", out, u[hi], u[lo], index=(a,) + lo)
            out[(a,) + self._index(a, slice(-1, None))] = 0  # Neumann boundary (and the wrapped entries)
            if h != 1.0:
                out[a, ...] *= 1.0 / h
        return out

    def adjoint_into(self, p, out):
        """Write :math:`\\nabla^* p = -\\operatorname{div} p` into ``out`` and return it.

        Per axis :math:`(\\nabla_a^* p)_i = p_{i-1} - p_i` inside, :math:`-p_0` at the first and
        :math:`p_{n-2}` at the last sample; the entries :math:`p_{n-1}` (where the forward map
        is 0) are ignored.
        """
        if numba_usable(self, out, p):
            return numba_adjoint(p, out)
        xp = array_namespace(p, out)
        last_axis = len(self.shape_in) - 1
        flat = self._flat_last_axis(xp, p, out)
        first = True
        for a, h in enumerate(self.spacing):
            n = self.shape_in[a]
            if n == 1:
                continue
            pa = p[a, ...] if h == 1.0 else p[a, ...] * (1.0 / h)
            if first:
                # the first axis writes every entry of out: no zero fill, one pass
                out[self._index(a, slice(0, 1))] = -pa[self._index(a, slice(0, 1))]
                if n > 2:
                    apply_into("subtract", out, pa[self._index(a, slice(0, n - 2))],
                               pa[self._index(a, slice(1, n - 1))], index=self._index(a, slice(1, n - 1)))
                out[self._index(a, slice(n - 1, n))] = pa[self._index(a, slice(n - 2, n - 1))]
                first = False
            elif a == last_axis and flat and h == 1.0:
                of, pf = xp.reshape(out, (-1,)), xp.reshape(pa, (-1,))
                of -= pf
                of[1:] += pf[:-1]
                o2, p2 = xp.reshape(out, (-1, n)), xp.reshape(pa, (-1, n))
                o2[:, -1] += p2[:, -1]  # p_{n-1} is not part of the adjoint
                o2[1:, 0] -= p2[:-1, -1]  # nor is the previous row's last entry
            else:
                lo, hi = self._slices(a, "lo"), self._slices(a, "hi")
                apply_into("subtract", out, out[lo], pa[lo], index=lo)
                apply_into("add", out, out[hi], pa[lo], index=hi)
        if first:  # every axis has length 1: the gradient is zero
            out[...] = 0
        return out

    def _forward(self, u):
        xp = array_namespace(u)
        return self.forward_into(u, xp.empty(self.shape_out, dtype=u.dtype, device=u.device))

    def _adjoint(self, p):
        xp = array_namespace(p)
        return self.adjoint_into(p, xp.empty(self.shape_in, dtype=p.dtype, device=p.device))

    def _exact_norm(self):
        return math.sqrt(sum(4.0 / h**2 for n, h in zip(self.shape_in, self.spacing) if n > 1))


class Divergence(LinearOperator):
    """Discrete divergence, :math:`\\operatorname{div} = -\\nabla^*` for :class:`Gradient` on ``shape``."""

    def __init__(self, shape, *, spacing=1.0):
        self.gradient = Gradient(shape, spacing=spacing)
        super().__init__(self.gradient.shape_out, self.gradient.shape_in)

    def _forward(self, p):
        return -self.gradient._adjoint(p)

    def _adjoint(self, u):
        return -self.gradient._forward(u)

    def _exact_norm(self):
        return self.gradient._exact_norm()
