r"""Blind image fusion with directional TV: sharpen a low-resolution band with a high-resolution photograph.

.. math::
    \min_{u, k, w}\ \tfrac12\|S\,C\,(k * W_w u) - f\|^2 + \lambda_u\,\mathrm{dTV}_v(u) + \lambda_k\,\mathrm{TV}(k)
    + \iota_{u \ge 0}(u) + \iota_\Delta(k)

(:mod:`recon.apps.fusion_model` for the forward model), solved by PALM: one proximal-gradient step
per block (image, kernel, warp) with a backtracked step, in turn.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import array_namespace, asarray, check_finite, pad_edge, to_numpy
from ..functionals.dtv import DirectionalTV, luminance, project_simplex
from ..operators.base import vdot
from ..operators.warp import Warp, rotation
from ..solvers.result import History, Result, check_positive_int, check_tol, progress_bar
from .fusion_model import FusionModel

__all__ = ["fuse", "FusionResult", "REGS", "REGISTRATIONS"]

REGS = ("dtv", "tv")
REGISTRATIONS = (None, "rigid", "affine")
DEFAULT_WEIGHT = {"dtv": 0.1, "tv": 1e-3}


@dataclass
class FusionResult(Result):
    """:class:`~recon.solvers.Result` plus the estimated ``kernel`` (k×k, sums to 1) and ``warp`` (a :class:`~recon.operators.Warp`)."""

    kernel: Any = None
    warp: Any = None


def fuse(data, side_info, factor: int = 4, *, kernel=None, kernel_size: int = 41, blind: bool = True,
         registration=None, reg: str = "dtv", weight: float | None = None, kernel_weight: float = 1e-2,
         eta: float = 0.003, gamma: float = 0.9995, iters: int = 300, tol: float = 1e-6,
         progress: bool = False, callback=None) -> FusionResult:
    r"""Fuse a low-resolution band with high-resolution side information (blind dTV fusion).

    Solves, for the image :math:`u` on the side information's grid extended by a margin
    :math:`m` = ``kernel_size // 2``, the kernel :math:`k` and (optionally) an affine warp :math:`W_w`,

    .. math::
        \min_{u, k, w}\ \tfrac12\|S\,C\,(k * W_w u) - f\|^2 + \lambda_u\,\mathrm{dTV}_v(u) + \lambda_k\,\mathrm{TV}(k)
        + \iota_{u \ge 0}(u) + \iota_\Delta(k),

    :math:`S` the mean over ``factor``×``factor`` blocks, :math:`C` the crop of the margin, :math:`*`
    convolution as ``scipy.signal.convolve(u, k, mode="same")`` (centre at ``kernel_size // 2``),
    :math:`\Delta` the unit simplex on the kernel support, dTV (:class:`~recon.functionals.DirectionalTV`)
    guided by the side information (luminance, scaled to :math:`[0, 1]`, symmetrically padded).

    Algorithm: PALM (Bolte, Sabach & Teboulle 2014), blocks in the order image, kernel, warp.  Each is a
    proximal-gradient step :math:`x^+ = \operatorname{prox}_{\lambda g/L}(x - \nabla_x h/L)` whose
    :math:`L` is found by backtracking (doubling until
    :math:`h(x^+) \le h(x) + \langle\nabla h, x^+ - x\rangle + \tfrac L2\|x^+ - x\|^2`, the condition
    under which PALM decreases the objective); the image prox is dTV + non-negativity by the
    certified inner solver, the kernel prox TV + simplex by the same solver (exact sort-based simplex
    projection when ``kernel_weight = 0``).  A block step whose objective would rise (possible only
    through the inner solvers' tolerance) is rejected, so ``history["objective"]`` never increases.

    Parameters
    ----------
    data : array (h, w)
        The low-resolution band, real, finite.  float32 input is computed in float32.
    side_info : array (factor h, factor w) or (factor h, factor w, 3)
        The sharp image (colour is converted to luminance).
    factor : int, default 4
    kernel : array (K, K), optional
        The blur kernel (odd K; it sets ``kernel_size``).  Required when ``blind=False``; with
        ``blind=True`` the start of the kernel estimate (projected onto the simplex).  Default start:
        the centred delta.
    kernel_size : int, default 41
        Odd side of the kernel support, at most the side information's smaller side.
    blind : bool, default True
        Estimate the kernel.
    registration : {None, "rigid", "affine"}
        Estimate a warp :math:`W_w` (:class:`~recon.operators.Warp` convention: :math:`(W u)(p) = u(Ap + b)`,
        :math:`p` from the image centre, in high-resolution pixels).
    reg : {"dtv", "tv"}
    weight : float, optional
        :math:`\lambda_u \ge 0`; default 0.1 for dTV (Bungert et al.) and 1e-3 for TV.
    kernel_weight : float, default 1e-2
        :math:`\lambda_k \ge 0`.
    eta, gamma : float
        dTV parameters (:class:`~recon.functionals.DirectionalGradient`; ``eta`` in units of the
        side information scaled to [0, 1] per pixel).
    iters : int, default 300
        Maximum PALM iterations.
    tol : float, default 1e-6
        Stop when the objective decreases by less than ``tol`` times its value in one iteration.
    progress : bool
        tqdm progress bar.
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k`` with the current image; returning True stops.

    Returns
    -------
    FusionResult
        ``x`` (the fused image, shape of the side information, dtype of ``data``), ``kernel``, ``warp``,
        ``history`` (``objective``, ``misfit``, step constants ``L_u``, ``L_k``, inner iterations),
        ``iterations``, ``converged``.

    Raises
    ------
    ValueError
        Side information of the wrong shape for ``factor``, NaN or infinity, negative weights,
        ``kernel_size`` even or larger than the image, unknown ``reg`` or ``registration``.

    References
    ----------
    Bungert, L., Coomes, D. A., Ehrhardt, M. J., Rasch, J., Reisenhofer, R., Schönlieb, C.-B. (2018).
    Blind image fusion for hyperspectral imaging with the directional total variation. Inverse
    Problems 34(4), 044003.
    Ehrhardt, M. J., Betcke, M. M. (2016). Multicontrast MRI reconstruction with structure-guided
    total variation. SIAM J. Imaging Sci. 9(3).
    Bolte, J., Sabach, S., Teboulle, M. (2014). Proximal alternating linearized minimization for
    nonconvex and nonsmooth problems. Math. Program. 146, 459-494.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> photo = rng.random((32, 32))
    >>> band = photo.reshape(8, 4, 8, 4).mean(axis=(1, 3))
    >>> out = fuse(band, photo, 4, kernel_size=5, iters=5)
    >>> out.x.shape, round(float(out.kernel.sum()), 6)
    ((32, 32), 1.0)
    """
    xp = _check_array(data, "data")
    if data.ndim != 2:
        raise ValueError(f"data must be a 2-D band (h, w), got shape {tuple(data.shape)}")
    factor = check_positive_int(factor, "factor")
    if reg not in REGS:
        raise ValueError(f"reg must be one of {REGS}, got {reg!r}")
    if registration not in REGISTRATIONS:
        raise ValueError(f"registration must be one of {REGISTRATIONS}, got {registration!r}")
    weight = DEFAULT_WEIGHT[reg] if weight is None else weight
    weight, kernel_weight = _check_weight(weight, "weight"), _check_weight(kernel_weight, "kernel_weight")
    iters, tol = check_positive_int(iters, "iters"), check_tol(tol)
    if type(side_info).__module__.split(".")[0] != type(data).__module__.split(".")[0]:
        side_info = asarray(side_info, xp=xp)  # the photo usually comes from an image reader
    _check_array(side_info, "side_info")
    v = xp.astype(luminance(side_info), data.dtype)
    image_shape = tuple(factor * n for n in data.shape)
    if tuple(v.shape) != image_shape:
        raise ValueError(f"side_info has shape {tuple(side_info.shape)}, expected {image_shape} "
                         f"(factor {factor} times the data's {tuple(data.shape)})")
    if kernel is not None:
        if type(kernel).__module__.split(".")[0] != type(data).__module__.split(".")[0]:
            kernel = asarray(kernel, xp=xp)
        _check_array(kernel, "kernel")
        if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
            raise ValueError(f"kernel must be square, got shape {tuple(kernel.shape)}")
        kernel_size = int(kernel.shape[0])
    elif not blind:
        raise ValueError("blind=False needs a kernel, got kernel=None")
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
    if kernel_size > min(image_shape):
        raise ValueError(f"kernel_size {kernel_size} is larger than the image {image_shape}")

    model = FusionModel(tuple(data.shape), factor, kernel_size)
    m = model.margin
    lo, hi = float(xp.min(v)), float(xp.max(v))
    v = (v - lo) * (1.0 / (hi - lo)) if hi > lo else v * 0.0
    v = pad_edge(v, ((m, m), (m, m)), mode="symmetric")
    # 60 warm-started inner iterations per prox: on trees1_shift_5px_disk the objective reached per inner
    # iteration (the cost that dominates) was best at 40-100; 10 per call needed two or three calls
    # per step and stalled 50% higher (each call restarts the accelerated schedule)
    reg_u = DirectionalTV(v, eta=eta, gamma=gamma if reg == "dtv" else 0.0, constraint="nonnegative",
                          inner_tol=1e-3, inner_iters=60, check_every=5)
    if kernel is None:
        k0 = xp.zeros((kernel_size, kernel_size), dtype=data.dtype, device=data.device)
        k0[m, m] = 1.0
    else:
        k0 = xp.astype(kernel, data.dtype)
        k0 = project_simplex(k0) if blind else k0
    u0 = _initial_image(model, data, v)
    state = _Palm(model, data, u0, k0, reg_u, weight, kernel_weight, blind, registration)
    return state.run(iters, tol, progress, callback)


def _initial_image(model, f, v):
    r"""Start :math:`u_0 = \max(a v + b, 0)`, with :math:`a, b` fitting :math:`a\,S C v + b \approx f` by least squares.

    The start must be aligned with the side information, not with the data: an upsampled copy of
    misaligned data already explains the shift, and the kernel step at a centred delta kernel then
    has no reason to move (the delta is a stationary point of the kernel block).
    """
    xp = array_namespace(f)
    p = model.sample(v)
    pc, fc = p - xp.mean(p), f - xp.mean(f)
    var = float(xp.sum(pc * pc))
    a = float(xp.sum(pc * fc)) / var if var > 0 else 0.0
    b = float(xp.mean(f)) - a * float(xp.mean(p))
    u = a * v + b
    return xp.maximum(u, xp.zeros_like(u))


def _check_array(x, name):
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    xp = array_namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must be real float32/float64, got dtype {x.dtype}")
    check_finite(x, name)
    return xp


def _check_weight(value, name):
    value = float(value)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


class _Palm:
    """State of the PALM iteration: the blocks, their spectra, step constants and the residual."""

    def __init__(self, model, f, u, k, reg_u, lam_u, lam_k, blind, registration):
        xp = array_namespace(f)
        self.xp, self.model, self.f = xp, model, f
        self.reg_u, self.lam_u, self.lam_k = reg_u, lam_u, lam_k
        self.blind, self.registration = blind, registration
        self.reg_k = DirectionalTV(xp.zeros(k.shape, dtype=f.dtype, device=f.device), gamma=0.0,
                                   constraint="simplex", inner_tol=1e-3, inner_iters=50) if lam_k > 0 else None
        self.params = np.zeros(3 if registration == "rigid" else 6)  # offset from the identity warp
        self.warp = None
        self.u, self.k = u, k
        self.kh = model.kernel_spectrum(k)
        self._set_warped()
        self.reg_value = reg_u(u)  # dTV(u), kept up to date from the prox's certificate
        # ||S C (k * .)||^2 <= 1 / factor^2 for k in the simplex; the warp adds about 1 / |det A|
        self.L_u, self.L_k, self.L_w = 0.5 / model.factor**2, 1.0, 1.0
        self.eps = 1e-5 if f.dtype == xp.float32 else 1e-12  # rounding slack of the descent tests
        self.inner = 0
        self.prox_retries = 2

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
        return m.correlate(self.kh, m.rfft(m.sample_adjoint(self.r)))

    def _tv_k(self, k):
        return self.lam_k * self.reg_k(k) if self.reg_k is not None else 0.0

    def objective(self):
        return self.misfit + self.lam_u * self.reg_value + self._tv_k(self.k)

    def _descent(self, h_new, h0, lin, quad):
        return h_new <= h0 + lin + quad + self.eps * abs(h0)

    # -- blocks ----------------------------------------------------------------------------------
    def step_u(self):
        m = self.model
        g = self._residual_grad()
        if self.warp is not None:
            g = self.warp._adjoint(g)
        old = self.misfit + self.lam_u * self.reg_value
        L = self.L_u
        for _ in range(40):
            z = self.u - g * (1.0 / L)
            # the prox is inexact (a few warm-started inner iterations); calling it again continues
            # the inner solver, so a step that does not yet decrease the objective is refined first
            for _ in range(self.prox_retries):
                un, reg = self._prox_u(z, L)
                uw = un if self.warp is None else self.warp._forward(un)
                uh = m.rfft(uw)
                r = m.predict(self.kh, uh) - self.f
                h = 0.5 * vdot(r, r)
                if h + self.lam_u * reg <= old:
                    break
            d = un - self.u
            if self._descent(h, self.misfit, vdot(g, d), 0.5 * L * vdot(d, d)):
                break
            L *= 2.0
        self.L_u = L
        if h + self.lam_u * reg <= old:
            self.u, self.uw, self.uh, self.r, self.misfit, self.reg_value = un, uw, uh, r, h, reg

    def _prox_u(self, z, L):
        """The image prox at ``z`` for step ``1 / L`` and :math:`\mathrm{dTV}` of the result (from the inner certificate)."""
        if self.lam_u == 0:
            un = self.xp.maximum(z, self.xp.zeros_like(z))
            return un, self.reg_u(un)
        un = self.reg_u.prox(z, self.lam_u / L)
        self.inner += self.reg_u.last_inner["iterations"]
        return un, self.reg_u.last_inner["value"]

    def step_k(self):
        m = self.model
        gk = m.kernel_window(m.correlate(self.uh, m.rfft(m.sample_adjoint(self.r))))
        old = self.misfit + self._tv_k(self.k)
        L = self.L_k * 0.5  # the kernel's constant moves with u: let it shrink as well as grow
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
        L = self.L_w * 0.5
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
        history = History()
        phi = self.objective()
        history.record(0, objective=phi, misfit=self.misfit, L_u=self.L_u, L_k=self.L_k, inner=0)
        bar = progress_bar(iters, progress, "fuse")
        converged, message, it = False, "maximum number of iterations reached", 0
        for it in range(1, iters + 1):
            self.inner = 0
            # kernel and warp first: they then start from u_0, aligned with the side information
            if self.blind:
                self.step_k()
            if self.registration is not None:
                self.step_w()
            self.step_u()
            new = self.objective()
            history.record(it, objective=new, misfit=self.misfit, L_u=self.L_u, L_k=self.L_k, inner=self.inner)
            bar.update()
            done = phi - new <= tol * abs(new)
            phi = new
            if callback is not None and callback(it, self._image()):
                converged, message = True, "stopped by callback"
                break
            if done:
                converged, message = True, f"relative objective decrease below tol={tol}"
                break
        bar.close()
        warp = Warp(self.model.image_shape, self._matrix(self.params) if self.registration else None)
        return FusionResult(x=self._image(), iterations=it, converged=converged, history=dict(history),
                            message=message, extras={"u_domain": self.u}, kernel=self.k, warp=warp)

    def _image(self):
        m = self.model.margin
        return self.u[m:-m or None, m:-m or None]
