r"""Landweber and CGLS iterations for :func:`recon.ct.reconstruct` (``"landweber"``, ``"cgls"``, ``"tikhonov"``).

Private to :mod:`recon.ct`: replaced by recon.solvers.landweber/cgls once core lands (then
:mod:`recon.ct.variational` imports those instead and this module goes).
"""
from __future__ import annotations

import math

from ..backend import array_namespace
from ..operators.base import norm, vdot

__all__ = ["landweber", "cgls"]


def landweber(B, b, x, nonneg, iters, tol, delta, history, bar, callback):
    r"""Projected Landweber :math:`x_{k+1} = P(x_k + \omega B^*(b - Bx_k))`, :math:`\omega = 1/\|B\|^2`.

    Stops by the discrepancy principle (``delta``), on the relative change ``tol`` or by ``callback``;
    returns ``(x, iterations, converged, message)`` (Engl, Hanke & Neubauer 1996).
    """
    step = 1.0 / B.norm() ** 2  # convergent for 0 < step < 2 / ||B||^2
    xp = array_namespace(x)
    for k in range(1, iters + 1):
        r = b - B(x)
        res = norm(r)
        history.record(k - 1, residual=res)
        if delta is not None and res <= delta:
            return x, k - 1, True, f"discrepancy principle: residual {res:.4g} <= {delta:.4g}"
        x_new = x + step * B.adjoint(r)
        if nonneg:
            x_new = xp.maximum(x_new, 0.0)
        change = norm(x_new - x) / max(norm(x_new), 1e-300)
        x = x_new
        bar.update(1)
        if change <= tol:
            return x, k, True, f"relative change {change:.3g} <= tol = {tol:g}"
        if callback is not None and callback(k, x):
            return x, k, True, "stopped by callback"
    return x, iters, False, f"reached iters = {iters}"


def cgls(B, b, x, damp, iters, tol, delta, history, bar, callback):
    r"""CGLS for :math:`\min \|Bx - b\|^2 + \mathrm{damp}\,\|x\|^2` (Björck 1996, Hansen 2010).

    Stops by the discrepancy principle (``delta``), on the normal-equation residual ``tol`` (relative to
    :math:`\|B^*b\|`) or by ``callback``; returns ``(x, iterations, converged, message)``.
    """
    r = b - B(x)
    s = B.adjoint(r) - damp * x
    p, gamma = s, vdot(s, s)
    target = tol * norm(B.adjoint(b))
    for k in range(1, iters + 1):
        q = B(p)
        alpha = gamma / (vdot(q, q) + damp * vdot(p, p))
        x, r = x + alpha * p, r - alpha * q
        res = norm(r)
        history.record(k, residual=res)
        bar.update(1)
        if delta is not None and res <= delta:
            return x, k, True, f"discrepancy principle: residual {res:.4g} <= {delta:.4g}"
        s = B.adjoint(r) - damp * x
        gamma_new = vdot(s, s)
        if math.sqrt(gamma_new) <= target:
            return x, k, True, f"normal-equation residual <= tol = {tol:g} relative"
        if callback is not None and callback(k, x):
            return x, k, True, "stopped by callback"
        p, gamma = s + (gamma_new / gamma) * p, gamma_new
    return x, iters, False, f"reached iters = {iters}"
