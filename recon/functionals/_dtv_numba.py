r"""Compiled (numba) kernels of the dTV prox's inner iteration on 2-D NumPy arrays.

One call of ``run`` makes a given number of iterations of the accelerated primal-dual method of
:meth:`~recon.functionals.DirectionalTV.prox` (no constraint, :math:`u \ge 0` or the unit simplex), each a
sweep fused row by row: the dual step and the pixel projection of row :math:`i`,

.. math::
    p_i \leftarrow \frac{p_i + P_i\nabla\bar u_i}{\max(1, |p_i + P_i\nabla\bar u_i|)},

then the primal step of row :math:`i`, which reads :math:`P p` on rows :math:`i` and :math:`i - 1`
only, both already updated.  The primal step overwrites :math:`\bar u` on row :math:`i`, which the
dual steps of rows :math:`i + 1, \dots` no longer read, so everything happens in place and the
iterates are those of the NumPy path up to rounding.  One iteration reads :math:`\bar u, p, \xi, u, x`
and writes :math:`p, u, \bar u` once, where the NumPy path makes about 36
elementwise passes.  ``gap_terms`` computes the sums behind the duality gap in one pass.

:func:`kernels` returns both, compiled on first use (numba is imported only then), or ``None`` when
numba is unavailable (:mod:`recon._compiled`); callers then use the array-API path.  They release the GIL,
so bands fused in threads run in parallel.

Conventions (those of :class:`~recon.operators.Gradient`): forward differences with the last row
(column) of the row (column) difference zero; :math:`\xi` vanishes there too, so :math:`P p` does, and
:math:`\operatorname{div} q = q_{0,i} - q_{0,i-1} + q_{1,j} - q_{1,j-1}` with zero beyond the first row
and column.  Scalars are passed in the arrays' dtype so that float32 stays float32.
"""
from __future__ import annotations

import math

import numpy as np

from .._compiled import compiled, enabled

__all__ = ["kernels"]


def _run(n, step, dual_step, w, ub, p, xi, gamma, u, x, shift, rows, simplex, flat):
    r"""``n`` iterations of the accelerated schedule from ``step`` = :math:`\tau_k`, ``dual_step`` = :math:`\sigma_k`;
    returns :math:`(\tau_{k+n}, \sigma_{k+n})`.

    Per iteration :math:`\theta = 1/\sqrt{1 + 2\tau}`, the sweep with :math:`a = \tau/(1 + \tau)`,
    :math:`c_2 = \sigma w/\theta`, :math:`c_1 = \theta c_2`, then :math:`\tau \leftarrow \theta\tau`,
    :math:`\sigma \leftarrow \sigma/\theta` (float64, as the Python loop).  With ``simplex`` the sweep runs
    unconstrained (``shift`` = inf) and :func:`_project_simplex_step` projects its primal point.
    """
    t = u.dtype.type
    for _ in range(n):
        theta = 1.0 / math.sqrt(1.0 + 2.0 * step)
        c2 = dual_step / theta * w
        c1 = theta * c2
        _sweep_jit(ub, p, xi, gamma, u, x, t(w), t(step / (1.0 + step)), shift, t(c1), t(c2), rows)
        if simplex:
            _project_jit(u, ub, t(c1 + c2), flat)
        step = step * theta
        dual_step = dual_step / theta
    return step, dual_step


def _project_simplex_step(u, ub, c, flat):
    r"""Replace the unconstrained primal point :math:`y` (in ``u``) by :math:`\Pi_\Delta(y)` and correct :math:`\bar u`.

    The sweep wrote :math:`\bar u = c_1(y - u_\text{old}) + c_2 y`; with :math:`u' = \Pi_\Delta(y)` the
    wanted :math:`c_1(u' - u_\text{old}) + c_2 u'` is :math:`\bar u + (c_1 + c_2)(u' - y)`.  The projection
    is the sort-based one of :func:`~recon.functionals.dtv.project_simplex`, summed in float64.
    """
    n0, n1 = u.shape
    for i in range(n0):
        for j in range(n1):
            flat[i * n1 + j] = u[i, j]
    th = u.dtype.type(_threshold_jit(flat))
    zero = u.dtype.type(0)
    for i in range(n0):
        ui, ubi = u[i], ub[i]
        for j in range(n1):
            y = ui[j]
            un = max(y - th, zero)
            ubi[j] = ubi[j] + c * (un - y)
            ui[j] = un


