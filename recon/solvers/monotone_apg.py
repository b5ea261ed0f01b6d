r"""Monotone accelerated proximal gradient for non-convex smooth + convex problems.

.. math::
    \min_x F(x) = f(x) + g(x), \qquad f \text{ smooth, possibly non-convex}, \quad
    g \text{ convex with a cheap prox (0, or the indicator of } x \ge 0\text{)}.

Plain FISTA has no convergence guarantee once :math:`f` is non-convex (e.g. a weakly convex ridge
regularizer, WCRR, in deblurring or sparse-view CT, where the data term does not dominate the
negative curvature of :math:`\lambda R`).  :func:`monotone_apg` keeps FISTA's acceleration but only
*accepts* an extrapolated step when it decreases the objective enough; otherwise it takes the plain
proximal-gradient step from the current iterate.  That is the monotone APG of Li & Lin (2015), in
the cheap form that computes the plain step only when the accelerated one is rejected.
:func:`prox_gradient_residual` is its stationarity certificate.
"""
from __future__ import annotations

import math

from .._checks import array, finite, finite_or_none
from ..functionals.base import Zero
from ..vectors import lincomb, norm, relative_change, vdot
from ._loop import Loop
from .result import Result

__all__ = ["monotone_apg", "prox_gradient_residual"]


def prox_gradient_residual(f, g, x, step) -> float:
    r"""Stationarity residual :math:`\|x - \operatorname{prox}_{\tau g}(x - \tau\nabla f(x))\|`.

    Zero exactly at the critical points of :math:`f + g` (:math:`0 \in \nabla f(x) + \partial g(x)`)
    for convex :math:`g`; divided by :math:`\tau` it is the norm of the gradient mapping.
    """
    g = Zero() if g is None else g
    return norm(lincomb(1.0, x, -1.0, g.prox(lincomb(1.0, x, -step, f.grad(x)), step)))


