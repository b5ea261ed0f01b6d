r"""Fused CPU kernels for the 2-D TV prox (:class:`recon.functionals.TV`), compiled by numba when installed.

One inner iteration of the accelerated primal-dual solver reads and writes the same few images; as
NumPy ufuncs it makes about 28 (float32) / 41 (float64) passes over memory.  :func:`iteration` does the
whole iteration in one sweep over the rows and :func:`gap_terms` the duality-gap sums in another.
Both reproduce the array-API path of ``tv.py`` step for step (same formulas, same order of the
updates); only the rounding of the sums differs.

Why one sweep gives the same iterates as the separate passes: the dual step at pixel
:math:`(i, j)` reads the extrapolated point :math:`\bar u` at :math:`(i, j)`, :math:`(i+1, j)` and
:math:`(i, j+1)`, and the primal step at :math:`(i, j)` reads the new dual variable at :math:`(i, j)`,
:math:`(i-1, j)` and :math:`(i, j-1)`.  Sweeping the rows in order and, within row :math:`i`, doing
all dual steps before the primal steps, every value read is the one the separate passes would read:
:math:`\bar u` of row :math:`i` is overwritten only after row :math:`i`'s dual steps (and row
:math:`i - 1`'s, which also read it, are done), and the dual rows :math:`i - 1, i` are already new.

The dual variable is ``p[0]`` (differences along rows, zero on the last row) and ``p[1]`` (along
columns, zero on the last column), as :class:`recon.operators.Gradient` orders them.  Kernels take
NumPy arrays, C-contiguous, of one floating dtype, with scalars of that dtype; callers check.
"""
from __future__ import annotations

import numpy as np

from .._compiled import enabled, lazy

__all__ = ["iteration", "gap_terms", "project_pairs", "available"]


def _iteration(x, u, ub, p0, p1, w, step_ratio, c_step, c_point, one, isotropic):
    """One inner iteration in place; returns :math:`\\sum_i d_i^2` of the primal step ``d`` (float64).

    Dual: ``p <- proj(p + grad ub)`` (``ub`` carries sigma / w).  Primal: ``d = step_ratio (x + w div p - u)``,
    ``u <- u + d``.  Extrapolation: ``ub <- c_point u + c_step d``.
    """
    m, n = u.shape
    total = 0.0
    for i in range(m):
        # dual steps of row i
        if i < m - 1:
            for j in range(n - 1):
                a = p0[i, j] + (ub[i + 1, j] - ub[i, j])
                b = p1[i, j] + (ub[i, j + 1] - ub[i, j])
                if isotropic:
                    r = max(np.sqrt(a * a + b * b), one)
                    p0[i, j] = a / r
                    p1[i, j] = b / r
                else:
                    p0[i, j] = min(max(a, -one), one)
                    p1[i, j] = min(max(b, -one), one)
            a = p0[i, n - 1] + (ub[i + 1, n - 1] - ub[i, n - 1])  # p1 is zero on the last column
            p0[i, n - 1] = min(max(a, -one), one)
        else:
            for j in range(n - 1):  # p0 is zero on the last row
                b = p1[i, j] + (ub[i, j + 1] - ub[i, j])
                p1[i, j] = min(max(b, -one), one)
        # primal steps of row i: div p = p0[i] - p0[i-1] + p1[:, j] - p1[:, j-1]
        for j in range(n):
            dv = p0[i, j] + p1[i, j]
            if i > 0:
                dv -= p0[i - 1, j]
            if j > 0:
                dv -= p1[i, j - 1]
            d = step_ratio * (x[i, j] + w * dv - u[i, j])
            un = u[i, j] + d
            u[i, j] = un
            ub[i, j] = c_point * un + c_step * d
            total += d * d
    return total


