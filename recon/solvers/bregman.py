r"""Bregman iterations and linearized Bregman (inverse scale space) for :math:`\min J(x)` s.t. :math:`Kx \approx y`.

Both methods start from an over-regularised (here: zero) reconstruction and bring back
scales step by step; the iteration index plays the role of the regularisation parameter, and
the discrepancy principle (stop once :math:`\|Kx_k - y\| \le \eta\,\delta` for a noise level
:math:`\delta`) stops before the noise returns.

References
----------
Osher, S., Burger, M., Goldfarb, D., Xu, J., Yin, W. (2005). An iterative regularization method
for total variation-based image restoration. *Multiscale Model. Simul.* 4(2), 460–489.

Yin, W., Osher, S., Goldfarb, D., Darbon, J. (2008). Bregman iterative algorithms for
:math:`\ell_1`-minimization with applications to compressed sensing. *SIAM J. Imaging Sci.* 1(1).

Cai, J.-F., Osher, S., Shen, Z. (2009). Linearized Bregman iterations for compressed sensing.
*Math. Comp.* 78, 1515–1536.
"""
from __future__ import annotations

import math

from .._checks import array, finite, finite_array, finite_or_none, positive_int
from .._checks import shape as check_shape
from ..operators.base import Identity, LinearOperator
from ..vectors import norm, zeros_like
from ._loop import Loop
from .result import Result

__all__ = ["bregman", "linearized_bregman"]


def _check_problem(K, y, noise_level, eta):
    if not isinstance(K, LinearOperator):
        raise TypeError(f"K must be a LinearOperator, got {type(K).__name__}")
    finite_array(check_shape(array(y, "y"), K.shape_out, "y", "K.shape_out"), "y")
    finite_or_none(noise_level, "noise_level", ge=0)
    finite(eta, "eta", ge=1)  # the discrepancy principle needs eta >= 1


def _stop_reason(r, ynorm, tol, noise_level, eta) -> str:
    """Why to stop at residual ``r`` (discrepancy principle first), or ``""`` to go on."""
    if noise_level is not None and r <= eta * noise_level:
        return f"discrepancy principle: residual {r:.3g} <= eta * noise_level"
    if r <= tol * ynorm:
        return f"relative residual {r / ynorm:.2e} <= tol"
    return ""


def linearized_bregman(
    K,
    y,
    J,
    *,
    delta: float = 1.0,
    tau: float | None = None,
    iters: int = 1000,
    tol: float = 1e-6,
    noise_level: float | None = None,
    eta: float = 1.0,
    momentum: bool = False,
    record_every: int = 1,
    keep_iterates: bool = False,
    callback=None,
    progress: bool = False,
) -> Result:
    r"""Linearized Bregman iteration (inverse scale space) for :math:`L(x) = \tfrac12\|Kx - y\|^2`.

    .. math::
        p_{k+1} = p_k - \tau K^*(K x_k - y), \qquad
        x_{k+1} = \operatorname{prox}_{\delta J}(\delta\, p_{k+1}),

    started at :math:`p_0 = 0,\ x_0 = \operatorname{prox}_{\delta J}(0)`.  It is mirror descent on
    :math:`L` with the mirror map :math:`J + \tfrac{1}{2\delta}\|\cdot\|^2` (:math:`p_k` is the
    subgradient of the mirror map at :math:`x_k`), and equivalently gradient ascent on the dual of

    .. math::
        \min_x\ J(x) + \tfrac{1}{2\delta}\|x\|^2 \quad\text{s.t.}\quad Kx = y .

    For :math:`J = \mu\|\cdot\|_1` and :math:`\mu` large enough (compared with
    :math:`\|x^\dagger\|_\infty`) that problem has the basis-pursuit solution (Yin 2010), so noiseless
    compressed sensing is solved exactly.

    Parameters
    ----------
    K : LinearOperator
    y : array, shape ``K.shape_out``
    J : Functional
        Convex, with ``prox`` (e.g. ``mu * L1()``, ``TV()``).
    delta : float
        Scale of the quadratic part of the mirror map (> 0).
    tau : float, optional
        Step.  Convergence needs :math:`\tau\delta\|K\|^2 < 2` (:math:`\le 1` with momentum);
        default :math:`1/(\delta\|K\|^2)`.
    iters, tol : int, float
        Maximum iterations; stop when :math:`\|Kx_k - y\| \le \text{tol}\,\|y\|` (noiseless data).
    noise_level, eta : float, optional
        Discrepancy principle: with :math:`\delta_y` = ``noise_level`` the norm of the noise
        :math:`\|y - y^\dagger\|` (for i.i.d. noise of standard deviation :math:`s` on :math:`m`
        samples, :math:`\approx s\sqrt m`), stop at the first :math:`k` with
        :math:`\|Kx_k - y\| \le \eta\,\delta_y`.
    momentum : bool
        Nesterov extrapolation of :math:`p` (accelerated linearized Bregman: accelerated gradient
        ascent on the same dual problem; Huang, Ma, Goldfarb 2013).
    keep_iterates : bool
        Store every recorded iterate in ``extras["iterates"]`` (the scale-space path).

    Returns
    -------
    Result
        history: ``residual`` :math:`\|Kx_k - y\|` (always), ``J``; extras: ``p``, ``tau``.
    """
    _check_problem(K, y, noise_level, eta)
    loop = Loop("linearized Bregman", iters, tol=tol, record_every=record_every, callback=callback,
                progress=progress, message="maximum number of iterations reached")
    delta = finite(delta, "delta", gt=0)
    tau = finite_or_none(tau, "tau", gt=0)
    L = K.norm() ** 2
    limit = 1.0 if momentum else 2.0
    if tau is None:
        tau = 1.0 / (delta * L)
    elif tau * delta * L >= limit * (1 + 1e-12):
        raise ValueError(
            f"tau * delta * ||K||^2 = {tau * delta * L:.4g} must be < {limit:g} for convergence"
            + (" with momentum" if momentum else "")
        )
    ynorm = norm(y)
    zero_in = zeros_like(K.adjoint(y))
    p = zero_in
    p_prev = p
    x = J.prox(zero_in, delta)
    t = 1.0
    iterates = []
    for k in loop:
        if momentum:
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            p_hat = p + ((t - 1.0) / t_next) * (p - p_prev)
            x_hat = J.prox(delta * p_hat, delta)
            t = t_next
        else:
            p_hat, x_hat = p, x
        p_prev = p
        p = p_hat - tau * K.adjoint(K(x_hat) - y)
        x = J.prox(delta * p, delta)
        r = norm(K(x) - y)
        reason = _stop_reason(r, ynorm, loop.tol, noise_level, eta)
        if k % record_every == 0 or reason:
            loop.record(residual=r, J=J(x))
            if keep_iterates:
                iterates.append(x)
        if reason and loop.stop(reason):
            break
        if loop.callback_stops(x):
            break
    extras = {"p": p, "tau": tau}
    if keep_iterates:
        extras["iterates"] = iterates
    return loop.result(x, extras=extras)