def _step(ub, p, xi, gamma, u, x, w, a, shift, c1, c2, rows):
    r"""One fused iteration, in place on ``p`` (2, n0, n1), ``u`` and ``ub`` (n0, n1).

    ``ub`` holds :math:`\sigma w\bar u`; ``a`` = :math:`\tau/(1 + \tau)`; the primal step
    :math:`d = \max(a(x + w\operatorname{div}P p - u), -u - \text{shift})` (``shift`` = 0: :math:`u \ge 0`;
    ``inf``: no constraint), :math:`u \leftarrow u + d`, :math:`\bar u \leftarrow c_1 d + c_2 u`.
    ``rows`` (3, n1) is scratch for :math:`(P p)_0` of the previous row and :math:`P p` of this one.
    """
    n0, n1 = u.shape
    zero = rows.dtype.type(0)
    one = rows.dtype.type(1)
    for j in range(n1):
        rows[0, j] = zero
    for i in range(n0):
        prev = rows[i & 1]        # (P p)_0 on row i - 1
        cur0 = rows[1 - (i & 1)]  # (P p)_0 on row i
        cur1 = rows[2]            # (P p)_1 on row i
        ubi = ub[i]
        nxt = ub[min(i + 1, n0 - 1)]  # last row: nxt - ubi = 0, the Neumann boundary
        p0, p1 = p[0, i], p[1, i]
        x0, x1 = xi[0, i], xi[1, i]
        for j in range(n1 - 1):
            g0 = nxt[j] - ubi[j]
            g1 = ubi[j + 1] - ubi[j]
            s = x0[j] * g0 + x1[j] * g1
            q0 = p0[j] + (g0 - (gamma * x0[j]) * s)
            q1 = p1[j] + (g1 - (gamma * x1[j]) * s)
            nrm = max(math.sqrt(q0 * q0 + q1 * q1), one)
            q0 = q0 / nrm
            q1 = q1 / nrm
            p0[j] = q0
            p1[j] = q1
            s = x0[j] * q0 + x1[j] * q1
            cur0[j] = q0 - (gamma * x0[j]) * s
            cur1[j] = q1 - (gamma * x1[j]) * s
        j = n1 - 1  # last column: no difference along the row
        g0 = nxt[j] - ubi[j]
        s = x0[j] * g0
        q0 = p0[j] + (g0 - (gamma * x0[j]) * s)
        q1 = p1[j] - (gamma * x1[j]) * s
        nrm = max(math.sqrt(q0 * q0 + q1 * q1), one)
        q0 = q0 / nrm
        q1 = q1 / nrm
        p0[j] = q0
        p1[j] = q1
        s = x0[j] * q0 + x1[j] * q1
        cur0[j] = q0 - (gamma * x0[j]) * s
        cur1[j] = q1 - (gamma * x1[j]) * s
        # primal step of row i
        ui, xr = u[i], x[i]
        d = a * (xr[0] + w * (cur0[0] - prev[0] + cur1[0]) - ui[0])
        d = max(d, -ui[0] - shift)
        un = ui[0] + d
        ui[0] = un
        ubi[0] = c1 * d + c2 * un
        for j in range(1, n1):
            d = a * (xr[j] + w * (cur0[j] - prev[j] + cur1[j] - cur1[j - 1]) - ui[j])
            d = max(d, -ui[j] - shift)
            un = ui[j] + d
            ui[j] = un
            ubi[j] = c1 * d + c2 * un


