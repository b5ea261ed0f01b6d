r"""Iterative least squares for :math:`\min_x \tfrac12\|Kx - y\|^2`: Landweber and CGLS.

Both are regularised by stopping early: on noisy data the iterates first approach the truth,
then fit the noise.  With ``noise_level`` :math:`\delta` (the norm of the noise,
:math:`\|y - y^\dagger\|`; for i.i.d. noise of standard deviation :math:`s` on :math:`m` samples
:math:`\approx s\sqrt m`) they stop by the discrepancy principle (Morozov) at the first iterate
with :math:`\|Kx_k - y\| \le \eta\,\delta`.

References
----------
Landweber, L. (1951). An iteration formula for Fredholm integral equations of the first kind.
*Amer. J. Math.* 73(3), 615–624.
Björck, Å. (1996). *Numerical Methods for Least Squares Problems*. SIAM (CGLS, Section 7.4).
Hansen, P. C. (2010). *Discrete Inverse Problems: Insight and Algorithms*. SIAM.
"""
from __future__ import annotations

import math

from .._checks import array, finite, finite_array, finite_or_none
from .._checks import shape as check_shape
from ..backend import array_namespace
from ..operators.base import LinearOperator
from ..vectors import norm, relative_change, vdot, zeros_like
from ._loop import Loop
from .result import Result

__all__ = ["landweber", "cgls"]


def _check_problem(K, y, x0, noise_level, eta):
    if not isinstance(K, LinearOperator):
        raise TypeError(f"K must be a LinearOperator, got {type(K).__name__}")
    finite_array(check_shape(array(y, "y"), K.shape_out, "y", "K.shape_out"), "y")
    if x0 is None:
        x0 = zeros_like(K.adjoint(y))
    else:
        finite_array(check_shape(array(x0, "x0"), K.shape_in, "x0", "K.shape_in"), "x0")
    noise_level = finite_or_none(noise_level, "noise_level", ge=0)
    eta = finite(eta, "eta", ge=1)  # the discrepancy principle needs eta >= 1
    return x0, None if noise_level is None else eta * noise_level


def _discrepancy(res, delta):
    return f"discrepancy principle: residual {res:.4g} <= {delta:.4g}"


def landweber(K, y, x0=None, *, step=None, nonneg: bool = False, iters: int = 200, tol: float = 1e-6,
              noise_level=None, eta: float = 1.0, callback=None, progress: bool = False) -> Result:
    r"""Landweber iteration (gradient descent on :math:`\tfrac12\|Kx - y\|^2`), optionally projected.

    .. math::
        x_{k+1} = P\bigl(x_k + \omega K^*(y - Kx_k)\bigr),

    with :math:`P` the projection on :math:`x \ge 0` when ``nonneg`` (else the identity).

    Parameters
    ----------
    K : LinearOperator
    y : array, shape ``K.shape_out``
    x0 : array, optional
        Start (default zeros like :math:`K^*y`).
    step : float, optional
        :math:`\omega`; must satisfy :math:`0 < \omega < 2/\|K\|^2`.  Default :math:`1/\|K\|^2`
        (``K.norm()``).
    nonneg : bool
        Project on :math:`x \ge 0` after each step.
    iters : int
        Maximum number of iterations.
    tol : float
        Stop when :math:`\|x_{k+1} - x_k\| \le \mathrm{tol}\,\|x_{k+1}\|`; ``0`` switches the test off.
    noise_level, eta : float, optional
        Discrepancy principle: stop at the first :math:`x_k` with :math:`\|Kx_k - y\| \le \eta\,\delta`,
        :math:`\delta` = ``noise_level`` (:math:`\eta \ge 1`).
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k``; returning ``True`` stops.
    progress : bool
        tqdm progress bar.

    Returns
    -------
    Result
        history: ``residual`` :math:`\|Kx_k - y\|` (row 0 the start), ``relative_change``
        (``nan`` at row 0); extras: ``step``.

    Notes
    -----
    For :math:`0 < \omega < 2/\|K\|^2` the iterates converge to the least-squares solution closest to
    :math:`x_0` (without projection; with it, to a minimiser over :math:`x \ge 0`), and the residual
    decreases monotonically.  Convergence is slow (its rate is set by the small singular values of
    :math:`K`), which is what makes the iteration count a regularisation parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.operators import MatrixOperator
    >>> K = MatrixOperator(np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    >>> res = landweber(K, np.array([2.0, 3.0, 0.0]), iters=500, tol=1e-12)
    >>> np.allclose(res.x, [1.0, 3.0])
    True
    """
    x, delta = _check_problem(K, y, x0, noise_level, eta)
    loop = Loop("landweber", iters, tol=tol, callback=callback, progress=progress)
    bound = 2.0 / K.norm() ** 2
    step = 1.0 / K.norm() ** 2 if step is None else finite(step, "step", gt=0)
    if not step < bound:
        raise ValueError(f"step must be < 2/||K||^2 = {bound:.6g}, got {step}")
    xp = array_namespace(x)
    r = y - K(x)
    res = norm(r)
    # row 0 is the start: no change yet, but every column keeps one value per row of ``iteration``
    loop.record(iteration=0, residual=res, relative_change=math.nan)
    if delta is not None and res <= delta:
        loop.stop(_discrepancy(res, delta))
        return loop.result(x, extras={"step": step})
    for _ in loop:
        x_new = x + step * K.adjoint(r)
        if nonneg:
            x_new = xp.maximum(x_new, 0.0)
        change = relative_change(x_new, x)
        x = x_new
        r = y - K(x)
        res = norm(r)
        loop.record(residual=res, relative_change=change)
        if delta is not None and res <= delta and loop.stop(_discrepancy(res, delta)):
            break
        if loop.below_tol(change):
            break
        if loop.callback_stops(x):
            break
    return loop.result(x, extras={"step": step})


