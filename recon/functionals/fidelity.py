r"""Data terms :math:`D(Ax, y)`: squared :math:`\ell^2` (Gaussian noise), :math:`\ell^1` (impulsive noise),
Kullback–Leibler (Poisson noise).

Each stores the data ``y`` (checked finite at construction) and casts it to the dtype of the
argument it meets, so a float32 iterate stays float32.
"""
from __future__ import annotations

import math

from .._checks import finite
from ..backend import array_namespace, check_finite, combine_into
from ..operators.base import Diagonal, Identity, LinearOperator
from .base import Functional
from .norms import feasible, soft_threshold

__all__ = ["L2DataFidelity", "L1DataFidelity", "KullbackLeibler"]


def _as_dtype(a, like):
    xp = array_namespace(a, like)
    return a if a.dtype == like.dtype else xp.astype(a, like.dtype)


def _check_data(y, name="y"):
    if not hasattr(y, "shape") or not hasattr(y, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(y).__name__}")
    check_finite(y, name)


class L2DataFidelity(Functional):
    r"""Least squares :math:`F(x) = \tfrac12\|Ax - y\|_2^2`.

    .. math::
        \nabla F(x) = A^*(Ax - y), \qquad \operatorname{Lip}(\nabla F) = \|A\|^2.

    The prox :math:`\operatorname{argmin}_z \tau F(z) + \tfrac12\|z - x\|^2` is in closed form when
    :math:`A` is the identity, :math:`(x + \tau y)/(1 + \tau)`, or diagonal,
    :math:`(x + \tau \bar d y)/(1 + \tau |d|^2)`; for a general :math:`A` it is a linear system,
    and the problem is better split with ``pdhg`` (:math:`F = \tfrac12\|\cdot - y\|^2`, :math:`K = A`).
    For :math:`A = I` the conjugate is :math:`F^*(p) = \tfrac12\|p\|^2 + \langle p, y\rangle`.

    Parameters
    ----------
    y : array
        Data, shape ``op.shape_out`` (any shape when ``op`` is ``None``), finite.
    op : LinearOperator, optional
        Forward operator :math:`A`; the identity if ``None``.
    """

    def __init__(self, y, op: LinearOperator | None = None):
        _check_data(y)
        if op is None:
            op = Identity(tuple(y.shape))
        elif not isinstance(op, LinearOperator):
            raise TypeError(f"op must be a LinearOperator or None, got {type(op).__name__}")
        if tuple(y.shape) != op.shape_out:
            raise ValueError(f"y has shape {tuple(y.shape)}, expected op.shape_out = {op.shape_out}")
        self.y, self.op = y, op
        self._identity = isinstance(op, Identity)
        self.strong_convexity = 1.0 if self._identity else 0.0

    @property
    def lipschitz(self):
        return self.op.norm() ** 2

    def residual(self, x):
        """:math:`Ax - y`."""
        ax = self.op(x)
        return ax - _as_dtype(self.y, ax)

    def __call__(self, x):
        xp = array_namespace(x)
        r = self.residual(x)
        return 0.5 * float(xp.sum(r * r))

    def grad(self, x):
        return self.op.adjoint(self.residual(x))

    def _prox_into(self, x, tau, out):
        """Write :meth:`prox` into ``out`` (may be ``x``); one pass when ``A`` is the identity.  Returns ``out``."""
        tau = float(tau)
        if not self._identity:
            out[...] = self.prox(x, tau)
            return out
        y = self.y
        if y.dtype != x.dtype:  # keep the cast: solvers call this every iteration
            cast = getattr(self, "_y_cast", None)
            if cast is None or cast.dtype != x.dtype or type(cast) is not type(x):
                self._y_cast = cast = _as_dtype(y, x)
            y = cast
        return combine_into(out, 1.0 / (1.0 + tau), x, tau / (1.0 + tau), y)

    def _prox(self, x, tau):
        tau = float(tau)
        y = _as_dtype(self.y, x)
        if self._identity:
            return (x + tau * y) * (1.0 / (1.0 + tau))
        if isinstance(self.op, Diagonal):
            d = _as_dtype(self.op.d, x)
            return (x + tau * d * y) / (1.0 + tau * d * d)
        raise NotImplementedError(
            "the prox of 1/2||Ax - y||^2 needs a linear solve for a general A; "
            "use pdhg with f = L2DataFidelity(y) and K = A instead"
        )

    def conj(self, p):
        if not self._identity:
            raise NotImplementedError("the conjugate of 1/2||Ax - y||^2 is in closed form only for A = I")
        xp = array_namespace(p)
        y = _as_dtype(self.y, p)
        return float(0.5 * xp.sum(p * p) + xp.sum(p * y))

    def _prox_conj(self, p, sigma):
        if not self._identity:
            return super().prox_conj(p, sigma)
        sigma = float(sigma)
        # argmin_z sigma (1/2||z||^2 + <z, y>) + 1/2||z - p||^2
        return (p - sigma * _as_dtype(self.y, p)) * (1.0 / (1.0 + sigma))

    def __repr__(self):
        return f"L2DataFidelity(y: {tuple(self.y.shape)}, op={self.op!r})"