def monotone_apg(f, g, x0, *, step=None, iters=1000, tol=1e-6, stationarity_tol=0.0, delta=1e-4, restart=True,
                 record_every=1, callback=None, progress=False) -> Result:
    r"""Monotone accelerated proximal gradient (Li & Lin 2015) for :math:`\min_x f(x) + g(x)`.

    Each iteration, with :math:`T(u) = \operatorname{prox}_{\tau g}(u - \tau\nabla f(u))` the
    proximal-gradient map and :math:`\tau` the step,

    .. math::
        z_{k+1} &= T(y_k), \qquad y_k = x_k + \tfrac{t_{k-1} - 1}{t_k}(x_k - x_{k-1})
        \quad\text{(FISTA extrapolation)}, \\
        x_{k+1} &= \begin{cases} z_{k+1} & \text{if } F(z_{k+1}) \le F(x_k)
                   - \tfrac{\delta}{\tau}\|z_{k+1} - y_k\|^2, \\
                   T(x_k) & \text{otherwise (and the momentum is reset, } t = 1).\end{cases}

    With ``restart`` the momentum is also reset by the gradient test of O'Donoghue & Candès (2015)
    (:math:`\langle y_k - z_{k+1}, z_{k+1} - x_k\rangle > 0`), as in :func:`~recon.solvers.fista`;
    how :math:`y_k` is chosen does not affect the guarantee below.

    Parameters
    ----------
    f : Functional
        Differentiable, possibly non-convex, with ``f(x)``, ``f.grad(x)`` and (unless ``step`` is
        given) ``f.lipschitz``, an upper bound :math:`L` on its curvature (the descent lemma
        :math:`f(v) \le f(x) + \langle\nabla f(x), v - x\rangle + \tfrac L2\|v - x\|^2`).
    g : Functional or None
        Convex with ``g.prox`` and a value (``None``: :math:`g = 0`; an indicator such as
        :class:`~recon.functionals.NonNegativity`).
    x0 : array
        Start; fixes shape, library and dtype.
    step : float, optional
        :math:`\tau`, default :math:`1/L`; must satisfy :math:`0 < \tau < 2/L`.
    iters : int, default 1000
    tol : float, default 1e-6
        Stop when :math:`\|x_{k+1} - x_k\| \le \mathrm{tol}\,\|x_{k+1}\|` (checked every iteration
        after the first).  ``0``: no such test.
    stationarity_tol : float, default 0
        Also stop when the stationarity residual at the point :math:`u_k \in \{y_k, x_k\}` the
        step was taken from is small, :math:`\|T(u_k) - u_k\| \le \mathrm{stationarity\_tol}\,
        \|u_k\|` (free: it is the length of that step).  ``0``: no such test; with ``tol = 0`` too,
        all ``iters`` run.
    delta : float, default 1e-4
        Sufficient-decrease constant :math:`\delta > 0` of the acceptance test.
    restart : bool, default True
        Also reset the momentum by the gradient test.
    record_every : int, default 1
        Record ``objective`` (:math:`F(x_k)`, non-increasing), ``relative_change``,
        ``relative_stationarity`` (:math:`\|T(u_k) - u_k\| / \|u_k\|`, the residual at the point
        the step was taken from), ``accepted`` (1 for an accelerated step, 0 for a plain one)
        every this many iterations.
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k``; returning ``True`` stops.
    progress : bool
        tqdm progress bar.

    Returns
    -------
    Result
        ``extras``: ``"step"``, ``"rejected"`` (plain steps taken), ``"restarts"`` (gradient-test
        resets), ``"objective"`` (:math:`F` of the returned iterate) and ``"stationarity"``, the
        residual :math:`\|x - T(x)\|` of the returned iterate (:func:`prox_gradient_residual`;
        one extra gradient evaluation).

    Notes
    -----
    Guarantee (the argument of Li & Lin 2015, Thm. 1, for this variant).  For convex :math:`g`
    and :math:`\tau < 2/L`, a plain step satisfies
    :math:`F(T(x)) \le F(x) - (\tfrac1\tau - \tfrac L2)\|T(x) - x\|^2`, and an accepted step
    :math:`F(z_{k+1}) \le F(x_k) - \tfrac\delta\tau\|T(y_k) - y_k\|^2`.  Hence

    * :math:`F(x_k)` is non-increasing (up to rounding in the objective evaluations);
    * if :math:`F` is bounded below, :math:`\|T(u_k) - u_k\| \to 0` along the points
      :math:`u_k \in \{x_k, y_k\}` the steps are taken from, and, :math:`T` being continuous, every
      accumulation point of :math:`(x_k)` is a fixed point of :math:`T`, i.e. a critical point
      :math:`0 \in \nabla f(x^\star) + \partial g(x^\star)`; accumulation points exist when
      :math:`F` is coercive (bounded level sets).

    For convex :math:`F` (CRR-NN) critical points are minimisers.  Cost per iteration: one gradient
    and one objective evaluation, plus one gradient and one objective for each rejected step.

    References
    ----------
    Li, H. & Lin, Z. (2015). Accelerated proximal gradient methods for nonconvex programming.
    *NeurIPS 28* (monotone APG, Algorithm 1 and Theorem 1).
    Beck, A. & Teboulle, M. (2009). A fast iterative shrinkage-thresholding algorithm for linear
    inverse problems. *SIAM J. Imaging Sci.* 2(1), 183–202.
    O'Donoghue, B. & Candès, E. (2015). Adaptive restart for accelerated gradient schemes.
    *Found. Comput. Math.* 15(3), 715–732.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.functionals import Zero
    >>> class DoubleWell(Zero):  # f(x) = sum (x^2 - 1)^2 / 4, non-convex, curvature <= 3 on |x| <= 1
    ...     lipschitz = 3.0
    ...     def __call__(self, x): return float(((x ** 2 - 1) ** 2).sum() / 4)
    ...     def grad(self, x): return x ** 3 - x
    >>> res = monotone_apg(DoubleWell(), None, np.array([0.3, -0.5]), tol=1e-10)
    >>> np.allclose(res.x, [1, -1]) and bool(np.all(np.diff(res.history["objective"]) <= 0))
    True
    """
    g = Zero() if g is None else g
    if not callable(getattr(f, "grad", None)):
        raise TypeError(f"f must be a Functional with a grad method, got {type(f).__name__}")
    if not callable(getattr(g, "prox", None)):
        raise TypeError(f"g must be a Functional with a prox method, got {type(g).__name__}")
    array(x0, "x0")
    loop = Loop("monotone APG", iters, tol=tol, record_every=record_every, callback=callback, progress=progress)
    stationarity_tol = finite(stationarity_tol, "stationarity_tol", ge=0)
    delta = finite(delta, "delta", gt=0)
    lipschitz = f.lipschitz
    step = finite_or_none(step, "step", gt=0)
    if step is None:
        if lipschitz is None:
            raise ValueError("f.lipschitz is unknown: pass step (0 < step < 2/L)")
        step = 1.0 / lipschitz if lipschitz > 0 else 1.0
    if lipschitz is not None and lipschitz > 0 and not step < 2.0 / lipschitz:
        raise ValueError(f"step must be < 2/f.lipschitz = {2.0 / lipschitz:.6g}, got {step}")

    def objective(x):
        return f(x) + g(x)

    def forward_backward(u):
        return g.prox(lincomb(1.0, u, -step, f.grad(u)), step)

    x, x_prev, t, t_prev = x0, x0, 1.0, 1.0
    F_x = objective(x)
    if not math.isfinite(F_x):
        raise ValueError(f"x0 must be a point where f + g is finite, got F(x0) = {F_x}")
    rejected = restarts = 0
    for k in loop:
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        y = x if t == 1.0 else lincomb(1.0, x, (t_prev - 1.0) / t, lincomb(1.0, x, -1.0, x_prev))
        z = forward_backward(y)
        F_z = objective(z)
        dz = lincomb(1.0, z, -1.0, y)
        accepted = F_z <= F_x - (delta / step) * vdot(dz, dz)
        if accepted:
            x_new, F_new = z, F_z
            residual = norm(dz) / max(norm(y), 1e-300)
            if restart and vdot(lincomb(1.0, y, -1.0, z), lincomb(1.0, z, -1.0, x)) > 0:
                t_new = 1.0
                restarts += 1
        else:
            x_new = forward_backward(x)
            F_new = objective(x_new)
            t_new = 1.0
            rejected += 1
            residual = norm(lincomb(1.0, x_new, -1.0, x)) / max(norm(x), 1e-300)
        change = relative_change(x_new, x)
        x_prev, x, F_x, t_prev, t = x, x_new, F_new, t, t_new
        if loop.recording:
            loop.record(objective=F_x, relative_change=change, relative_stationarity=residual,
                        accepted=float(accepted))
        if k > 1 and loop.below_tol(change):
            break
        if stationarity_tol > 0 and residual <= stationarity_tol and loop.stop(
                f"stationarity residual {residual:.3g} <= stationarity_tol = {stationarity_tol:g} relative"):
            break
        if loop.callback_stops(x):
            break
    extras = {"step": step, "rejected": rejected, "restarts": restarts, "objective": F_x,
              "stationarity": prox_gradient_residual(f, g, x, step)}
    return loop.result(x, extras=extras)
