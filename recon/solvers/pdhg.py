r"""Primal–dual hybrid gradient (Chambolle–Pock) for :math:`\min_x f(Kx) + g(x)`.

The saddle-point form :math:`\min_x \max_y \langle Kx, y\rangle - f^*(y) + g(x)` is solved by
alternating a dual prox step on :math:`f^*`, a primal prox step on :math:`g` and an
extrapolation.  The loop keeps its work arrays and updates them in place: an iteration costs
one application of :math:`K` and of :math:`K^*`, the two proxes and a handful of array passes.
Objective, gap and residuals are computed only on recording iterations.
"""
from __future__ import annotations

import math

from .._checks import array, finite_array, finite_or_none
from .._checks import shape as check_shape
from ..backend import array_namespace, combine_into, namespace
from ..functionals.base import ScaledFunctional, Zero
from ..vectors import add_into, copy, lincomb, norm, relative_change, subtract, zeros
from ._loop import Loop
from .result import Result

__all__ = ["pdhg"]

_SAFETY = 0.99  # default steps: tau = sigma = _SAFETY / ||K||


# ---------------------------------------------------------------------------------------------
# defaults and recorded values
# ---------------------------------------------------------------------------------------------
def _data_of(*functionals):
    """The first data array (attribute ``y``) held by a functional, a scaled one or a block of a separable sum."""
    for fn in functionals:
        inner = [fn.f] if isinstance(fn, ScaledFunctional) else list(getattr(fn, "fs", ()))
        y = getattr(fn, "y", None)
        if hasattr(y, "dtype"):
            return y
        found = _data_of(*inner) if inner else None
        if found is not None:
            return found
    return None


class _Values:
    """Primal objective and gap; each dropped after its first ``NotImplementedError``."""

    def __init__(self, f, g, K):
        self.f, self.g, self.K = f, g, K
        self.has_objective = self.has_gap = True

    def __call__(self, x, y, Kx):
        out = {}
        if self.has_objective:
            try:
                out["objective"] = self.f(Kx) + self.g(x)
            except NotImplementedError:
                self.has_objective = False
        if self.has_objective and self.has_gap:
            try:
                KTy = self.K.adjoint(y)
                out["gap"] = out["objective"] + self.f.conj(y) + self.g.conj(-KTy)
            except NotImplementedError:
                self.has_gap = False
        return out


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------
def _steps(K, tau, sigma):
    """Step sizes with :math:`\\tau\\sigma\\|K\\|^2 < 1` (defaults :math:`0.99/\\|K\\|`)."""
    tau, sigma = finite_or_none(tau, "tau", gt=0), finite_or_none(sigma, "sigma", gt=0)
    L = K.norm()
    if L == 0:
        return tau or 1.0, sigma or 1.0, L
    if tau is None and sigma is None:
        return _SAFETY / L, _SAFETY / L, L
    if sigma is None:
        return tau, _SAFETY / (tau * L * L), L
    if tau is None:
        return _SAFETY / (sigma * L * L), sigma, L
    product = tau * sigma * L * L
    if not product < 1:
        raise ValueError(
            f"step sizes must satisfy tau * sigma * ||K||^2 < 1, got tau * sigma * ||K||^2 = {product:.6g} "
            f"(tau = {tau:.6g}, sigma = {sigma:.6g}, ||K|| = {L:.6g})"
        )
    return tau, sigma, L


def _check_vector(v, expected, name, where):
    finite_array(check_shape(array(v, name), expected, name, where), name)


def _acceleration(accelerate, g):
    mu = float(getattr(g, "strong_convexity", 0.0) or 0.0)
    if accelerate == "auto":
        return mu if mu > 0 else 0.0
    if accelerate is False:
        return 0.0
    if accelerate is True:
        if not mu > 0:
            raise ValueError(f"accelerate=True needs g.strong_convexity > 0, got {mu}")
        return mu
    raise ValueError(f"accelerate must be False, True or 'auto', got {accelerate!r}")