class L1DataFidelity(Functional):
    r""":math:`F(x) = \|x - y\|_1`, robust to outliers (salt-and-pepper noise).

    .. math::
        \operatorname{prox}_{\tau F}(x) = y + \operatorname{soft}_\tau(x - y), \qquad
        F^*(p) = \langle p, y\rangle + \iota_{\{\|p\|_\infty \le 1\}}(p), \qquad
        \operatorname{prox}_{\sigma F^*}(p) = \operatorname{clip}(p - \sigma y, -1, 1).

    References
    ----------
    Nikolova, M. (2004). A variational approach to remove outliers and impulse noise.
    J. Math. Imaging Vis. 20.
    """

    def __init__(self, y):
        _check_data(y)
        self.y = y

    def __call__(self, x):
        xp = array_namespace(x)
        return float(xp.sum(xp.abs(x - _as_dtype(self.y, x))))

    def _prox(self, x, tau):
        y = _as_dtype(self.y, x)
        return y + soft_threshold(x - y, float(tau))

    def _prox_conj(self, p, sigma):
        xp = array_namespace(p)
        return xp.clip(p - float(sigma) * _as_dtype(self.y, p), -1.0, 1.0)

    def conj(self, p):
        xp = array_namespace(p)
        if not feasible(float(xp.max(xp.abs(p))), 1.0, p.dtype, xp):
            return math.inf
        return float(xp.sum(p * _as_dtype(self.y, p)))


class KullbackLeibler(Functional):
    r"""Kullback–Leibler divergence of the model :math:`x + b` from counts :math:`y` (Poisson noise).

    .. math::
        F(x) = \sum_i (x_i + b_i) - y_i + y_i \log\frac{y_i}{x_i + b_i}
        \quad (0 \log 0 = 0,\ F = \infty \text{ where } x_i + b_i < 0 \text{ or } = 0 < y_i),

    which is :math:`\sum_i x_i - y_i\log(x_i + b_i)` up to a constant, and vanishes at :math:`x + b = y`.
    Its prox is the non-negative root of a quadratic,

    .. math::
        w = \operatorname{prox}_{\tau F}(x) + b = \tfrac12\Bigl(s + \sqrt{s^2 + 4\tau y}\Bigr),
        \quad s = x + b - \tau,

    (computed as :math:`2\tau y / (\sqrt{s^2 + 4\tau y} - s)` where :math:`s < 0`, free of cancellation),
    and its conjugate is :math:`F^*(p) = \sum_i -y_i\log(1 - p_i) - b_i p_i` for :math:`p < 1`
    (:math:`p_i \le 1` where :math:`y_i = 0`).  The gradient :math:`1 - y/(x + b)` is not Lipschitz.

    Parameters
    ----------
    y : array
        Counts, finite and ``>= 0``.
    background : float or array, default 0
        Known background :math:`b \ge 0` (scalar or the shape of ``y``).

    References
    ----------
    Sawatzky, A., Brune, C., Müller, J., Burger, M. (2009). Total variation processing of images with
    Poisson statistics. CAIP, LNCS 5702.
    """

    def __init__(self, y, background=0.0):
        _check_data(y)
        xp = array_namespace(y)
        if not bool(xp.all(y >= 0)):
            raise ValueError(f"y must be >= 0, got minimum {float(xp.min(y))}")
        if hasattr(background, "shape"):
            check_finite(background, "background")
            if tuple(background.shape) != tuple(y.shape):
                raise ValueError(f"background has shape {tuple(background.shape)}, expected {tuple(y.shape)}")
            if not bool(xp.all(background >= 0)):
                raise ValueError(f"background must be >= 0, got minimum {float(xp.min(background))}")
        else:
            background = finite(background, "background", ge=0)
        self.y, self.background = y, background

    def _b(self, like):
        return _as_dtype(self.background, like) if hasattr(self.background, "shape") else self.background

    def __call__(self, x):
        xp = array_namespace(x)
        y, w = _as_dtype(self.y, x), x + self._b(x)
        if bool(xp.any(w < 0)) or bool(xp.any((w == 0) & (y > 0))):
            return math.inf
        pos = y > 0
        safe_w = xp.where(pos, w, 1.0)
        safe_y = xp.where(pos, y, 1.0)
        return float(xp.sum(w - y + xp.where(pos, y * xp.log(safe_y / safe_w), 0.0)))

    def grad(self, x):
        return 1.0 - _as_dtype(self.y, x) / (x + self._b(x))

    def _prox(self, x, tau):
        xp = array_namespace(x)
        tau, b = float(tau), self._b(x)
        y = _as_dtype(self.y, x)
        s = x + b - tau
        root = xp.sqrt(s * s + (4.0 * tau) * y)
        denom = root - s
        small = 2.0 * tau * y / xp.where(denom > 0, denom, 1.0)
        return xp.where(s >= 0, 0.5 * (s + root), small) - b

    def conj(self, p):
        xp = array_namespace(p)
        y = _as_dtype(self.y, p)
        pos = y > 0
        if bool(xp.any(p > 1)) or bool(xp.any(pos & (p >= 1))):
            return math.inf
        one_minus = xp.where(pos, 1.0 - p, 1.0)
        return float(xp.sum(xp.where(pos, -y * xp.log(one_minus), 0.0) - self._b(p) * p))
