r"""Tikhonov regularization :math:`\|Lx\|^2` for any linear :math:`L`."""
from __future__ import annotations

import math

from .._checks import finite, positive_int
from ..backend import array_namespace
from ..operators.base import Identity, LinearOperator, norm, vdot
from .base import Functional

__all__ = ["Tikhonov"]


class Tikhonov(Functional):
    r"""Quadratic regularizer :math:`F(x) = \|Lx\|_2^2` — squared, and **without** a factor ½.

    .. math::
        \nabla F(x) = 2 L^*L x, \qquad \operatorname{Lip}(\nabla F) = 2\|L\|^2, \qquad
        \operatorname{prox}_{\tau F}(x) = (I + 2\tau L^*L)^{-1} x.

    With :math:`L = I` the prox is :math:`x / (1 + 2\tau)`, :math:`F` is 2-strongly convex and
    :math:`F^*(y) = \tfrac14\|y\|^2`.  For a general :math:`L` the prox solves the symmetric positive
    definite system :math:`(I + 2\tau L^*L) z = x` by conjugate gradients started at :math:`x`,
    stopping when the residual falls below ``cg_tol`` relative to :math:`\|x\|` (or after
    ``cg_iters`` steps; ``prox_with_info`` returns how many were taken).  CG converges because the
    system matrix has spectrum in :math:`[1, 1 + 2\tau\|L\|^2]`.

    Parameters
    ----------
    op : LinearOperator, optional
        :math:`L` (e.g. :class:`~recon.operators.Gradient` for an :math:`H^1` prior); identity if ``None``.
    cg_tol : float, default 1e-8
        Relative residual at which CG stops (floored at 10 machine epsilons of the input dtype).
    cg_iters : int, default 200
        Maximum number of CG iterations.

    References
    ----------
    Tikhonov, A. N. (1963). Solution of incorrectly formulated problems and the regularization method.
    Hestenes, M. R., Stiefel, E. (1952). Methods of conjugate gradients for solving linear systems.
    """

    def __init__(self, op: LinearOperator | None = None, *, cg_tol: float = 1e-8, cg_iters: int = 200):
        if op is not None and not isinstance(op, LinearOperator):
            raise TypeError(f"op must be a LinearOperator or None, got {type(op).__name__}")
        self.op, self.cg_tol = op, finite(cg_tol, "cg_tol", gt=0)
        self.cg_iters = positive_int(cg_iters, "cg_iters")
        self._identity = op is None or isinstance(op, Identity)
        self.strong_convexity = 2.0 if self._identity else 0.0

    @property
    def lipschitz(self):
        return 2.0 if self._identity else 2.0 * self.op.norm() ** 2

    def __call__(self, x):
        return norm(x if self.op is None else self.op(x)) ** 2

    def grad(self, x):
        return 2.0 * (x if self._identity else self.op.adjoint(self.op(x)))

    def _prox(self, x, tau):
        return self._solve(x, tau)[0]

    def prox_with_info(self, x, tau):
        """:meth:`prox` and the number of conjugate-gradient iterations it took (0 for ``L = I``)."""
        finite(tau, "tau", gt=0)
        return self._solve(x, tau)

    def _solve(self, x, tau):
        tau = float(tau)
        if self._identity:
            return (1.0 / (1.0 + 2.0 * tau)) * x, 0
        return self._cg(x, tau)

    def _cg(self, b, tau):
        xp = array_namespace(b)
        op = self.op

        def system(z):
            return z + (2.0 * tau) * op.adjoint(op(z))

        z = b
        r = b - system(z)
        d = r
        rr = vdot(r, r)
        tol = max(self.cg_tol, 10.0 * float(xp.finfo(b.dtype).eps)) * norm(b)
        k = 0
        while k < self.cg_iters and math.sqrt(rr) > tol:
            sd = system(d)
            alpha = rr / vdot(d, sd)
            z = z + alpha * d
            r = r - alpha * sd
            rr_new = vdot(r, r)
            d = r + (rr_new / rr) * d
            rr = rr_new
            k += 1
        return z, k

    def conj(self, y):
        if not self._identity:
            raise NotImplementedError("the conjugate of ||Lx||^2 is in closed form only for L = I")
        return 0.25 * norm(y) ** 2

    def __repr__(self):
        return f"Tikhonov(op={self.op!r})"
