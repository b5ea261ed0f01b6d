r"""Directional total variation: TV that spares edges parallel to those of a guide image.

Given side information :math:`v` (a guide image of the same scene, e.g. a photograph), let

.. math::
    \xi_i = \frac{\nabla v_i}{\sqrt{|\nabla v_i|^2 + \eta^2}}, \qquad
    P_i = I - \gamma\, \xi_i \xi_i^{\mathsf T}, \qquad
    \mathrm{dTV}(u) = \sum_i |P_i \nabla u_i|_2 ,

with :math:`\nabla` the forward differences of :class:`~recon.operators.Gradient`.  Where :math:`v`
has an edge (:math:`|\nabla v| \gg \eta`), :math:`P_i` nearly removes the component of
:math:`\nabla u_i` along :math:`\nabla v_i`, so an edge of :math:`u` parallel to the edge of
:math:`v` costs little; where :math:`v` is flat, :math:`\xi_i \approx 0` and dTV is TV.  Since
:math:`|\xi_i| < 1` and :math:`0 \le \gamma \le 1`, :math:`P_i` is symmetric with eigenvalues in
:math:`[1 - \gamma, 1]`, so :math:`\mathrm{dTV} \le \mathrm{TV}` and :math:`\|P\nabla\| \le \|\nabla\|`.

The prox, :math:`\operatorname{argmin}_u \tau\,\mathrm{dTV}(u) + \iota_C(u) + \tfrac12\|u - f\|^2` (with an
optional convex constraint set :math:`C`: non-negativity, or the unit simplex for blur kernels),
is solved like TV's, by Chambolle & Pock's accelerated primal-dual method on the saddle point
problem :math:`\min_{u\in C}\max_{|p_i|\le 1} \tfrac12\|u - f\|^2 + \tau\langle P\nabla u, p\rangle`, and
stopped by a duality-gap certificate (see :meth:`DirectionalTV.prox`).

References
----------
Ehrhardt, M. J., Betcke, M. M. (2016). Multicontrast MRI reconstruction with structure-guided total
variation. SIAM J. Imaging Sci. 9(3), 1084-1106.
Bungert, L., Coomes, D. A., Ehrhardt, M. J., Rasch, J., Reisenhofer, R., Schönlieb, C.-B. (2018).
Blind image fusion for hyperspectral imaging with the directional total variation. Inverse
Problems 34(4), 044003.
Chambolle, A., Pock, T. (2011). A first-order primal-dual algorithm for convex problems with
applications to imaging. J. Math. Imaging Vis. 40.
"""
from __future__ import annotations

import math

from .._checks import finite, one_of, positive_int
from ..backend import array_namespace, check_finite
from ..operators.base import LinearOperator
from ..operators.gradient import Gradient
from .base import Functional
from .dtv_solver import DualState, norms_into, wait

__all__ = ["DirectionalGradient", "DirectionalTV", "luminance", "project_simplex"]

CONSTRAINTS = (None, "nonnegative", "simplex")

# ITU-R BT.601 luma weights: the usual grey conversion of an RGB photograph
_LUMA = (0.299, 0.587, 0.114)


def luminance(image):
    """Grey image of ``image``: unchanged if 2-D, BT.601 luma of an ``(h, w, 3|4)`` colour image.

    A fourth (alpha) channel is ignored.  Any other shape with more than two axes is refused,
    since it cannot be told apart from a volume.
    """
    xp = array_namespace(image)
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        return _LUMA[0] * image[..., 0] + _LUMA[1] * image[..., 1] + _LUMA[2] * image[..., 2]
    if image.ndim == 3:
        raise ValueError(f"side_info of shape {tuple(image.shape)} is neither a grey image nor (h, w, 3) colour")
    return xp.asarray(image)