def _gap_terms(x, u, p0, p1, isotropic):
    r"""``(TV(u), sum_i (|grad u_i| - <grad u_i, p_i>), sum (u - x)^2)`` in float64, one sweep."""
    m, n = u.shape
    tv = 0.0
    slack = 0.0
    fit = 0.0
    for i in range(m):
        for j in range(n):
            a = u[i + 1, j] - u[i, j] if i < m - 1 else u[i, j] - u[i, j]
            b = u[i, j + 1] - u[i, j] if j < n - 1 else u[i, j] - u[i, j]
            if isotropic:
                s = np.sqrt(a * a + b * b)
            else:
                s = abs(a) + abs(b)
            tv += s
            slack += s - (a * p0[i, j] + b * p1[i, j])
            r = u[i, j] - x[i, j]
            fit += r * r
    return tv, slack, fit


def _project_pairs(x0, x1, out0, out1, radius):
    """``(out0, out1) = (x0, x1) * radius / max(|(x0, x1)|, radius)`` elementwise on flat arrays."""
    for i in range(x0.shape[0]):
        a = x0[i]
        b = x1[i]
        f = radius / max(np.sqrt(a * a + b * b), radius)
        out0[i] = a * f
        out1[i] = b * f


def _project_pairs_in_place(x0, x1, radius):
    """:func:`_project_pairs` with ``out = x``: a separate loop, because with aliased outputs LLVM's
    runtime overlap check fails and the loop runs unvectorised (measured 25 instead of 3 passes)."""
    for i in range(x0.shape[0]):
        a = x0[i]
        b = x1[i]
        f = radius / max(np.sqrt(a * a + b * b), radius)
        x0[i] = a * f
        x1[i] = b * f


_iteration_kernel = lazy(_iteration)
_project_kernel = lazy(_project_pairs)
_project_in_place_kernel = lazy(_project_pairs_in_place)
_gap_kernel = lazy(_gap_terms)


def available(*arrays) -> bool:
    """Whether the kernels can run on these arrays: numba present, NumPy, 2-D, C-contiguous, float32/64."""
    if _iteration_kernel is None or not enabled():
        return False
    first = arrays[0]
    for a in arrays:
        if not (type(a) is np.ndarray and a.ndim == 2 and a.flags.c_contiguous and a.dtype == first.dtype):
            return False
    return first.dtype in (np.float32, np.float64)


def iteration(x, u, ub, p, w, step_ratio, c_step, c_point, isotropic):
    """Run :func:`_iteration` with scalars cast to the arrays' dtype; returns ``sum(d**2)``."""
    t = u.dtype.type
    return float(_iteration_kernel(x, u, ub, p[0], p[1], t(w), t(step_ratio), t(c_step), t(c_point), t(1.0),
                                   bool(isotropic)))


def gap_terms(x, u, p, isotropic):
    """``(TV(u), sum(|grad u| - <grad u, p>), sum((u - x)**2))`` as Python floats."""
    tv, slack, fit = _gap_kernel(x, u, p[0], p[1], bool(isotropic))
    return float(tv), float(slack), float(fit)


def project_pairs(x, out, radius):
    """Project the 2-vectors ``x[:, i...]`` onto the ball of ``radius`` into ``out`` (may be ``x``).

    ``x`` and ``out``: NumPy, C-contiguous, shape ``(2, ...)``, one float dtype; returns ``None`` (and
    does nothing) when the kernel is unavailable for them, so the caller takes its own path.
    """
    if _project_kernel is None or not enabled() or type(x) is not np.ndarray or type(out) is not np.ndarray:
        return None
    dtype = x.dtype
    if x.shape[0] != 2 or out.shape != x.shape or out.dtype != dtype \
            or not (dtype == np.float32 or dtype == np.float64) \
            or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    if x is out:
        of = out.reshape(2, -1)
        _project_in_place_kernel(of[0], of[1], dtype.type(radius))
    elif np.may_share_memory(x, out):
        return None  # partial overlap: leave it to the caller's path
    else:
        xf, of = x.reshape(2, -1), out.reshape(2, -1)
        _project_kernel(xf[0], xf[1], of[0], of[1], dtype.type(radius))
    return out