def cgls(K, y, x0=None, *, damp: float = 0.0, nonneg: bool = False, iters: int = 50, tol: float = 1e-6,
         noise_level=None, eta: float = 1.0, callback=None, progress: bool = False) -> Result:
    r"""CGLS: conjugate gradients on the normal equations :math:`(K^*K + \mathrm{damp}\,I)x = K^*y`.

    Minimises :math:`\|Kx - y\|^2 + \mathrm{damp}\,\|x\|^2` without forming :math:`K^*K`
    (Björck 1996): each iteration costs one :math:`K` and one :math:`K^*`, and the iterate
    :math:`x_k` minimises the objective over :math:`x_0` plus the :math:`k`-th Krylov space of
    :math:`K^*K`.

    Parameters
    ----------
    K : LinearOperator
    y : array, shape ``K.shape_out``
    x0 : array, optional
        Start (default zeros like :math:`K^*y`).
    damp : float
        Tikhonov damping :math:`\ge 0`.
    nonneg : bool
        Clip the *final* iterate to :math:`x \ge 0` (CGLS itself is unconstrained).
    iters : int
        Maximum number of iterations.
    tol : float
        Stop when the normal-equation residual :math:`\|K^*(y - Kx_k) - \mathrm{damp}\,x_k\| \le
        \mathrm{tol}\,\|K^*y\|`; ``0`` switches the test off.
    noise_level, eta : float, optional
        Discrepancy principle as in :func:`landweber` (residual :math:`\|Kx_k - y\|`).
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k``; returning ``True`` stops.
    progress : bool
        tqdm progress bar.

    Returns
    -------
    Result
        history: ``residual`` :math:`\|Kx_k - y\|`.

    Notes
    -----
    In exact arithmetic CGLS reaches the minimiser in at most :math:`n` iterations (:math:`n` the
    number of unknowns); the residual :math:`\|Kx_k - y\|` decreases monotonically, and the error
    converges at the rate of conjugate gradients on :math:`K^*K + \mathrm{damp}\,I` (condition
    number :math:`\kappa(K)^2`).  Without damping, early stopping regularises.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.operators import MatrixOperator
    >>> K = MatrixOperator(np.array([[1.0, 1.0], [1.0, -1.0], [2.0, 0.0]]))
    >>> res = cgls(K, np.array([3.0, -1.0, 2.0]), tol=1e-12)
    >>> np.allclose(res.x, [1.0, 2.0]) and res.iterations <= 2
    True
    """
    x, delta = _check_problem(K, y, x0, noise_level, eta)
    loop = Loop("cgls", iters, tol=tol, callback=callback, progress=progress)
    damp = finite(damp, "damp", ge=0)
    r = y - K(x)
    s = K.adjoint(r) - damp * x
    p, gamma = s, vdot(s, s)
    target = loop.tol * norm(K.adjoint(y))
    if gamma == 0:  # x0 solves the normal equations already
        loop.stop("normal-equation residual is 0 at x0")
    for _ in (() if loop.stopped else loop):
        q = K(p)
        alpha = gamma / (vdot(q, q) + damp * vdot(p, p))
        x, r = x + alpha * p, r - alpha * q
        res = norm(r)
        loop.record(residual=res)
        if delta is not None and res <= delta and loop.stop(_discrepancy(res, delta)):
            break
        s = K.adjoint(r) - damp * x
        gamma_new = vdot(s, s)
        if loop.tol > 0 and math.sqrt(gamma_new) <= target and loop.stop(
                f"normal-equation residual <= tol = {loop.tol:g} relative"):
            break
        if loop.callback_stops(x):
            break
        p, gamma = s + (gamma_new / gamma) * p, gamma_new
    if nonneg:
        x = array_namespace(x).maximum(x, 0.0)
    return loop.result(x)