def project_simplex(x):
    r"""Euclidean projection of ``x`` (any shape, flattened) onto the unit simplex :math:`\{k \ge 0, \sum k = 1\}`.

    Exact, by sorting (Held, Wolfe & Crowder 1974; Duchi et al. 2008): with :math:`s` the entries
    sorted in decreasing order, :math:`\rho = \max\{j : s_j - (\sum_{i\le j} s_i - 1)/j > 0\}` and
    :math:`\theta = (\sum_{i\le\rho} s_i - 1)/\rho`, the projection is :math:`\max(x - \theta, 0)`.
    :math:`O(n\log n)`.

    References
    ----------
    Duchi, J., Shalev-Shwartz, S., Singer, Y., Chandra, T. (2008). Efficient projections onto the
    l1-ball for learning in high dimensions. ICML.
    """
    xp = array_namespace(x)
    flat = xp.reshape(x, (-1,))
    s = xp.sort(flat, descending=True)
    cums = xp.cumulative_sum(s) - 1.0
    j = xp.arange(1, flat.shape[0] + 1, dtype=x.dtype, device=x.device)
    positive = (s - cums / j) > 0
    rho = int(xp.sum(xp.astype(positive, xp.int64)))  # positive is True exactly on 1..rho
    theta = cums[rho - 1] / float(rho)
    return xp.maximum(x - theta, xp.zeros_like(x))


class DirectionalGradient(LinearOperator):
    r"""The linear operator :math:`u \mapsto P_\xi \nabla u` of directional TV.

    .. math::
        (P_\xi\nabla u)_i = \nabla u_i - \gamma\,\xi_i \langle \xi_i, \nabla u_i\rangle, \qquad
        \xi_i = \frac{\nabla v_i}{\sqrt{|\nabla v_i|^2 + \eta^2}},

    from arrays of ``shape`` to ``(ndim, *shape)``.  :math:`P_\xi` is symmetric, so the adjoint is
    :math:`\nabla^* P_\xi`; :math:`\|P_\xi\nabla\| \le \|\nabla\| \le \sqrt{4d}`, the bound :meth:`norm`
    returns (safe for step sizes).

    Parameters
    ----------
    side_info : array
        Guide image :math:`v` (any dimension; a 2-D colour image ``(h, w, 3)`` is converted to
        luminance, :func:`luminance`).  Fixes the shape and the array library.
    eta : float, default 0.003
        Edge threshold :math:`\eta > 0` in the units of :math:`|\nabla v|`, i.e. intensity of
        :math:`v` per pixel: gradients much larger than :math:`\eta` count as edges.  0.003 is the
        value of Bungert et al. (2018) for side information scaled to :math:`[0, 1]`; to use a
        fraction :math:`c` of the largest gradient instead, pass ``eta = c * max|∇v|``.
    gamma : float, default 0.9995
        :math:`0 \le \gamma \le 1`; 0 gives the plain gradient (dTV = TV).
    """

    def __init__(self, side_info, *, eta: float = 0.003, gamma: float = 0.9995):
        eta = finite(eta, "eta", gt=0)
        gamma = float(gamma)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must be in [0, 1], got {gamma}")
        v = luminance(side_info)
        xp = array_namespace(v)
        if not xp.isdtype(v.dtype, ("real floating", "integral")):
            raise TypeError(f"side_info must be real, got dtype {v.dtype}")
        v = xp.astype(v, xp.float64)
        check_finite(v, "side_info")
        self.gradient = Gradient(tuple(v.shape))
        super().__init__(tuple(v.shape), self.gradient.shape_out, xp=xp)
        gv = self.gradient(v)
        self.xi = gv / xp.sqrt(xp.sum(gv * gv, axis=0) + eta * eta)[None, ...]
        self.eta, self.gamma = eta, gamma
        self._xi_cache = {}

    def _xi(self, dtype):
        key = str(dtype)
        if key not in self._xi_cache:
            self._xi_cache[key] = self.xi if dtype == self.xp.float64 else self.xp.astype(self.xi, dtype)
        return self._xi_cache[key]

    def project(self, g):
        r""":math:`P_\xi g = g - \gamma\,\xi\langle\xi, g\rangle` pointwise, for ``g`` of shape ``(ndim, *shape)``."""
        xp = array_namespace(g, self.xi)
        if self.gamma == 0.0:
            return g
        xi = self._xi(g.dtype)
        return g - (self.gamma * xi) * xp.sum(xi * g, axis=0)[None, ...]

    def _forward(self, u):
        return self.project(self.gradient._forward(u))

    def _adjoint(self, p):
        return self.gradient._adjoint(self.project(p))

    def _exact_norm(self):
        return self.gradient._exact_norm()