def _gap_terms(u, p, xi, gamma, x, w, nonnegative, simplex, rows, flat):
    r"""Sums behind the duality gap, in float64: :math:`\sum|P\nabla u|`,
    :math:`\sum(|P\nabla u| - \langle P\nabla u, p\rangle)`, the Fenchel–Young sum (twice the term of
    ``DirectionalTV._fenchel_young``), :math:`\sum(u - x)^2` and,
    with ``simplex``, :math:`\sum(\Pi_\Delta z - z)^2` (else 0).

    With :math:`z = x + w\operatorname{div}P p` and :math:`d = u - z`, the Fenchel–Young sum is
    :math:`\sum d^2` without constraint or with the simplex (whose term is :math:`\sum d^2 - \sum(\Pi_\Delta z - z)^2`),
    and :math:`\sum_{z\ge 0} d^2 + \sum_{z<0} u(u - 2z)` for :math:`u \ge 0`.  ``flat`` (n0 n1) receives :math:`z`.
    """
    n0, n1 = u.shape
    dtv, align, fy, r2 = 0.0, 0.0, 0.0, 0.0
    for j in range(n1):
        rows[0, j] = 0
    for i in range(n0):
        prev = rows[i & 1]
        cur0 = rows[1 - (i & 1)]
        cur1 = rows[2]
        ui, xr = u[i], x[i]
        nxt = u[min(i + 1, n0 - 1)]
        p0, p1 = p[0, i], p[1, i]
        x0, x1 = xi[0, i], xi[1, i]
        for j in range(n1):
            s = x0[j] * p0[j] + x1[j] * p1[j]
            cur0[j] = p0[j] - (gamma * x0[j]) * s
            cur1[j] = p1[j] - (gamma * x1[j]) * s
        if simplex:
            for j in range(n1):
                div = float(cur0[j]) - float(prev[j]) + float(cur1[j]) - (float(cur1[j - 1]) if j > 0 else 0.0)
                flat[i * n1 + j] = float(xr[j]) + float(w) * div
        # the sums run in a loop without stores: LLVM then needs no run-time aliasing check, whose
        # outcome (vector or scalar loop, so the summation order) would depend on the arrays' addresses
        for j in range(n1):
            g0 = float(nxt[j]) - float(ui[j])
            g1 = (float(ui[j + 1]) - float(ui[j])) if j < n1 - 1 else 0.0
            s = float(x0[j]) * g0 + float(x1[j]) * g1
            g0 = g0 - float(gamma * x0[j]) * s
            g1 = g1 - float(gamma * x1[j]) * s
            n = math.sqrt(g0 * g0 + g1 * g1)
            dtv += n
            align += n - (g0 * float(p0[j]) + g1 * float(p1[j]))
            div = float(cur0[j]) - float(prev[j]) + float(cur1[j]) - (float(cur1[j - 1]) if j > 0 else 0.0)
            z = float(xr[j]) + float(w) * div
            uu = float(ui[j])
            e = uu - z
            r = uu - float(xr[j])
            r2 += r * r
            if nonnegative and z < 0.0:
                fy += uu * (uu - 2.0 * z)
            else:
                fy += e * e
    e2 = 0.0
    if simplex:
        theta = _threshold_jit(flat)
        for k in range(flat.shape[0]):
            z = float(flat[k])
            e = max(z - theta, 0.0) - z
            e2 += e * e
    return dtv, align, fy, r2, e2


def _simplex_threshold(flat):
    r""":math:`\theta` of the projection :math:`\max(y - \theta, 0)` of ``flat`` onto the unit simplex.

    Sort-based, with float64 sums.
    """
    srt = np.sort(flat)
    m = srt.shape[0]
    cums, theta = 0.0, 0.0
    for j in range(m):
        sj = float(srt[m - 1 - j])
        cums += sj
        cand = (cums - 1.0) / (j + 1)
        if sj - cand > 0.0:
            theta = cand
    return theta


_COMPILED = []
# the compiled sweep and projection that the compiled `_run` calls: numba reads globals when it
# compiles, so they are bound before `_run` is
_sweep_jit = _project_jit = _threshold_jit = None


def kernels():
    """``(run, gap_terms)`` compiled by numba, or ``None`` without numba (or with ``RECON_NUMBA=0``)."""
    global _sweep_jit, _project_jit, _threshold_jit
    if not enabled():
        return None
    if not _COMPILED:
        sweep, project, threshold = compiled(_step), compiled(_project_simplex_step), compiled(_simplex_threshold)
        if sweep is None or project is None or threshold is None:
            _COMPILED.append(None)
        else:
            _sweep_jit, _project_jit, _threshold_jit = sweep, project, threshold
            _COMPILED.append((compiled(_run), compiled(_gap_terms)))
    return _COMPILED[0]
