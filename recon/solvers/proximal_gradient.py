r"""Proximal gradient methods for :math:`\min_x f(x) + g(x)`, ``f`` smooth, ``g`` with a cheap prox.

Both solvers take one forward (gradient) step on ``f`` and one backward (prox) step on ``g``:

.. math::
    x_{k+1} = \operatorname{prox}_{\tau g}\bigl(y_k - \tau \nabla f(y_k)\bigr),

with :math:`y_k = x_k` for :func:`pgd` and an extrapolated point for :func:`fista`.  The step
:math:`\tau` comes from ``f.lipschitz`` when it is known, otherwise from the backtracking rule of
Beck & Teboulle (2009).
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import array, finite_array, finite_or_none, one_of
from ..backend import array_namespace
from ..functionals.base import Zero
from ..vectors import lincomb, norm, relative_change, vdot
from ._loop import Loop
from .result import Result

__all__ = ["pgd", "fista"]

_SHRINK = 0.5  # backtracking: tau <- _SHRINK * tau until the quadratic upper bound holds
_MAX_BACKTRACKS = 100
_RESTARTS = ("adaptive", "gradient", "function", None)


# ---------------------------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------------------------
def _check_problem(f, g, x0):
    if not callable(getattr(f, "grad", None)):
        raise TypeError(f"f must be a Functional with a grad method, got {type(f).__name__}")
    g = Zero() if g is None else g
    if not callable(getattr(g, "prox", None)):
        raise TypeError(f"g must be a Functional with a prox method, got {type(g).__name__}")
    finite_array(array(x0, "x0"), "x0")
    return g


def _initial_step(f, x0, step, backtracking, limit, name):
    """The starting step and whether to backtrack.

    ``limit`` is the largest admissible multiple of ``1 / f.lipschitz`` (2 for pgd, 1 for fista).
    """
    lipschitz = f.lipschitz
    one_of(backtracking, "backtracking", (None, True, False))
    step = finite_or_none(step, "step", gt=0)
    if backtracking is None:
        backtracking = step is None and lipschitz is None
    if step is None:
        if lipschitz is not None:
            step = 1.0 / lipschitz if lipschitz > 0 else 1.0
        else:
            step = _secant_step(f, x0)
    elif not backtracking and lipschitz is not None and lipschitz > 0:
        bound = limit / lipschitz
        ok = step < bound if limit == 2 else step <= bound * (1 + 1e-12)
        if not ok:
            rel = "<" if limit == 2 else "<="
            raise ValueError(
                f"step must be {rel} {limit}/f.lipschitz = {bound:.6g} for {name} "
                f"(f.lipschitz = {lipschitz:.6g}), got {step}"
            )
    return step, backtracking


def _secant_step(f, x0):
    """Inverse of a local curvature estimate of ``f`` at ``x0``: a starting point for backtracking."""
    g0 = f.grad(x0)
    gn = norm(g0)
    if gn == 0:
        return 1.0
    h = 1e-3 * max(norm(x0), 1.0) / gn
    x1 = lincomb(1.0, x0, -h, g0)
    dg = norm(lincomb(1.0, f.grad(x1), -1.0, g0))
    dx = norm(lincomb(1.0, x1, -1.0, x0))
    return dx / dg if dg > 0 else 1.0


def _eps(x):
    xp = array_namespace(x[0] if isinstance(x, tuple) else x)
    dtype = (x[0] if isinstance(x, tuple) else x).dtype
    return float(np.finfo(np.float32 if dtype == xp.float32 else np.float64).eps)


def _forward_backward(f, g, y, grad_y, f_y, step, backtracking, eps):
    """``prox_{step g}(y - step ∇f(y))``, shrinking ``step`` until the quadratic bound holds.

    The bound is Beck & Teboulle's (2009, eq. 2.5 / Lemma 2.3):
    :math:`f(z) \\le f(y) + \\langle \\nabla f(y), z - y\\rangle + \\|z - y\\|^2 / (2\\tau)`.
    A slack of a few rounding errors keeps converged float32 runs from shrinking forever.
    Returns ``(z, f(z) or None, step)``.
    """
    for _ in range(_MAX_BACKTRACKS):
        z = g.prox(lincomb(1.0, y, -step, grad_y), step)
        if not backtracking:
            return z, None, step
        d = lincomb(1.0, z, -1.0, y)
        f_z = f(z)
        bound = f_y + vdot(grad_y, d) + vdot(d, d) / (2.0 * step)
        if f_z <= bound + 16 * eps * (abs(f_y) + abs(f_z)):
            return z, f_z, step
        step *= _SHRINK
    raise RuntimeError(
        f"backtracking did not find a step after {_MAX_BACKTRACKS} reductions (step = {step:.3g}); "
        "is f.grad the gradient of f?"
    )


class _Objective:
    """``f(x) + g(x)`` where both have values; ``None`` (and no further tries) otherwise."""

    def __init__(self, f, g):
        self.f, self.g, self.available = f, g, True

    def __call__(self, x, f_x=None):
        if not self.available:
            return None
        try:
            return (self.f(x) if f_x is None else f_x) + self.g(x)
        except NotImplementedError:
            self.available = False
            return None


def _run(name, update, x, iters, tol, record_every, callback, progress, objective, state):
    """The loop shared by pgd and fista: ``update(x) -> x_new``, recording and stopping."""
    loop = Loop(name, iters, tol=tol, record_every=record_every, callback=callback, progress=progress)
    for _ in loop:
        x_new = update(x)
        if loop.recording:
            change = relative_change(x_new, x)
            values = {"relative_change": change, "step": state["step"]}
            obj = objective(x_new, state.get("f_x"))
            if obj is not None:
                values["objective"] = obj
            loop.record(**values)
            if loop.below_tol(change):
                x = x_new
                break
        x = x_new
        if loop.callback_stops(x):
            break
    return loop.result(x, extras={"step": state["step"]})


# ---------------------------------------------------------------------------------------------
# solvers
# ---------------------------------------------------------------------------------------------
def pgd(f, g, x0, *, step=None, iters=1000, tol=1e-6, backtracking=None, record_every=10, callback=None,
        progress=False) -> Result:
    r"""Proximal gradient descent (forward–backward splitting) for :math:`\min_x f(x) + g(x)`.

    .. math::
        x_{k+1} = \operatorname{prox}_{\tau g}\bigl(x_k - \tau \nabla f(x_k)\bigr)

    Parameters
    ----------
    f : Functional
        Convex, differentiable with :math:`L`-Lipschitz gradient (``f.grad``; ``f.lipschitz``
        if known; ``f(x)`` values are needed for backtracking).
    g : Functional or None
        Convex with ``g.prox``; ``None`` means :math:`g = 0` (plain gradient descent).
    x0 : array
        Starting point; fixes shape, library and dtype of the iterates.
    step : float, optional
        Step :math:`\tau`.  Default :math:`1/L`.  A fixed step must satisfy :math:`\tau < 2/L`.
        With backtracking it is the first trial step.
    iters : int
        Maximum number of iterations.
    tol : float
        Stop when :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| \le` ``tol`` (checked when recording);
        ``tol = 0`` runs all ``iters`` iterations.
    backtracking : bool or None
        Shrink the step by 1/2 until :math:`f(x_{k+1}) \le f(x_k) + \langle\nabla f(x_k),
        x_{k+1}-x_k\rangle + \|x_{k+1}-x_k\|^2/(2\tau)`.  ``None``: only when neither ``step`` nor
        ``f.lipschitz`` is given (then the first trial step is a secant curvature estimate).
    record_every : int
        Record ``history`` (``objective`` when ``g`` has a value, ``relative_change``, ``step``)
        every this many iterations and at the last one.
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k``; returning ``True`` stops the solver.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    Result
        ``x``, ``iterations``, ``converged``, ``history``; ``extras["step"]`` the final step.

    Notes
    -----
    For :math:`0 < \tau < 2/L` the iterates converge to a minimiser (when one exists) and the
    objective decreases monotonically; with :math:`\tau \le 1/L` (or backtracking) the objective
    gap is :math:`O(1/k)`.

    References
    ----------
    Combettes, P. L. & Wajs, V. R. (2005). Signal recovery by proximal forward-backward splitting.
    Multiscale Modeling & Simulation 4(4), 1168–1200.
    Beck, A. & Teboulle, M. (2009). A fast iterative shrinkage-thresholding algorithm for linear
    inverse problems. SIAM J. Imaging Sciences 2(1), 183–202.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.functionals import Zero
    >>> from recon.solvers import pgd
    >>> class Quadratic(Zero):  # f(x) = ½‖x − 3‖²
    ...     lipschitz = 1.0
    ...     def __call__(self, x): return 0.5 * float(((x - 3) ** 2).sum())
    ...     def grad(self, x): return x - 3
    >>> res = pgd(Quadratic(), None, np.zeros(2), iters=5)
    >>> np.allclose(res.x, 3)
    True
    """
    g = _check_problem(f, g, x0)
    step, backtracking = _initial_step(f, x0, step, backtracking, 2, "pgd")
    eps = _eps(x0)
    state = {"step": step, "f_x": f(x0) if backtracking else None}

    def update(x):
        z, f_z, state["step"] = _forward_backward(f, g, x, f.grad(x), state["f_x"], state["step"], backtracking, eps)
        state["f_x"] = f_z
        return z

    return _run("pgd", update, x0, iters, tol, record_every, callback, progress, _Objective(f, g), state)


def fista(f, g, x0, *, step=None, iters=1000, tol=1e-6, restart="adaptive", backtracking=None, record_every=10,
          callback=None, progress=False) -> Result:
    r"""FISTA (accelerated proximal gradient) for :math:`\min_x f(x) + g(x)`, with adaptive restart.

    .. math::
        x_{k+1} &= \operatorname{prox}_{\tau g}\bigl(y_k - \tau \nabla f(y_k)\bigr), \qquad
        t_{k+1} = \tfrac12\bigl(1 + \sqrt{1 + 4 t_k^2}\bigr), \\
        y_{k+1} &= x_{k+1} + \frac{t_k - 1}{t_{k+1}} (x_{k+1} - x_k), \qquad t_0 = 1,\ y_0 = x_0.

    Parameters
    ----------
    f, g, x0, iters, tol, record_every, callback, progress
        As in :func:`pgd`.
    step : float, optional
        Step :math:`\tau`, default :math:`1/L`; a fixed step must satisfy :math:`\tau \le 1/L`.
        With backtracking it is the first trial step and the step never increases.
    restart : {"adaptive", "gradient", "function", None}
        Adaptive restart of O'Donoghue & Candès (2015): momentum is reset (:math:`t = 1`,
        :math:`y = x`) when :math:`\langle y_k - x_{k+1}, x_{k+1} - x_k\rangle > 0` (``"gradient"``
        scheme; ``"adaptive"`` is the same) or when the objective increases (``"function"``
        scheme, one extra evaluation of ``f + g`` per iteration).  ``None``: plain FISTA.
    backtracking : bool or None
        As in :func:`pgd`, with the bound taken at :math:`y_k` (Beck & Teboulle 2009, FISTA with
        backtracking); the step is non-increasing.

    Returns
    -------
    Result
        ``extras``: ``"step"`` (final step), ``"restarts"`` (number of momentum resets).

    Notes
    -----
    With :math:`\tau \le 1/L` (or backtracking) the objective gap is
    :math:`F(x_k) - F^\star \le 2\|x_0 - x^\star\|^2 / (\tau k^2)` without restart; restart
    keeps this rate in practice and recovers linear convergence on strongly convex problems.
    The objective is not monotone.

    References
    ----------
    Beck, A. & Teboulle, M. (2009). A fast iterative shrinkage-thresholding algorithm for linear
    inverse problems. SIAM J. Imaging Sciences 2(1), 183–202.
    O'Donoghue, B. & Candès, E. (2015). Adaptive restart for accelerated gradient schemes.
    Foundations of Computational Mathematics 15(3), 715–732.
    """
    g = _check_problem(f, g, x0)
    one_of(restart, "restart", _RESTARTS)
    step, backtracking = _initial_step(f, x0, step, backtracking, 1, "fista")
    eps = _eps(x0)
    objective = _Objective(f, g)
    if restart == "function" and objective(x0) is None:
        raise ValueError("restart='function' needs the values f(x) and g(x); use restart='gradient'")
    state = {"step": step, "t": 1.0, "y": x0, "restarts": 0, "F": objective(x0) if restart == "function" else None}

    def update(x):
        y = state["y"]
        f_y = f(y) if backtracking else None
        z, _, state["step"] = _forward_backward(f, g, y, f.grad(y), f_y, state["step"], backtracking, eps)
        t = state["t"]
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        if restart == "function":
            F_new = objective(z)
            reset = F_new > state["F"]
            state["F"] = F_new
        elif restart is not None:
            reset = vdot(lincomb(1.0, y, -1.0, z), lincomb(1.0, z, -1.0, x)) > 0
        else:
            reset = False
        if reset:
            state["restarts"] += 1
            state["t"], state["y"] = 1.0, z
        else:
            state["t"], state["y"] = t_new, lincomb(1.0 + (t - 1.0) / t_new, z, -(t - 1.0) / t_new, x)
        return z

    result = _run("fista", update, x0, iters, tol, record_every, callback, progress, objective, state)
    result.extras["restarts"] = state["restarts"]
    return result