class DirectionalTV(Functional):
    r"""Directional total variation :math:`\mathrm{dTV}(u) = \sum_i |P_\xi \nabla u_i|_2` (plus a constraint).

    See :class:`DirectionalGradient` for :math:`P_\xi\nabla`.  ``weight * DirectionalTV(v)`` is the
    regularizer; its prox is ``DirectionalTV(v).prox(x, weight * tau)``.

    Parameters
    ----------
    side_info : array
        Guide image :math:`v`, the shape of the images :math:`u` (2-D colour ``(h, w, 3)`` is
        converted to luminance).
    eta : float, default 0.003
        Edge threshold, in intensity of :math:`v` per pixel (see :class:`DirectionalGradient`);
        the default suits side information scaled to :math:`[0, 1]`.
    gamma : float, default 0.9995
        Strength of the alignment, :math:`0 \le \gamma \le 1`.
    constraint : {None, "nonnegative", "simplex"}, default None
        Adds the indicator of :math:`\{u \ge 0\}` or of the unit simplex
        :math:`\{u \ge 0, \sum u = 1\}` (blur kernels) to the functional: the value is ``inf``
        outside, and :meth:`prox` solves the constrained problem exactly (not by projecting the
        unconstrained prox, which would not be the prox of the sum).
    inner_tol : float, default 1e-4
        Relative duality gap at which the prox's inner solver stops.
    inner_iters : int, default 500
        Maximum inner iterations per prox call.
    warm_start : bool, default True
        Start each prox from the previous call's primal-dual pair (same shape, library, dtype).
    check_every : int, default 5
        Inner iterations between gap evaluations.

    Attributes
    ----------
    operator : DirectionalGradient
        :math:`P_\xi\nabla`.

    Inner statistics: :meth:`prox_with_info` returns ``(u, info)`` with ``iterations``, ``gap``,
    ``rel_gap``, ``converged`` and ``value`` (:math:`\mathrm{dTV}` of the returned point).

    References
    ----------
    Ehrhardt, M. J., Betcke, M. M. (2016). Multicontrast MRI reconstruction with structure-guided
    total variation. SIAM J. Imaging Sci. 9(3).
    Bungert, L. et al. (2018). Blind image fusion for hyperspectral imaging with the directional total
    variation. Inverse Problems 34(4), 044003.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((16, 16)); v[:, 8:] = 1.0          # guide with a vertical edge
    >>> u = np.zeros((16, 16)); u[:, 8:] = 2.0          # image with the same edge
    >>> from recon.functionals import TV
    >>> bool(DirectionalTV(v)(u) < 0.05 * TV()(u))      # the shared edge is almost free
    True
    """

    def __init__(self, side_info, *, eta: float = 0.003, gamma: float = 0.9995, constraint=None,
                 inner_tol: float = 1e-4, inner_iters: int = 500, warm_start: bool = True, check_every: int = 5):
        one_of(constraint, "constraint", CONSTRAINTS)
        inner_tol = finite(inner_tol, "inner_tol", gt=0)
        inner_iters = positive_int(inner_iters, "inner_iters")
        check_every = positive_int(check_every, "check_every")
        self.operator = DirectionalGradient(side_info, eta=eta, gamma=gamma)
        self.shape = self.operator.shape_in
        self.constraint = constraint
        self.inner_tol, self.inner_iters = float(inner_tol), inner_iters
        self.warm_start, self.check_every = bool(warm_start), check_every
        self._state = None

    # -- value ------------------------------------------------------------------------------------
    def _check(self, x):
        if tuple(x.shape) != self.shape:
            raise ValueError(f"x has shape {tuple(x.shape)}, expected the side information's shape {self.shape}")

    def _norms(self, g):
        xp = array_namespace(g)
        return xp.sqrt(xp.sum(g * g, axis=0))

    def feasible(self, x):
        xp = array_namespace(x)
        if self.constraint is None:
            return True
        if float(xp.min(x)) < 0:
            return False
        if self.constraint == "simplex":
            eps = 1e-6 if x.dtype == xp.float32 else 1e-12
            return abs(float(xp.sum(x)) - 1.0) <= eps * x.size ** 0.5 * 10
        return True

    def __call__(self, x):
        self._check(x)
        if not self.feasible(x):
            return math.inf
        xp = array_namespace(x)
        return float(xp.sum(self._norms(self.operator._forward(x))))

    # -- prox ---------------------------------------------------------------------------------------
    def _project_primal(self, u):
        xp = array_namespace(u)
        if self.constraint == "nonnegative":
            return xp.maximum(u, xp.zeros_like(u))
        if self.constraint == "simplex":
            return project_simplex(u)
        return u

    def _fenchel_young(self, u, z, xp):
        r""":math:`G(u) + G^*(z - f) - \langle z - f, u\rangle \ge 0` for :math:`G = \tfrac12\|\cdot - f\|^2 + \iota_C`.

        Equals :math:`\tfrac12\|u - z\|^2 - \tfrac12\|\Pi_C z - z\|^2`; for :math:`C = \{u \ge 0\}` it is a
        sum of non-negative terms, :math:`\tfrac12(u - z)^2` where :math:`z \ge 0` and
        :math:`\tfrac12 u(u - 2z)` where :math:`z < 0`, summed without cancellation.
        """
        d = u - z
        if self.constraint is None:
            return 0.5 * float(xp.sum(d * d))
        if self.constraint == "nonnegative":
            return 0.5 * float(xp.sum(xp.where(z >= 0, d * d, u * (u - 2.0 * z))))
        e = project_simplex(z) - z
        return max(0.5 * float(xp.sum(d * d)) - 0.5 * float(xp.sum(e * e)), 0.0)

    def _workspace(self, x, xp):
        key = (type(x), x.dtype, str(x.device))
        if self._state is None or self._state.key != key:
            self._state = DualState(xp, key, self.operator, x, self.constraint)
        return self._state

    def _gap(self, x, w, ws):
        """Duality gap, primal objective :math:`\\Phi(u) = w\\,\\mathrm{dTV}(u) + \\tfrac12\\|u - x\\|^2` and dTV(u).

        Uses ``ws.g``, ``ws.q``, ``ws.n`` and ``ws.v`` as scratch: called between iterations only.
        """
        if ws.kernels is not None:
            dtv, align, fy, r2, e2 = ws.fused_gap_terms(x, w)
            return max(w * align, 0.0) + max(0.5 * fy - 0.5 * e2, 0.0), w * dtv + 0.5 * r2, dtv
        xp, into = ws.xp, ws.into
        g = ws.project_into(self.operator.gradient.forward_into(ws.u, ws.g), ws.q)
        n = norms_into(g, ws.n, into)
        dtv = float(xp.sum(n))
        into("multiply", g, g, ws.p)
        for a in range(g.shape[0]):
            into("subtract", n, n, g[a, ...])
        align = max(w * float(xp.sum(n)), 0.0)  # pointwise |g_i| - <g_i, p_i> >= 0 since |p_i| <= 1
        z = ws.z_into(x, w, ws.v)
        r = ws.u - x
        return align + self._fenchel_young(ws.u, z, xp), w * dtv + 0.5 * float(xp.sum(r * r)), dtv

    def _prox(self, x, tau):
        return self._solve(x, tau)[0]

    def prox_with_info(self, x, tau):
        """:meth:`prox` and the inner solver's certificate: a dict with ``iterations``, ``gap``, ``rel_gap``,
        ``converged`` and ``value`` (dTV of the returned point)."""
        finite(tau, "tau", gt=0)
        return self._solve(x, tau)

    def _solve(self, x, tau):
        r"""Solve :math:`\operatorname{argmin}_{u \in C} \tau\,\mathrm{dTV}(u) + \tfrac12\|u - x\|^2`.

        Chambolle–Pock Algorithm 2 on :math:`\min_{u\in C}\max_{|p_i|\le 1} \tfrac12\|u - x\|^2 +
        \langle K u, p\rangle`, :math:`K = \tau P_\xi\nabla`: the primal term is 1-strongly convex, so
        with :math:`\tau_0 = 1`, :math:`\sigma_0 = 1/\|K\|^2`, :math:`\theta_n = 1/\sqrt{1 + 2\tau_n}`,
        :math:`\tau_{n+1} = \theta_n\tau_n`, :math:`\sigma_{n+1} = \sigma_n/\theta_n` the primal iterate
        converges at rate :math:`O(1/n)`:

        .. math::
            p \leftarrow \Pi_{|p_i|\le 1}(p + \sigma_n K\bar u), \quad
            u' \leftarrow \Pi_C\Bigl(\frac{u + \tau_n (x - K^*p)}{1 + \tau_n}\Bigr), \quad
            \bar u \leftarrow u' + \theta_n (u' - u).

        It stops when the duality gap, with :math:`z = x - K^*p`,

        .. math::
            G(u, p) = \tau\sum_i\bigl(|P\nabla u_i| - \langle P\nabla u_i, p_i\rangle\bigr)
            + \tfrac12\|u - z\|^2 - \tfrac12\|\Pi_C z - z\|^2 \ \ge\ \Phi(u) - \Phi(u^\star),

        falls below ``inner_tol`` times :math:`\Phi(u)`, evaluated after ``check_every`` iterations and
        then where the :math:`O(1/n^2)` decay of the gap predicts the tolerance (half-way there), and
        always after the last iteration.  Returns a new array like ``x``; :meth:`prox_with_info` also returns the
        certificate and ``value``, :math:`\mathrm{dTV}` of the returned point (free: the gap needs it).

        On 2-D NumPy arrays with numba installed, an iteration is one compiled row-by-row sweep
        (:mod:`recon.functionals._dtv_numba`; same iterates up to rounding), and the iterations between
        two gap checks run in one call.
        Otherwise all arrays live in preallocated buffers written by ufuncs with ``out=`` on NumPy/CuPy;
        one iteration then makes about 36 elementwise passes over image-sized arrays in 2-D
        (:math:`P_\xi` costs 7 and is applied twice).
        """
        self._check(x)
        w = float(tau)
        xp = array_namespace(x)
        D = self.operator
        ws = self._workspace(x, xp)
        into = ws.into
        if ws.kernels is not None:
            x = xp.ascontiguousarray(x, dtype=ws.u.dtype)
        warm = self.warm_start and ws.warm
        k, gap, phi, dtv, converged = 0, math.inf, math.inf, math.nan, False
        if warm:  # the last pair may already solve this problem
            gap, phi, dtv = self._gap(x, w, ws)
            converged = gap <= self.inner_tol * phi
        else:
            ws.p[...] = 0
            ws.u[...] = self._project_primal(x)
        step, dual_step = 1.0, 1.0 / (D.norm() ** 2 * w * w)
        into("multiply", ws.ub, ws.u, dual_step * w)
        next_check = self.check_every
        while not converged and k < self.inner_iters:
            if ws.kernels is not None:  # compiled: all iterations up to the next gap check in one call
                n = min(next_check, self.inner_iters) - k
                step, dual_step = ws.fused_run(x, w, n, step, dual_step)
                k += n
            else:
                # ubar = sigma' w (u' + theta d) with the next step sizes tau' = theta tau, sigma' = sigma / theta
                theta = 1.0 / math.sqrt(1.0 + 2.0 * step)
                c2 = dual_step / theta * w
                ws.iterate(x, w, step, theta * c2, c2, self.constraint, project_simplex)
                k += 1
                step, dual_step = step * theta, dual_step / theta
            if k == next_check or k == self.inner_iters:
                gap, phi, dtv = self._gap(x, w, ws)
                converged = gap <= self.inner_tol * phi
                next_check = k + wait(k, gap, self.inner_tol * phi, self.check_every)
        ws.warm = True
        info = {"iterations": k, "gap": gap, "rel_gap": gap / phi if phi > 0 else 0.0,
                           "converged": bool(converged), "value": dtv}
        return xp.asarray(ws.u, copy=True), info

    def __repr__(self):
        return (f"DirectionalTV(shape={self.shape}, eta={self.operator.eta}, gamma={self.operator.gamma}, "
                f"constraint={self.constraint!r})")
