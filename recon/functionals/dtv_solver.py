r"""State of the dTV prox's inner primal-dual solver: buffers, the warm-start pair, one iteration and the gap sums.

:class:`~recon.functionals.DirectionalTV` holds one :class:`DualState` per library/dtype/device.  An
iteration runs either through the compiled kernels of :mod:`recon.functionals._dtv_numba` (NumPy,
2-D, numba installed) or through array-API calls with ``out=`` buffers (every other case, e.g. CuPy,
``array_api_strict``, 1-D or 3-D images).
Both make the same iterates up to rounding.
"""
from __future__ import annotations

import math

from ..backend import bind_into, is_numpy
from ._dtv_numba import kernels as numba_kernels
from .tv import divergence_into

# fraction of the predicted distance to the tolerance to wait between gap checks (as TV's)
_REACH = 0.5


def wait(k, gap, target, minimum):
    """Iterations until the next gap check: half-way to where ``gap * (k / k')**2`` meets ``target``."""
    if not (target > 0 and math.isfinite(gap)) or gap <= target:
        return minimum
    return max(minimum, int(_REACH * (k * math.sqrt(gap / target) - k)))


def norms_into(g, out, into):
    """Pixel norms :math:`|g_i|_2` of the vectors along axis 0 of ``g``, written into ``out``."""
    into("multiply", out, g[0, ...], g[0, ...])
    for a in range(1, g.shape[0]):
        out += g[a, ...] * g[a, ...]
    return into("sqrt", out, out)


class DualState:
    """Buffers of the dTV prox for one library/dtype/device, the warm-start pair and :math:`\\xi` in that dtype."""

    def __init__(self, xp, key, operator, x, constraint):
        shape, d = tuple(x.shape), x.ndim
        dtype, device = x.dtype, x.device
        self.xp, self.key, self.operator = xp, key, operator
        self.into = bind_into(xp)

        def empty(s):
            return xp.empty(s, dtype=dtype, device=device)

        self.p = xp.zeros((d,) + shape, dtype=dtype, device=device)  # dual iterate, |p_i| <= 1
        self.g, self.q = empty((d,) + shape), empty((d,) + shape)  # gradients; P applied
        self.u, self.v, self.ub, self.n, self.s = (empty(shape) for _ in range(5))
        self.ones = xp.ones(shape, dtype=dtype, device=device)
        self.zeros = xp.zeros(shape, dtype=dtype, device=device)
        self.gamma = operator.gamma
        self.xi = operator._xi(dtype)
        self.gxi = self.gamma * self.xi
        self.warm = False
        self.kernels = None
        if d == 2 and is_numpy(xp):
            self.kernels = numba_kernels()
            if self.kernels is not None:
                self.rows = empty((3, shape[1]))
                self.flat = empty((math.prod(shape),))
                self.xi = xp.ascontiguousarray(self.xi)
                self.scalar = dtype.type
                self.shift = self.scalar(0.0 if constraint == "nonnegative" else math.inf)
                self.simplex = constraint == "simplex"

    # -- compiled path (NumPy, 2-D) ---------------------------------------------------------------
    def fused_run(self, x, w, n, step, dual_step):
        """``n`` iterations by the compiled kernel from the step sizes ``(step, dual_step)``; returns the next ones."""
        return self.kernels[0](n, step, dual_step, w, self.ub, self.p, self.xi, self.scalar(self.gamma), self.u, x,
                               self.shift, self.rows, self.simplex, self.flat)

    def fused_gap_terms(self, x, w):
        """``(dTV(u), sum(|g| - <g, p>), Fenchel-Young sum, sum((u - x)^2), sum((proj z - z)^2))``.

        Computed in one pass by the compiled kernel.
        """
        return self.kernels[1](self.u, self.p, self.xi, self.scalar(self.gamma), x, self.scalar(w),
                               bool(self.shift == 0), self.simplex, self.rows, self.flat)

    # -- array-API path ---------------------------------------------------------------------------
    def iterate(self, x, w, step, c1, c2, constraint, project_simplex):
        """One inner iteration by array-API calls (``c1``, ``c2``: the weights of :math:`\\bar u = c_1 d + c_2 u`)."""
        into = self.into
        # dual step: p <- proj(p + sigma w P grad ubar); ub already carries sigma w
        g = self.project_into(self.operator.gradient.forward_into(self.ub, self.g), self.q)
        into("add", self.p, self.p, g)
        self.project_dual()
        # primal step: u' = proj_C(u + step / (1 + step) (z - u)), z = x - w grad^* P p
        v = self.z_into(x, w, self.v)
        into("subtract", v, v, self.u)
        into("multiply", v, v, step / (1.0 + step))
        if constraint == "nonnegative":
            # max(u + v, 0) - u = max(v, -u): the step d itself, in two passes
            into("negative", self.n, self.u)
            into("maximum", v, v, self.n)
        elif constraint == "simplex":
            into("add", v, v, self.u)
            v[...] = project_simplex(v)
            into("subtract", v, v, self.u)
        into("add", self.u, self.u, v)  # v is the step d = u' - u
        into("multiply", self.ub, v, c1)
        into("multiply", self.q[0, ...], self.u, c2)
        into("add", self.ub, self.ub, self.q[0, ...])

    def project_into(self, g, out):
        r"""``out`` = :math:`P_\xi g = g - \gamma\,\xi\langle\xi, g\rangle`.

        ``g`` is left unchanged unless it is ``out``.
        """
        into, xi, s = self.into, self.xi, self.s
        if self.gamma == 0.0:
            return g
        into("multiply", s, xi[0, ...], g[0, ...])
        for a in range(1, g.shape[0]):
            into("multiply", self.n, xi[a, ...], g[a, ...])
            into("add", s, s, self.n)
        for a in range(g.shape[0]):
            into("multiply", self.n, self.gxi[a, ...], s)
            into("subtract", out[a, ...], g[a, ...], self.n)
        return out

    def project_dual(self):
        """``p`` onto :math:`\\{|p_i| \\le 1\\}`, in place."""
        into, p, n = self.into, self.p, self.n
        into("multiply", self.g, p, p)
        if p.shape[0] == 1:
            into("multiply", n, self.g[0, ...], 1.0)
        else:
            into("add", n, self.g[0, ...], self.g[1, ...])
        for a in range(2, p.shape[0]):
            into("add", n, n, self.g[a, ...])
        into("sqrt", n, n)
        into("maximum", n, n, self.ones)  # an array operand: NumPy's scalar-broadcast maximum is ~4x slower
        into("divide", p, p, n[None, ...])

    def z_into(self, x, w, out):
        r"""``out`` = :math:`z = x - w\,\nabla^* P_\xi p = x + w \operatorname{div}(P_\xi p)`.

        :math:`(P_\xi p)_a` vanishes on the last slice along axis :math:`a` (there
        :math:`\partial_a v = 0`, so :math:`\xi_a = 0` and :math:`p_a` only ever received zeros),
        the condition of the short divergence.
        """
        divergence_into(self.project_into(self.p, self.q), out, self.into)
        self.into("multiply", out, out, w)
        return self.into("add", out, x, out)
