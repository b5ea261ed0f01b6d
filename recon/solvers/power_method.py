r"""Power methods: the norm of a linear operator, and eigenfunctions of nonlinear (proximal) operators.

For an absolutely one-homogeneous functional :math:`J` (TV, :math:`\ell^1`, ...), a
*nonlinear eigenfunction* is a :math:`u \neq 0` with :math:`\lambda u \in \partial J(u)`; then
:math:`J(u) = \lambda\|u\|^2`.  Such a :math:`u` is shrunk, not deformed, by the proximal map:
:math:`\operatorname{prox}_{tJ}(u) = (1 - t\lambda)\,u` for :math:`t\lambda < 1`.
The nonlinear power method iterates the proximal map and renormalises, and converges to such
eigenfunctions; along the way the Rayleigh quotient :math:`J(u_k)/\|u_k\|` does not increase.

References
----------
Bungert, L., Hait-Fraenkel, E., Papadakis, N., Gilboa, G. (2021). Nonlinear power method for
computing eigenvectors of proximal operators and neural networks. *SIAM J. Imaging Sci.* 14(3).
"""
from __future__ import annotations

import math

from .._checks import array, finite_array, positive_int
from ..backend import array_namespace
from ..vectors import norm, vdot
from ._loop import Loop
from .result import Result

__all__ = ["operator_norm", "nonlinear_power_method"]


def operator_norm(op, *, iters: int = 500, rtol: float = 1e-7, seed: int = 0) -> float:
    """:math:`\\|A\\|` of a :class:`~recon.operators.LinearOperator` by power iteration on :math:`A^*A`.

    Thin, documented entry point to ``op.norm(recompute=True, ...)``.
    """
    positive_int(iters, "iters")
    return op.norm(iters=iters, rtol=rtol, seed=seed, recompute=True)


def nonlinear_power_method(
    T,
    u0,
    *,
    J=None,
    subtract_mean: bool = False,
    iters: int = 1000,
    tol: float = 1e-6,
    record_every: int = 1,
    callback=None,
    progress: bool = False,
) -> Result:
    r"""Nonlinear power method :math:`u_{k+1} = T(u_k) / \|T(u_k)\|`.

    Parameters
    ----------
    T : callable
        The map to iterate, typically ``lambda u: J.prox(u, t)`` for an absolutely
        one-homogeneous :math:`J`, or any denoiser.  Must return an array shaped like ``u``.
    u0 : array
        Start (non-zero).  For TV start orthogonal to the constants (zero mean): constants are
        the null space of TV and the iteration would otherwise converge to them.
    J : Functional, optional
        When given, the Rayleigh quotient :math:`J(u_k)/\|u_k\|` is recorded (``"rayleigh"``).
    subtract_mean : bool
        Remove the mean of every :math:`T(u_k)`.  Needed for :math:`J` whose null space is the
        constants (TV): there :math:`T` keeps constants unchanged (factor 1) while it shrinks
        everything else, so rounding errors in the mean would grow by :math:`1/c` per step and the
        iteration would drift to a constant.
    iters : int
        Maximum number of iterations.
    tol : float
        Stop when the eigen-residual :math:`\|T(u) - c\,u\| / \|T(u)\| \le` ``tol``, with
        :math:`c = \langle T(u), u\rangle/\|u\|^2` the best factor (``"residual"`` in history).

    Returns
    -------
    Result
        ``x`` the normalised eigenfunction candidate (:math:`\|x\| = 1`);
        ``extras["factor"]`` the last :math:`c`, so :math:`T(x) \approx c\,x`; for
        :math:`T = \operatorname{prox}_{tJ}` the eigenvalue is :math:`\lambda = (1 - c)/t`.
        history: ``residual``, ``factor`` and, with ``J``, ``rayleigh``.

    Notes
    -----
    For :math:`T = \operatorname{prox}_{tJ}` with :math:`J` convex and absolutely one-homogeneous,
    :math:`J(u_k)/\|u_k\|` is non-increasing and accumulation points are eigenfunctions
    (Bungert et al. 2021, Thm. 4.2); the iteration stops early if :math:`T(u) = 0` (e.g.
    :math:`t` too large: everything is shrunk to zero), with ``converged=False``.
    """
    loop = Loop("nonlinear power method", iters, tol=tol, record_every=record_every, callback=callback,
                progress=progress, message="maximum number of iterations reached")
    tol = loop.tol
    finite_array(array(u0, "u0"), "u0")
    nu = norm(u0)
    if nu == 0:
        raise ValueError("u0 must be non-zero")
    xp = array_namespace(u0)
    u = u0 * (1.0 / nu)
    factor = math.nan
    for k in loop:
        Tu = T(u)
        if subtract_mean:
            Tu = Tu - float(xp.mean(Tu))
        nT = norm(Tu)
        if nT == 0 or not math.isfinite(nT):
            loop.stop("T(u) vanished (or is not finite): nothing left to normalise", converged=False)
            break
        factor = vdot(Tu, u)  # ||u|| = 1
        residual = norm(Tu - factor * u) / nT
        if k % record_every == 0 or residual <= tol:
            values = {"residual": residual, "factor": factor}
            if J is not None:
                values["rayleigh"] = J(u)
            loop.record(**values)
        u = Tu * (1.0 / nT)
        if residual <= tol and loop.stop(f"eigen-residual {residual:.2e} <= tol"):
            break
        if loop.callback_stops(u):
            break
    return loop.result(u, extras={"factor": factor})
