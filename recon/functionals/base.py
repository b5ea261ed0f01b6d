r"""The Functional protocol: value, gradient, proximal map, convex conjugate.

Solvers only talk to this protocol.  A functional :math:`F` offers what it can:

* ``F(x)`` -> float, the value (``inf`` outside the domain of an indicator);
* ``F.grad(x)`` where :math:`F` is differentiable, with ``F.lipschitz`` the Lipschitz constant
  of the gradient (``None`` if unknown or not differentiable);
* ``F.prox(x, tau)`` :math:`= \operatorname{argmin}_z \tau F(z) + \tfrac12\|z - x\|^2`;
* ``F.prox_conj(x, sigma)``, the prox of the convex conjugate :math:`F^*`, by Moreau's identity
  :math:`\operatorname{prox}_{\sigma F^*}(x) = x - \sigma \operatorname{prox}_{F/\sigma}(x/\sigma)`
  unless a subclass knows a cheaper form;
* ``F.conj(y)`` -> float, the value of :math:`F^*` where known (primal-dual gaps);
* ``F.prox_into(x, tau, out)`` and ``F.prox_conj_into(x, sigma, out)``: the same maps written
  into a preallocated ``out`` (which may be ``x``), for hot loops (pdhg).

``prox`` and ``prox_conj`` are template methods: they check the step (a finite number > 0) once
and call ``_prox`` / ``_prox_conj``, which subclasses implement (``_prox_conj`` defaults to Moreau's
identity).  ``prox_into`` / ``prox_conj_into`` check the step and call ``_prox_into`` /
``_prox_conj_into``, whose defaults call ``prox`` / ``prox_conj`` and copy; functionals that can
write in place override them.  ``_prox_conj_scaled_into(x, sigma, out, c)`` is the hook through
which ``c * F`` reaches an in-place conjugate prox of ``F`` (e.g. :class:`~recon.functionals.L21`).
Inner solvers (the TV prox) report their statistics through ``prox_with_info``, not attributes.

Algebra: ``c * F`` (``c >= 0``), ``F + G`` (value and gradient; prox only if one of them is
zero), ``F @ A`` for a linear operator ``A`` (value and gradient of :math:`F \circ A`),
and :class:`SeparableSum` for functionals of tuples (the dual of a stacked operator).
"""
from __future__ import annotations

import math
import numbers

from .._checks import finite
from ..vectors import assign, norm

__all__ = ["Functional", "ScaledFunctional", "SumFunctional", "ComposedFunctional", "SeparableSum", "Zero"]


class Functional:
    """Base class; subclasses override what they can compute.

    Attributes
    ----------
    lipschitz : float or None
        Lipschitz constant of :meth:`grad` (``None`` if not differentiable or unknown).
    strong_convexity : float
        Modulus :math:`\\mu` with :math:`F - \\tfrac{\\mu}{2}\\|\\cdot\\|^2` convex (0 if none).
    """

    lipschitz = None
    strong_convexity = 0.0

    def __call__(self, x) -> float:
        raise NotImplementedError(f"{type(self).__name__} has no value")

    def grad(self, x):
        raise NotImplementedError(f"{type(self).__name__} is not differentiable; use its prox")

    def prox(self, x, tau):
        """:math:`\\operatorname{prox}_{\\tau F}(x)`; ``tau`` must be a finite number > 0."""
        finite(tau, "tau", gt=0)
        return self._prox(x, tau)

    def prox_conj(self, x, sigma):
        """:math:`\\operatorname{prox}_{\\sigma F^*}(x)`; ``sigma`` must be a finite number > 0."""
        finite(sigma, "sigma", gt=0)
        return self._prox_conj(x, sigma)

    def prox_into(self, x, tau, out):
        """:meth:`prox` written into ``out`` (may be ``x``); returns ``out``."""
        finite(tau, "tau", gt=0)
        return self._prox_into(x, tau, out)

    def prox_conj_into(self, x, sigma, out):
        """:meth:`prox_conj` written into ``out`` (may be ``x``); returns ``out``."""
        finite(sigma, "sigma", gt=0)
        return self._prox_conj_into(x, sigma, out)

    # -- to implement (steps already checked) ---------------------------------------------------
    def _prox(self, x, tau):
        raise NotImplementedError(f"{type(self).__name__} has no proximal map")

    def _prox_conj(self, x, sigma):
        # Moreau's identity
        return x - sigma * self.prox(x / sigma, 1.0 / sigma)

    def _prox_into(self, x, tau, out):
        return assign(out, self.prox(x, tau))

    def _prox_conj_into(self, x, sigma, out):
        return assign(out, self.prox_conj(x, sigma))

    def _prox_conj_scaled_into(self, x, sigma, out, c):
        r"""Write :math:`\operatorname{prox}_{\sigma (cF)^*}(x) = c\operatorname{prox}_{(\sigma/c)F^*}(x/c)` to ``out``.

        ``c > 0``; the hook through which ``c * F`` reaches an in-place form of ``F``.
        """
        return assign(out, c * self.prox_conj(x / c, sigma / c))

    def conj(self, y) -> float:
        raise NotImplementedError(f"{type(self).__name__} has no convex conjugate in closed form")

    # -- algebra -------------------------------------------------------------------------------
    def __rmul__(self, c):
        if isinstance(c, numbers.Real):
            return ScaledFunctional(c, self)
        return NotImplemented

    __mul__ = __rmul__

    def __add__(self, other):
        if isinstance(other, Functional):
            return SumFunctional(self, other)
        return NotImplemented

    def __matmul__(self, op):
        from ..operators.base import LinearOperator

        if isinstance(op, LinearOperator):
            return ComposedFunctional(self, op)
        return NotImplemented

    def __repr__(self):
        return f"{type(self).__name__}()"