def bregman(
    K,
    y,
    J,
    *,
    tau: float = 1.0,
    iters: int = 20,
    tol: float = 1e-6,
    noise_level: float | None = None,
    eta: float = 1.0,
    inner_iters: int = 500,
    inner_tol: float = 1e-6,
    keep_iterates: bool = False,
    callback=None,
    progress: bool = False,
) -> Result:
    r"""Bregman iterations for :math:`L(x) = \tfrac12\|Kx - y\|^2` and a convex regularizer :math:`J`.

    .. math::
        x_{k+1} = \operatorname{argmin}_x D_J^{p_k}(x, x_k) + \tau L(x), \qquad
        p_{k+1} = p_k - \tau\nabla L(x_{k+1}) \in \partial J(x_{k+1}),

    with :math:`p_0 = 0`; for the quadratic :math:`L` this is "adding back the residual":
    :math:`b_{k+1} = b_k + (y - Kx_{k+1})`, :math:`b_0 = y`, and
    :math:`x_{k+1} = \operatorname{argmin}_x J(x) + \tfrac\tau2\|Kx - b_k\|^2`.
    The residual :math:`\|Kx_k - y\|` decreases monotonically; with noisy data the iterates first
    approach the truth, then fit the noise, so stop by the discrepancy principle.

    Parameters
    ----------
    K : LinearOperator or None
        Forward operator; ``None`` (or :class:`~recon.operators.Identity`) for denoising, where each
        subproblem is one prox, :math:`x_{k+1} = \operatorname{prox}_{J/\tau}(b_k)`.
    y : array
    J : Functional
        Convex with ``prox`` (e.g. ``TV()``, ``mu * L1()``); the TV prox keeps its dual variable
        between calls, so subproblems are warm-started.
    tau : float
        Weight of the data term in each subproblem (> 0); small :math:`\tau` = strong
        regularisation per step = a finer path.
    iters : int
        Maximum number of outer (Bregman) iterations.
    tol : float
        Stop when :math:`\|Kx_k - y\| \le \text{tol}\,\|y\|`.
    noise_level, eta : float, optional
        Discrepancy principle: stop at the first :math:`k` with :math:`\|Kx_k - y\| \le \eta\,\delta`,
        :math:`\delta` = ``noise_level`` the norm of the noise.
    inner_iters, inner_tol : int, float
        For a general ``K`` each subproblem is solved by :func:`~recon.solvers.fista`, warm-started at
        :math:`x_k`, to relative change ``inner_tol`` (at most ``inner_iters`` iterations).  For
        denoising the accuracy is the prox's own (e.g. ``TV(inner_tol=...)``).
    keep_iterates : bool
        Keep every :math:`x_k` in ``extras["iterates"]``.

    Returns
    -------
    Result
        history: ``residual`` (always) and ``J``; extras: ``p`` (the subgradient, :math:`\tau K^*(b_k - y)`),
        ``iterates`` if asked.

    References
    ----------
    Osher, Burger, Goldfarb, Xu, Yin (2005), see the module docstring.
    """
    if K is None:
        K = Identity(tuple(getattr(y, "shape", ())))
    _check_problem(K, y, noise_level, eta)
    loop = Loop("Bregman", iters, tol=tol, callback=callback, progress=progress,
                message="maximum number of iterations reached")
    positive_int(inner_iters, "inner_iters")
    inner_tol = finite(inner_tol, "inner_tol", ge=0)
    tau = finite(tau, "tau", gt=0)
    denoising = isinstance(K, Identity)
    ynorm = norm(y)
    b = y
    x = None
    iterates = []
    for _ in loop:
        if denoising:
            x = J.prox(b, 1.0 / tau)
        else:
            from ..functionals.fidelity import L2DataFidelity
            from .proximal_gradient import fista

            x0 = K.adjoint(zeros_like(y)) if x is None else x
            x = fista(tau * L2DataFidelity(b, K), J, x0, iters=inner_iters, tol=inner_tol).x
        residual = y - K(x)
        b = b + residual
        r = norm(residual)
        loop.record(residual=r, J=J(x))
        if keep_iterates:
            iterates.append(x)
        reason = _stop_reason(r, ynorm, loop.tol, noise_level, eta)
        if reason and loop.stop(reason):
            break
        if loop.callback_stops(x):
            break
    extras = {"p": tau * K.adjoint(b - y)}
    if keep_iterates:
        extras["iterates"] = iterates
    return loop.result(x, extras=extras)
