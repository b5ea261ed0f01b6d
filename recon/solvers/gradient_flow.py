r"""Gradient flow of a convex functional by implicit steps, with its extinction time and profile.

The flow :math:`u'(t) = -p(t),\ p(t) \in \partial J(u(t))`, :math:`u(0) = f`, is discretised by
the implicit (minimising-movement) scheme :math:`u_{k+1} = \operatorname{prox}_{\Delta t\,J}(u_k)`,
which is unconditionally stable and, for absolutely one-homogeneous :math:`J`, exact on
eigenfunctions: if :math:`\lambda f \in \partial J(f)` then
:math:`u(t) = (1 - \lambda t)_+ f`.  Such flows reach the null space of :math:`J` in finite
time (the *extinction time*), and just before it :math:`u(t)` is shaped like an eigenfunction
(the *extinction profile*).

References
----------
Andreu, F., Caselles, V., Díaz, J. I., Mazón, J. M. (2002). Some qualitative properties for the
total variation flow. *J. Funct. Anal.* 188, 516–547.

Bungert, L., Burger, M., Chambolle, A., Novaga, M. (2019). Nonlinear spectral decompositions by
gradient flows of one-homogeneous functionals. *Analysis & PDE* 14(3).
"""
from __future__ import annotations

import math

from .._checks import array, finite, finite_array
from ..backend import array_namespace
from ..vectors import norm
from ._loop import Loop
from .result import Result

__all__ = ["gradient_flow"]


def gradient_flow(
    J,
    u0,
    *,
    dt: float,
    iters: int = 10000,
    tol: float = 1e-6,
    subtract_mean: bool = False,
    keep_iterates: bool = False,
    callback=None,
    progress: bool = False,
) -> Result:
    r"""Implicit gradient flow :math:`u_{k+1} = \operatorname{prox}_{\Delta t J}(u_k)` until extinction.

    Parameters
    ----------
    J : Functional
        Convex, with ``prox`` (e.g. ``TV()``).
    u0 : array
        Initial datum :math:`f`.
    dt : float
        Time step :math:`\Delta t > 0` (the scheme is stable for any step; smaller steps
        resolve the extinction time better).
    iters : int
        Maximum number of steps.
    tol : float
        Extinction: :math:`\|u_k - \bar u\| \le \mathrm{tol}\,\|u_0 - \bar u\|`.
    subtract_mean : bool
        Measure :math:`u_k` relative to the mean of :math:`u_0` — for :math:`J` whose null space is the
        constants (TV with Neumann boundary, whose flow preserves the mean).
    keep_iterates : bool
        Store all :math:`u_k` in ``extras["iterates"]`` (needed for spectral decompositions).

    Returns
    -------
    Result
        ``x``: the extinction profile, the last non-extinct :math:`u_k - \bar u` normalised to unit
        norm; ``extras["extinction_time"]``: :math:`T` extrapolated linearly from the last two
        non-extinct norms (exact when :math:`u_0` is an eigenfunction, where
        :math:`T = 1/\lambda = \|u_0\|^2 / J(u_0)`, up to the inner solver's accuracy);
        ``extras["times"]``; history ``norm``.

    Notes
    -----
    For an absolutely one-homogeneous :math:`J`, :math:`\|u(t)\|` is concave and decreasing up to
    :math:`T` (Bungert et al. 2019), so the linear extrapolation of the last step brackets :math:`T`
    between :math:`t_{k-1}` and :math:`t_k`.
    """
    dt = finite(dt, "dt", gt=0)
    loop = Loop("gradient flow", iters, callback=callback, progress=progress,
                message="maximum number of steps reached before extinction")
    finite_array(array(u0, "u0"), "u0")
    xp = array_namespace(u0)
    mean = float(xp.mean(u0)) if subtract_mean else 0.0
    n0 = norm(u0 - mean)
    if n0 == 0:
        raise ValueError("u0 is already in the null space (zero after subtracting the mean)")
    loop.record(iteration=0, norm=n0)
    iterates = [u0] if keep_iterates else None
    u, n_prev, n_prev2, u_prev = u0, n0, n0, u0
    t_ext = math.nan
    for k in loop:
        u_prev = u
        u = J.prox(u, dt)
        n = norm(u - mean)
        loop.record(norm=n)
        if keep_iterates:
            iterates.append(u)
        if n <= tol * n0:
            # the implicit step may overshoot to the null space; ||u(t)|| is (close to) linear
            # before extinction, so extrapolate the zero from the last two non-extinct norms
            slope = (n_prev2 - n_prev) / dt
            t_ext = (k - 1) * dt + (n_prev / slope if slope > 0 else dt)
            t_ext = min(t_ext, k * dt)
            loop.stop(f"extinct after {k} steps")
            break
        n_prev2, n_prev = n_prev, n
        if loop.callback_stops(u, converged=False):
            break
    converged, k = loop.converged, loop.k
    profile = u_prev - mean if converged else u - mean
    profile = profile * (1.0 / norm(profile)) if norm(profile) > 0 else profile
    extras = {"extinction_time": t_ext, "times": [i * dt for i in range(k + 1)]}
    if keep_iterates:
        extras["iterates"] = iterates
    return loop.result(profile, extras=extras)
