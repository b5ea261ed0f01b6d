r"""The PALM iteration behind :func:`recon.fuse`.

One proximal-gradient step per block (image, kernel, warp), each with a backtracked step.

:func:`palm` runs it on a :class:`~recon.fusion.model.FusionModel` from a given start and returns a
:class:`FusionResult`; the loop is :meth:`_Palm.run`, on the shared driver
:class:`recon.solvers._loop.Loop` (history, ``tol``, callback, progress bar).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import array_namespace, to_numpy
from ..functionals.dtv import DirectionalTV, project_simplex
from ..operators.base import vdot
from ..operators.warp import Warp, rotation
from ..solvers._loop import Loop
from ..solvers.result import Result

__all__ = ["FusionResult", "palm"]


@dataclass
class FusionResult(Result):
    """:class:`~recon.solvers.Result` plus the estimated ``kernel`` and ``warp``.

    ``kernel`` is k×k and sums to 1; ``warp`` is a :class:`~recon.operators.Warp`.
    """

    kernel: Any = None
    warp: Any = None


def palm(model, data, u0, k0, reg_u, *, weight: float, kernel_weight: float, blind: bool, registration,
         inertial: bool = False, matrix0=None, iters: int = 300, tol: float = 1e-6, progress: bool = False,
         callback=None) -> FusionResult:
    r"""Minimise the fusion objective by PALM.

    .. math::
        \tfrac12\|S C (k * W_w u) - f\|^2 + \lambda_u R(u) + \lambda_k \mathrm{TV}(k) + \iota_\Delta(k)

    The arguments are already checked (by :func:`recon.fuse`); nothing is validated here.

    Parameters
    ----------
    model : FusionModel
        The forward model of the band ``data``.
    data : array (h, w)
        The band :math:`f`.
    u0 : array, ``model.domain_shape``
        Start of the image (on the working domain, margin included).
    k0 : array (K, K)
        Start of the kernel (in the simplex when ``blind``), or the known kernel.
    reg_u : DirectionalTV
        :math:`R`, with the non-negativity constraint; its prox is warm-started across calls.
    weight, kernel_weight : float
        :math:`\lambda_u, \lambda_k \ge 0` (``kernel_weight = 0``: the kernel prox is the simplex projection).
    blind : bool
        Update the kernel.
    registration : {None, "rigid", "affine"}
        Update the warp in this family.
    inertial : bool
        iPALM momentum on the image block, restarted when it does not pay.
    matrix0 : array (2, 3), optional
        The warp's start :math:`[A \mid b]` (identity when None).
    iters, tol, progress, callback
        As in :func:`recon.fuse`.

    Returns
    -------
    FusionResult
        ``extras["u_domain"]`` holds the image on the working domain.
    """
    state = _Palm(model, data, u0, k0, reg_u, weight, kernel_weight, blind, registration, inertial, matrix0)
    return state.run(iters, tol, progress, callback)


class _Palm:
    """State of the PALM iteration: the blocks, their spectra, step constants and the residual."""

    def __init__(self, model, f, u, k, reg_u, lam_u, lam_k, blind, registration, inertial, matrix0=None):
        xp = array_namespace(f)
        self.xp, self.model, self.f = xp, model, f
        self.reg_u, self.lam_u, self.lam_k = reg_u, lam_u, lam_k
        self.blind, self.registration = blind, registration
        self.reg_k = DirectionalTV(xp.zeros(k.shape, dtype=f.dtype, device=f.device), gamma=0.0,
                                   constraint="simplex", inner_tol=1e-3, inner_iters=50) if lam_k > 0 else None
        # warp parameters: (angle, shift) for rigid, [A | b] - [I | 0] otherwise; `matrix0` the start
        self.matrix0 = np.hstack([np.eye(2), np.zeros((2, 1))]) if matrix0 is None else np.asarray(matrix0, float)
        if registration == "rigid":
            self.params = np.array([math.atan2(self.matrix0[1, 0], self.matrix0[0, 0]), *self.matrix0[:, 2]])
        else:
            self.params = (self.matrix0 - np.hstack([np.eye(2), np.zeros((2, 1))])).ravel()
        self.warp = None if matrix0 is None else Warp(model.domain_shape, self.matrix0)
        self.u, self.k = u, k
        self.kh = model.kernel_spectrum(k)
        self._set_warped()
        self.reg_value = reg_u(u)  # dTV(u), kept up to date from the prox's certificate
        # ||S C (k * .)||^2 <= 1 / factor^2 for k in the simplex; the warp adds about 1 / |det A|
        self.L_u, self.L_k, self.L_w = 0.5 / model.factor**2, 1.0, 1.0
        self.eps = 1e-5 if f.dtype == xp.float32 else 1e-12  # rounding slack of the descent tests
        self.inner = 0
        self.prox_retries = 2
        self.inertial, self.u_prev, self.t = inertial, None, 1.0

    # -- helpers ---------------------------------------------------------------------------------
    def _matrix(self, params):
        if self.registration == "rigid":
            return np.hstack([rotation(params[0]), params[1:, None]])
        return np.hstack([np.eye(2), np.zeros((2, 1))]) + params.reshape(2, 3)

    def _set_warped(self):
        self.uw = self.u if self.warp is None else self.warp._forward(self.u)
        self.uh = self.model.rfft(self.uw)
        self.r = self.model.predict(self.kh, self.uh) - self.f
        self.misfit = 0.5 * vdot(self.r, self.r)

    def _residual_grad(self):
        """:math:`\\nabla_{Wu} h = (k*)^* C^* S^* r` on the domain."""
        m = self.model
        return m.correlate(self.kh, m.sample_adjoint_spectrum(self.r))

    def _tv_k(self, k):
        return self.lam_k * self.reg_k(k) if self.reg_k is not None else 0.0

    def objective(self):
        return self.misfit + self.lam_u * self.reg_value + self._tv_k(self.k)

    def _descent(self, h_new, h0, lin, quad):
        return h_new <= h0 + lin + quad + self.eps * abs(h0)

    # -- blocks ----------------------------------------------------------------------------------
    def step_u(self):
        """One image step; with inertia first from the extrapolated point, then (restart) from ``u``."""
        if self.inertial and self.u_prev is not None:
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * self.t * self.t))
            beta = (self.t - 1.0) / t_next
            if beta == 0.0:
                self.t = t_next
            elif self._step_u_from(self.u + beta * (self.u - self.u_prev)):
                self.t = t_next
                return
            else:
                self.t = 1.0  # the momentum did not pay: restart (O'Donoghue & Candes 2015)
        self._step_u_from(None)

    def _step_u_from(self, base):
        """Proximal-gradient step of the image block from ``base`` (``None``: from ``u``); True if accepted."""
        m = self.model
        if base is None:
            base, r0, h0 = self.u, self.r, self.misfit
        else:
            bw = base if self.warp is None else self.warp._forward(base)
            r0 = m.predict(self.kh, m.rfft(bw)) - self.f
            h0 = 0.5 * vdot(r0, r0)
        g = m.correlate(self.kh, m.sample_adjoint_spectrum(r0))
        if self.warp is not None:
            g = self.warp._adjoint(g)
        old = self.misfit + self.lam_u * self.reg_value
        L = self.L_u
        for _ in range(40):
            z = base - g * (1.0 / L)
            # the prox is inexact (warm-started inner iterations); calling it again continues
            # the inner solver, so a step that does not yet decrease the objective is refined first
            for retry in range(self.prox_retries):
                if retry:
                    # a prox certified to inner_tol can still miss a decrease smaller than inner_tol
                    # times its objective: near a stationary point that stalls PALM, so tighten it
                    self.reg_u.inner_tol = max(0.1 * self.reg_u.inner_tol, self.eps)
                un, reg = self._prox_u(z, L)
                uw = un if self.warp is None else self.warp._forward(un)
                uh = m.rfft(uw)
                r = m.predict(self.kh, uh) - self.f
                h = 0.5 * vdot(r, r)
                if h + self.lam_u * reg <= old:
                    break
            d = un - base
            if self._descent(h, h0, vdot(g, d), 0.5 * L * vdot(d, d)):
                break
            L *= 2.0
        self.L_u = L
        if h + self.lam_u * reg > old:
            return False
        self.u_prev = self.u
        self.u, self.uw, self.uh, self.r, self.misfit, self.reg_value = un, uw, uh, r, h, reg
        return True

    def _prox_u(self, z, L):
        r"""The image prox at ``z`` for step ``1 / L``, and :math:`\mathrm{dTV}` of the result.

        The value comes from the inner solver's certificate.
        """
        if self.lam_u == 0:
            un = self.xp.maximum(z, self.xp.zeros_like(z))
            return un, self.reg_u(un)
        un, info = self.reg_u.prox_with_info(z, self.lam_u / L)
        self.inner += info["iterations"]
        return un, info["value"]

    def step_k(self):
        m = self.model
        gk = m.correlate_window(self.uh, m.sample_adjoint_spectrum(self.r))
        old = self.misfit + self._tv_k(self.k)
        # the kernel's constant moves with u: let it shrink as well as grow, but keep the trial step
        # within 10 simplex diameters, beyond which 1/L only loses digits (near a stationary point
        # every L passes the test and halving would drive it to 0)
        L = max(self.L_k * 0.5, math.sqrt(vdot(gk, gk)) / 10.0, 1e-300)
        for _ in range(60):
            z = self.k - gk * (1.0 / L)
            kn = self.reg_k.prox(z, self.lam_k / L) if self.reg_k is not None else project_simplex(z)
            kh = m.kernel_spectrum(kn)
            r = m.predict(kh, self.uh) - self.f
            h = 0.5 * vdot(r, r)
            d = kn - self.k
            if self._descent(h, self.misfit, vdot(gk, d), 0.5 * L * vdot(d, d)):
                break
            L *= 2.0
        self.L_k = L
        if h + self._tv_k(kn) <= old:
            self.k, self.kh, self.r, self.misfit = kn, kh, r, h

    def step_w(self):
        m = self.model
        warp = self.warp if self.warp is not None else Warp(m.domain_shape, self._matrix(self.params))
        G = to_numpy(warp.derivative(self.u).adjoint(self._residual_grad())).astype(np.float64)
        # parameters in pixel units: a change of A moves samples by up to half the domain
        s = 0.5 * max(m.domain_shape)
        if self.registration == "rigid":
            a = self.params[0]
            dA = np.array([[-math.sin(a), -math.cos(a)], [math.cos(a), -math.sin(a)]])
            grad = np.array([np.sum(G[:, :2] * dA), G[0, 2], G[1, 2]])
            metric = np.array([s * s, 1.0, 1.0])
        else:
            grad = G.ravel()
            metric = np.array([s * s, s * s, 1.0, s * s, s * s, 1.0])
        L = max(self.L_w * 0.5, float(np.linalg.norm(grad / metric)) / 10.0, 1e-300)  # trial steps <= 10 px
        for _ in range(60):
            d = -grad / (L * metric)
            trial = Warp(m.domain_shape, self._matrix(self.params + d))
            uw = trial._forward(self.u)
            uh = m.rfft(uw)
            r = m.predict(self.kh, uh) - self.f
            h = 0.5 * vdot(r, r)
            if self._descent(h, self.misfit, float(grad @ d), 0.5 * L * float(d @ (metric * d))):
                break
            L *= 2.0
        self.L_w = L
        if h <= self.misfit:
            self.params, self.warp = self.params + d, trial
            self.uw, self.uh, self.r, self.misfit = uw, uh, r, h

    # -- the loop --------------------------------------------------------------------------------
    def run(self, iters, tol, progress, callback):
        loop = Loop("fuse", iters, callback=callback, progress=progress,
                    message="maximum number of iterations reached")
        phi = self.objective()
        loop.record(iteration=0, objective=phi, misfit=self.misfit, L_u=self.L_u, L_k=self.L_k, inner=0)
        for _ in loop:
            self.inner = 0
            # kernel and warp first: they then start from u_0, aligned with the side information
            if self.blind:
                self.step_k()
            if self.registration is not None:
                self.step_w()
            self.step_u()
            new = self.objective()
            loop.record(objective=new, misfit=self.misfit, L_u=self.L_u, L_k=self.L_k, inner=self.inner)
            # tested on the decrease, not |decrease|: a step that does not decrease also ends the run
            done = phi - new <= tol * abs(new)
            phi = new
            if loop.callback_stops(self._image()):
                break
            if done and loop.stop(f"relative objective decrease below tol={tol}"):
                break
        warp = Warp(self.model.image_shape, self._matrix(self.params) if self.registration else self.matrix0)
        return loop.result(self._image(), extras={"u_domain": self.u}, cls=FusionResult, kernel=self.k, warp=warp)

    def _image(self):
        m = self.model.margin
        return self.u[m:-m or None, m:-m or None]
