"""Finite differences: the discrete gradient and its negative adjoint, the divergence."""
from __future__ import annotations

import math

from ..backend import apply_into, array_namespace
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

    def forward_into(self, u, out):
        """Write :math:`\\nabla u` into ``out`` (shape ``(ndim, *shape)``) and return it."""
        for a, h in enumerate(self.spacing):
            if self.shape_in[a] == 1:
                out[a, ...] = 0
                continue
            lo, hi = self._slices(a, "lo"), self._slices(a, "hi")
            apply_into("subtract", out, u[hi], u[lo], index=(a,) + lo)
            last = [slice(None)] * len(self.shape_in)
            last[a] = slice(-1, None)
            out[(a,) + tuple(last)] = 0
            if h != 1.0:
                out[a, ...] *= 1.0 / h
        return out

    def adjoint_into(self, p, out):
        """Write :math:`\\nabla^* p = -\\operatorname{div} p` into ``out`` and return it."""
        out[...] = 0
        for a, h in enumerate(self.spacing):
            if self.shape_in[a] == 1:
                continue
            lo, hi = self._slices(a, "lo"), self._slices(a, "hi")
            pa = p[(a,) + lo] if h == 1.0 else p[(a,) + lo] * (1.0 / h)
            apply_into("subtract", out, out[lo], pa, index=lo)
            apply_into("add", out, out[hi], pa, index=hi)
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