# ---------------------------------------------------------------------------------------------
# the solver
# ---------------------------------------------------------------------------------------------
def pdhg(f, g, K, x0=None, *, tau=None, sigma=None, theta=1.0, iters=1000, tol=1e-6, accelerate=False, y0=None,
         record_every=10, callback=None, progress=False) -> Result:
    r"""Chambolle–Pock primal–dual hybrid gradient for :math:`\min_x f(Kx) + g(x)`.

    .. math::
        y_{k+1} &= \operatorname{prox}_{\sigma_k f^*}\bigl(y_k + \sigma_k K \bar x_k\bigr) \\
        x_{k+1} &= \operatorname{prox}_{\tau_k g}\bigl(x_k - \tau_k K^* y_{k+1}\bigr) \\
        \bar x_{k+1} &= x_{k+1} + \theta_k (x_{k+1} - x_k), \qquad \bar x_0 = x_0.

    Parameters
    ----------
    f : Functional
        Convex, with ``prox_conj`` (Moreau's identity from ``prox`` by default).  For a stacked
        ``K = stack([A_1, ..., A_n])`` a :class:`~recon.functionals.SeparableSum` acting on tuples.
    g : Functional or None
        Convex, with ``prox``; ``None`` means :math:`g = 0`.
    K : LinearOperator
        ``K.shape_in`` is the shape of :math:`x`; ``K.shape_out`` that of :math:`y` (a tuple of
        shapes for a stacked operator).
    x0 : array, optional
        Primal start; fixes library and dtype.  Default zeros in the library and dtype of ``y0``
        when given, else of the data a term carries (e.g. ``L2DataFidelity(y)``: float32 data give
        float32 iterates), else float64 in ``K.xp`` or the default backend.
    tau, sigma : float, optional
        Primal and dual steps.  Default :math:`\tau = \sigma = 0.99/\|K\|` (``K.norm()``); if one is
        given the other is :math:`0.99/(\text{given}\,\|K\|^2)`.  Both given must satisfy
        :math:`\tau\sigma\|K\|^2 < 1`.
    theta : float in [0, 1]
        Extrapolation :math:`\theta_k = \theta` without acceleration (convergence is proved for 1).
    iters : int
        Maximum number of iterations.
    tol : float
        Stop when the relative changes of both :math:`x` and :math:`y` are :math:`\le` ``tol``
        (checked when recording); ``tol = 0`` runs all ``iters`` iterations.
    accelerate : False, True or "auto"
        Algorithm 2 of Chambolle & Pock for :math:`\mu`-strongly convex ``g``
        (``g.strong_convexity``): :math:`\theta_k = 1/\sqrt{1 + 2\mu\tau_k}`,
        :math:`\tau_{k+1} = \theta_k\tau_k`, :math:`\sigma_{k+1} = \sigma_k/\theta_k` (``theta`` is
        then unused).  ``"auto"`` accelerates when :math:`\mu > 0`.
    y0 : array or tuple of arrays, optional
        Dual start (default zeros).
    record_every : int
        Record every this many iterations and at the last one: ``objective``
        :math:`P(x) = f(Kx) + g(x)`; ``gap`` :math:`P(x) + f^*(y) + g^*(-K^*y) \ge 0` when both
        conjugates are implemented; ``primal_residual`` :math:`\|(x_k - x_{k+1})/\tau_k\|` and
        ``dual_residual`` :math:`\|(y_k - y_{k+1})/\sigma_k + K(\bar x_k - x_{k+1})\|` (norms of
        elements of :math:`\partial g(x_{k+1}) + K^*y_{k+1}` and
        :math:`\partial f^*(y_{k+1}) - Kx_{k+1}`, zero exactly at a saddle point);
        ``relative_change``; ``tau`` and ``sigma``.
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k``; returning ``True`` stops the solver.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Result
        ``extras``: ``"y"`` the dual iterate, ``"tau"``, ``"sigma"`` the step sizes at exit (with
        acceleration, those the next iteration would use).

    Notes
    -----
    With :math:`\theta = 1` and :math:`\tau\sigma\|K\|^2 < 1` the iterates converge to a saddle
    point and the ergodic gap is :math:`O(1/k)`; with acceleration and :math:`\mu`-strongly convex
    :math:`g`, :math:`\|x_k - x^\star\|^2 = O(1/k^2)` (Chambolle & Pock 2011, Thms 1 and 2).
    Acceleration pays when :math:`f^*` is not strongly convex (e.g. TV, :math:`f = \lambda\|\cdot\|_{2,1}`).
    When :math:`f` is smooth as well (:math:`f^*` strongly convex) plain PDHG already converges
    linearly, and the shrinking :math:`\tau_k` of Algorithm 2 can make it slower.
    ``K.norm()`` is a power-iteration estimate (from below) unless the operator knows its norm;
    the 0.99 margin of the default steps covers its error.

    The loop calls ``K.forward_into`` / ``K.adjoint_into``, ``f.prox_conj_into`` and ``g.prox_into``
    (the in-place protocol of :class:`~recon.operators.LinearOperator` and
    :class:`~recon.functionals.Functional`); operators and functionals that implement them natively
    (:class:`~recon.operators.Gradient`, :class:`~recon.functionals.L21`,
    :class:`~recon.functionals.L2DataFidelity`) avoid temporaries, the others fall back to a copy.

    References
    ----------
    Chambolle, A. & Pock, T. (2011). A first-order primal-dual algorithm for convex problems with
    applications to imaging. J. Math. Imaging and Vision 40(1), 120–145.
    Goldstein, T., Li, M. & Yuan, X. (2015). Adaptive primal-dual splitting methods for
    statistical learning and image processing. NeurIPS (residuals).
    """
    g = Zero() if g is None else g
    if not callable(getattr(f, "prox_conj", None)):
        raise TypeError(f"f must be a Functional with prox_conj, got {type(f).__name__}")
    if not callable(getattr(g, "prox", None)):
        raise TypeError(f"g must be a Functional with prox, got {type(g).__name__}")
    if not hasattr(K, "shape_in") or not callable(getattr(K, "adjoint", None)):
        raise TypeError(f"K must be a LinearOperator, got {type(K).__name__}")
    loop = Loop("pdhg", iters, tol=tol, record_every=record_every, callback=callback, progress=progress)
    theta = float(theta)
    if not 0.0 <= theta <= 1.0:
        raise ValueError(f"theta must be in [0, 1], got {theta}")
    mu = _acceleration(accelerate, g)
    tau, sigma, _ = _steps(K, tau, sigma)

    if y0 is not None:
        _check_vector(y0, K.shape_out, "y0", "K.shape_out")
    if x0 is None:
        like = (y0[0] if isinstance(y0, tuple) else y0) if y0 is not None else _data_of(f, g)
        if like is None:
            xp = K.xp if K.xp is not None else namespace()
            like = xp.zeros((), dtype=xp.float64)
        x = zeros(K.shape_in, like)
    else:
        _check_vector(x0, K.shape_in, "x0", "K.shape_in")
        x = copy(x0)
    y = zeros(K.shape_out, x) if y0 is None else copy(y0)

    # buffers rotate: x_{k+1} is written into the spare one, unless a callback may keep the iterates
    # it is handed (then each iterate gets fresh memory)
    reuse = callback is None
    spare = None
    xp = array_namespace(x)
    v = xp.empty_like(x)  # work array: x - tau K*y
    xbar = x * sigma  # sigma * xbar, so that y + sigma K xbar is one in-place add
    Kxbar = zeros(K.shape_out, x)
    values = _Values(f, g, K)
    for _ in loop:
        recording = loop.recording
        if recording:
            y_old = copy(y)

        # dual step: y <- prox_{sigma f*}(y + K (sigma xbar)); Kxbar kept on recording iterations
        if recording:
            add_into(y, K.forward_into(xbar, Kxbar))
        else:
            K.forward_into(xbar, y, accumulate=True)
        y = f.prox_conj_into(y, sigma, y)

        # primal step: x <- prox_{tau g}(x - tau K* y)
        K.adjoint_into(y, v)
        combine_into(v, 1.0, x, -tau, v)
        out = spare if reuse and spare is not None else xp.empty_like(x)
        x_old, x = x, g.prox_into(v, tau, out)

        if recording:
            Kx = K(x)
            change = max(relative_change(x, x_old), relative_change(y, y_old))
            r_dual = lincomb(1.0, subtract(y_old, y), 1.0, Kxbar)  # y_k - y_{k+1} + sigma K xbar
            r_dual = lincomb(1.0 / sigma, r_dual, -1.0, Kx)
            row = values(x, y, Kx)
            row.update(primal_residual=norm(x_old - x) / tau, dual_residual=norm(r_dual),
                       relative_change=change, tau=tau, sigma=sigma)
            loop.record(**row)

        # steps (Algorithm 2 when accelerating), then sigma' xbar = sigma' ((1 + th) x - th x_old)
        th = theta
        if mu > 0:
            th = 1.0 / math.sqrt(1.0 + 2.0 * mu * tau)
            tau, sigma = th * tau, sigma / th
        combine_into(xbar, (1.0 + th) * sigma, x, -th * sigma, x_old)
        spare = x_old  # free until the next primal step

        if recording and loop.below_tol(change):
            break
        if loop.callback_stops(x):
            break
    return loop.result(x, extras={"y": y, "tau": tau, "sigma": sigma})