class ScaledFunctional(Functional):
    r""":math:`cF`, :math:`c \ge 0`; prox by :math:`\operatorname{prox}_{\tau cF} = \operatorname{prox}_{(c\tau)F}`."""

    def __init__(self, c, f):
        self.c, self.f = finite(c, "weight", ge=0), f
        self.lipschitz = None if f.lipschitz is None else c * f.lipschitz
        self.strong_convexity = c * f.strong_convexity

    def __call__(self, x):
        return self.c * self.f(x) if self.c else 0.0

    def grad(self, x):
        return self.c * self.f.grad(x)

    def _prox(self, x, tau):
        if self.c == 0:
            return x
        return self.f.prox(x, self.c * tau)

    def _prox_into(self, x, tau, out):
        if self.c == 0:
            return assign(out, x)
        return self.f.prox_into(x, self.c * tau, out)

    def conj(self, y):
        # (cF)^*(y) = c F^*(y / c)
        return self.c * self.f.conj(y / self.c)

    def _prox_conj(self, x, sigma):
        # prox_{σ(cF)^*}(x) = c prox_{(σ/c) F^*}(x / c)
        if self.c == 0:
            return 0 * x
        return self.c * self.f.prox_conj(x / self.c, sigma / self.c)

    def _prox_conj_into(self, x, sigma, out):
        if self.c == 0:
            return assign(out, 0 * x)
        return self.f._prox_conj_scaled_into(x, sigma, out, self.c)

    def __repr__(self):
        return f"{self.c!r} * {self.f!r}"


class SumFunctional(Functional):
    """:math:`F + G`: value and gradient; the prox of a sum is not cheap in general."""

    def __init__(self, f, g):
        self.f, self.g = f, g
        self.lipschitz = None if f.lipschitz is None or g.lipschitz is None else f.lipschitz + g.lipschitz
        self.strong_convexity = f.strong_convexity + g.strong_convexity

    def __call__(self, x):
        return self.f(x) + self.g(x)

    def grad(self, x):
        return self.f.grad(x) + self.g.grad(x)

    def _single(self):
        if isinstance(self.f, Zero):
            return self.g
        if isinstance(self.g, Zero):
            return self.f
        raise NotImplementedError("the prox of a sum has no closed form; split the terms (pdhg) instead")

    def _prox(self, x, tau):
        return self._single().prox(x, tau)

    def _prox_into(self, x, tau, out):
        return self._single().prox_into(x, tau, out)

    def __repr__(self):
        return f"{self.f!r} + {self.g!r}"


class ComposedFunctional(Functional):
    """:math:`F \\circ A` for linear :math:`A`: value :math:`F(Ax)`, gradient :math:`A^*\\nabla F(Ax)`."""

    def __init__(self, f, op):
        self.f, self.op = f, op
        self.lipschitz = None if f.lipschitz is None else f.lipschitz * op.norm() ** 2

    def __call__(self, x):
        return self.f(self.op(x))

    def grad(self, x):
        return self.op.adjoint(self.f.grad(self.op(x)))

    def __repr__(self):
        return f"{self.f!r} @ {self.op!r}"


class SeparableSum(Functional):
    """:math:`F(x_1, \\dots, x_n) = \\sum_i F_i(x_i)` on tuples; prox and conjugate act blockwise."""

    def __init__(self, *fs):
        if not fs:
            raise ValueError("SeparableSum needs at least one functional")
        self.fs = fs
        ls = [f.lipschitz for f in fs]
        self.lipschitz = None if any(v is None for v in ls) else max(ls)

    def _check(self, x):
        if not isinstance(x, tuple) or len(x) != len(self.fs):
            raise ValueError(f"SeparableSum of {len(self.fs)} terms needs a tuple of {len(self.fs)} arrays")

    def __call__(self, x):
        self._check(x)
        return sum(f(xi) for f, xi in zip(self.fs, x))

    def grad(self, x):
        self._check(x)
        return tuple(f.grad(xi) for f, xi in zip(self.fs, x))

    def _prox(self, x, tau):
        self._check(x)
        return tuple(f.prox(xi, tau) for f, xi in zip(self.fs, x))

    def _prox_conj(self, x, sigma):
        self._check(x)
        return tuple(f.prox_conj(xi, sigma) for f, xi in zip(self.fs, x))

    def _prox_into(self, x, tau, out):
        self._check(x)
        return tuple(f.prox_into(xi, tau, oi) for f, xi, oi in zip(self.fs, x, out))

    def _prox_conj_into(self, x, sigma, out):
        self._check(x)
        return tuple(f.prox_conj_into(xi, sigma, oi) for f, xi, oi in zip(self.fs, x, out))

    def conj(self, y):
        self._check(y)
        return sum(f.conj(yi) for f, yi in zip(self.fs, y))


class Zero(Functional):
    """:math:`F = 0`: prox is the identity, conjugate the indicator of :math:`\\{0\\}`."""

    lipschitz = 0.0

    def __call__(self, x):
        return 0.0

    def grad(self, x):
        return 0 * x

    def _prox(self, x, tau):
        return x

    def _prox_into(self, x, tau, out):
        return assign(out, x)

    def _prox_conj(self, x, sigma):
        return 0 * x

    def conj(self, y):
        return 0.0 if norm(y) == 0 else math.inf
