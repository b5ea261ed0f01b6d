r"""Variational and iterative CT reconstruction: :func:`reconstruct` and the models behind its methods.

The data term is the (weighted) least-squares misfit to the sinogram through
:class:`~recon.operators.tomography.Radon`; ``method`` picks the regularisation and the solver:
Landweber and CGLS stopped early (:func:`recon.solvers.landweber`, :func:`recon.solvers.cgls`),
Tikhonov (damped CGLS or FISTA), TV
(PDHG) and the learned ridge regularizers (:mod:`recon.ct.learned`).  ``"fbp"`` is passed on to
:func:`recon.ct.fbp`.  Public as :func:`recon.ct.reconstruct`.
"""
from __future__ import annotations

import math

from .._checks import callable_or_none, finite, one_of, positive_int, tolerance
from ..backend import array_namespace
from ..functionals import L21, L2DataFidelity, NonNegativity, SeparableSum, Tikhonov
from ..operators.base import LinearOperator, stack
from ..operators.gradient import Gradient
from ..operators.tomography import Radon
from ..solvers import cgls, fista, landweber, pdhg
from ..solvers.result import Result
from .backprojection import fbp
from .geometry import check_real_array, check_sinogram, image_shape
from .learned import LEARNED, ridge_reconstruct

__all__ = ["reconstruct", "METHODS", "NOISE_MODELS"]

METHODS = ("fbp", "landweber", "cgls", "tikhonov", "tv", *LEARNED)
NOISE_MODELS = ("gaussian", "poisson")
_DISCREPANCY = 1.05  # Morozov's tau > 1: stop once ||Ax - p|| <= tau * delta


class _Weighted(LinearOperator):
    r""":math:`B = \operatorname{diag}(r) A` with :math:`\|B\| \le \max r\,\|A\|` (returned by :meth:`norm`)."""

    def __init__(self, A, r, bound):
        super().__init__(A.shape_in, A.shape_out, xp=A.xp)
        self.A, self.r, self._bound = A, r, float(bound)

    def _forward(self, x):
        y = self.A._forward(x)
        return y if self.r is None else self.r * y

    def _adjoint(self, y):
        return self.A._adjoint(y if self.r is None else self.r * y)

    def norm(self, **kwargs):
        return self._bound


def _model(sino, xp, theta, shape, noise_model, flat, geometry):
    """Whitened operator B and data b with data term ½||Bx - b||², and the noise std of b (None: unknown)."""
    A = Radon(shape, theta, n_detectors=sino.shape[1], **geometry)
    if noise_model == "gaussian":
        return _Weighted(A, None, A.norm()), sino, None
    if flat is None:
        raise ValueError("noise_model='poisson' needs flat, the incident photon count per ray (I0)")
    flat = finite(flat, "flat", gt=0)
    # Var(-log(c / I0)) ~ 1 / E[c] with E[c] ~ I0 exp(-p): weights are the counts, and the whitened
    # residual has unit variance per ray (Sauer & Bouman 1993)
    r = xp.sqrt(flat * xp.exp(-sino))
    return _Weighted(A, r, float(xp.max(r)) * A.norm()), r * sino, 1.0


def _check_weight(weight, method):
    if weight is None:
        raise ValueError(f"method {method!r} needs weight, the regularisation parameter (a float > 0)")
    return finite(weight, "weight", ge=0)


_DEFAULT_ITERS = {"landweber": 200, "cgls": 50, "tikhonov": 200, "tv": 500, **dict.fromkeys(LEARNED, 3000)}


def reconstruct(sinogram, angles, method: str = "fbp", *, weight=None, iters=None, tol=None, noise_level=None,
                noise_model: str = "gaussian", flat=None, nonneg: bool = True, filter: str = "ram-lak", shape=None,
                detector_spacing=1.0, center=None, degrees: bool = False, progress: bool = False, callback=None,
                return_result: bool = False, sigma=None, x0=None):
    r"""Reconstruct an image from a parallel-beam sinogram.

    The data term is :math:`D(x) = \tfrac12\|W^{1/2}(Ax - p)\|^2` with :math:`A` the
    :class:`~recon.operators.tomography.Radon` transform and

    * ``noise_model="gaussian"``: :math:`W = I` (white Gaussian noise on the line integrals);
    * ``noise_model="poisson"``: ``sinogram`` holds log data :math:`p = -\log(c/I_0)` of photon counts
      :math:`c` with ``flat`` :math:`= I_0`; :math:`W = \operatorname{diag}(I_0 e^{-p})`, the inverse
      variances of the log data (weighted least squares, the quadratic approximation of the Poisson
      log-likelihood; Sauer & Bouman 1993).  The whitened residual then has unit variance per ray.

    ``method``:

    * ``"fbp"``: :func:`fbp` (``filter``, ``shape``; the iterative options are unused).
    * ``"landweber"``: :math:`x_{k+1} = P(x_k + \omega A^*W(p - Ax_k))`, :math:`\omega = 1/\|W^{1/2}A\|^2`
      (convergence needs :math:`0 < \omega < 2/\|W^{1/2}A\|^2`), :math:`P` the projection on
      :math:`x \ge 0` when ``nonneg``.
    * ``"cgls"``: conjugate gradients on the normal equations (Björck 1996); unconstrained, so
      ``nonneg`` clips the final iterate.
    * ``"tikhonov"``: :math:`\min_x D(x) + \tfrac{w}{2}\|x\|^2` (``weight`` :math:`w`): damped CGLS, or
      FISTA with the projection on :math:`x \ge 0` when ``nonneg``.
    * ``"tv"``: :math:`\min_{x (\ge 0)} D(x) + w\,\|\nabla x\|_{2,1}` (isotropic TV) by PDHG
      (Chambolle & Pock 2011) with :math:`K = [W^{1/2}A/a;\ \nabla/\sqrt8]`,
      :math:`a \ge \|W^{1/2}A\|` (:meth:`Radon.norm` is an upper bound), so :math:`\|K\| \le \sqrt2`
      and :math:`\tau = 0.099/\sqrt2`, :math:`\sigma = 100\tau` (:math:`\tau\sigma\|K\|^2 < 1`).
    * ``"crr"``: :math:`\min_{x (\ge 0)} D(x) + w\,R(x)` with :math:`R` the learned convex ridge
      regularizer recon ships (CRR-NN, at noise level ``sigma``) by FISTA with adaptive restart
      (:mod:`recon.ct.learned`).
    * ``"wcrr"``: the same with the weakly convex WCRR-NN recon ships; the problem is then
      non-convex and the solver is the monotone accelerated proximal gradient
      (:func:`recon.solvers.monotone_apg`, Li & Lin 2015), whose objective never increases and
      whose limit points are critical points.
    * ``"crr-published"``, ``"wcrr-published"``: the same with the authors' published checkpoints
      (torch and the folder under ``$RECON_SHARED_DATA``; :mod:`recon.learned.weights`).

    Landweber and CGLS are regularised by stopping early: with ``noise_level`` :math:`\sigma`
    (standard deviation of the noise per ray; for ``"poisson"`` it is 1 in whitened units and need
    not be given) they stop by the discrepancy principle once
    :math:`\|W^{1/2}(Ax - p)\| \le 1.05\,\sigma\sqrt{M}` (Morozov; :math:`M` rays).

    Parameters
    ----------
    sinogram : array, shape (n_angles, n_detectors)
        Real floating, finite; NumPy, CuPy or any array-API array (the result lives there too).
    angles : 1-D array_like
        Radians (degrees with ``degrees=True``).
    method : {"fbp", "landweber", "cgls", "tikhonov", "tv", "crr", "wcrr", "crr-published", "wcrr-published"}
    weight : float
        Regularisation parameter :math:`w` for ``"tikhonov"``, ``"tv"`` and the learned methods
        (required there).  It
        multiplies a regulariser in image units against a data term that grows with the number of
        angles: for Gaussian data :math:`w` of order :math:`\sigma\sqrt{N_\text{angles}}` is a start.
    iters : int, optional
        Maximum iterations (defaults: landweber 200, cgls 50, tikhonov 200, tv 500, the learned ones 3000).
    tol : float, optional
        Relative-change tolerance of the iteration, :math:`\|x_{k+1} - x_k\| \le \mathrm{tol}\,
        \|x_{k+1}\|` (default 1e-6; a weakly convex model such as ``"wcrr"`` also stops once the
        stationarity residual of its last step is below ``tol`` relative; CGLS: relative
        normal-equation residual).
    noise_level : float, optional
        Noise standard deviation per ray (Gaussian model), for the discrepancy principle.
    noise_model : {"gaussian", "poisson"}
    flat : float, optional
        Incident photon count :math:`I_0`, required for ``"poisson"``.
    nonneg : bool, default True
        Constrain the image to :math:`x \ge 0`.
    filter : str
        FBP filter (``"fbp"`` only).
    shape : (int, int), optional
        Image shape; default as in :func:`fbp`.
    detector_spacing, center, degrees
        Geometry, as in :class:`~recon.operators.tomography.Radon`.
    progress : bool
        Show a progress bar (iterative methods).
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k``; returning ``True`` stops.
    return_result : bool, default False
        Return a :class:`~recon.solvers.Result` (iterations, history, message) instead of the image.
        Landweber and CGLS return what :func:`recon.solvers.landweber` and :func:`recon.solvers.cgls`
        do (``history["residual"]`` row :math:`k` the whitened residual of :math:`x_k`).
    sigma : float, optional
        Learned methods only: the noise level (image units) setting the learned regularizer's
        per-channel scales :math:`s_c(\sigma)`; a tuning
        parameter like ``weight`` (default 25/255).  It is *not* the noise of the sinogram: tune it
        with ``weight`` on a held-out image (see Notes).
    x0 : array, "fbp", "zeros" or None
        Start of the iterative methods, an array of the image ``shape`` in the sinogram's library.
        Default: the FBP (``"fbp"``, ram-lak) for the learned methods, zeros for the others
        (Landweber and CGLS are regularised by stopping early from zero).  With ``nonneg`` the start
        is projected on :math:`x \ge 0` (except for CGLS, which is unconstrained).

    Notes
    -----
    The learned regularizers converge slowly in sparse-view CT: the data term's curvature
    (:math:`\|A\|^2 \approx 3.7\cdot10^3` for 30 angles on 128×128) sets the step, while the
    modes :math:`A` does not see are driven only by :math:`w\nabla R`.  The PSNR typically peaks
    after 200-400 iterations and then falls to that of the minimiser (critical point), by up to
    0.5-0.8 dB, so a weight (and ``sigma``) tuned on a few hundred iterations is tuned for an
    early-stopped iteration, not for the variational model.  Measured on a 128×128 Set12 crop, 30
    angles, 1 % noise, from the FBP: WCRR (sigma 15/255, weight 20) meets ``tol = 1e-6`` after
    about 1100 iterations at 0.005 dB from its PSNR after 4000; CRR (sigma 15/255, weight 10) after
    about 1300 iterations, at the PSNR of 3000 (``examples/eval_ridge_set12.py --versus-tv ct``).
    Relative stationarity 1e-5 is reached after about 500 WCRR iterations, still 0.2 dB away.

    References
    ----------
    Björck, Å. (1996). *Numerical Methods for Least Squares Problems*. SIAM (CGLS).
    Engl, H. W., Hanke, M., Neubauer, A. (1996). *Regularization of Inverse Problems*. Kluwer (Landweber,
    discrepancy principle).
    Sauer, K., Bouman, C. (1993). A local update strategy for iterative reconstruction from projections.
    IEEE Trans. Signal Process. 41(2) (weighted least squares for transmission data).
    Chambolle, A., Pock, T. (2011). A first-order primal-dual algorithm for convex problems with
    applications to imaging. JMIV 40(1).
    """
    one_of(method, "method", METHODS)
    ridge_sigma = sigma  # the keyword; the name sigma is reused below for the noise of the data
    one_of(noise_model, "noise_model", NOISE_MODELS)
    xp, theta = check_sinogram(sinogram, angles, degrees)
    geometry = dict(detector_spacing=detector_spacing, center=center)
    if method == "fbp":
        x = fbp(sinogram, theta, filter=filter, shape=shape, **geometry)
        return Result(x, 0, True, {}, "filtered backprojection") if return_result else x
    shape = image_shape(shape, sinogram.shape[1], float(detector_spacing))
    iters = positive_int(_DEFAULT_ITERS[method] if iters is None else iters, "iters")
    tol = tolerance(1e-6 if tol is None else tol)
    callable_or_none(callback, "callback")
    B, b, sigma = _model(sinogram, xp, theta, shape, noise_model, flat, geometry)
    if noise_level is not None:
        sigma = finite(noise_level, "noise_level", ge=0)
    x0 = _start(x0, method, sinogram, theta, shape, xp, nonneg, geometry)

    if method in LEARNED:
        return ridge_reconstruct(B, b, x0, _check_weight(weight, method), ridge_sigma, nonneg, iters, tol, progress,
                                 callback, return_result, reg=method)
    if method == "tv" or (method == "tikhonov" and nonneg):
        weight = _check_weight(weight, method)
        return _variational(method, B, b, x0, weight, nonneg, iters, tol, progress, callback, return_result)
    # Landweber's step 1/||B||^2 is recon.solvers.landweber's default; CGLS's delta is not used with damping
    noise = None if sigma is None else sigma * math.sqrt(sinogram.shape[0] * sinogram.shape[1])
    common = dict(iters=iters, tol=tol, eta=_DISCREPANCY, callback=callback, progress=progress)
    if method == "landweber":
        result = landweber(B, b, x0, nonneg=nonneg, noise_level=noise, **common)
    else:
        damp = _check_weight(weight, method) if method == "tikhonov" else 0.0
        result = cgls(B, b, x0, damp=damp, nonneg=nonneg, noise_level=None if damp else noise, **common)
    return result if return_result else result.x


def _start(x0, method, sinogram, theta, shape, xp, nonneg, geometry):
    """The checked start of an iterative method (``reconstruct``'s ``x0``)."""
    if x0 is None:
        x0 = "fbp" if method in LEARNED else "zeros"
    if isinstance(x0, str):
        if x0 == "zeros":
            return xp.zeros(shape, dtype=sinogram.dtype, device=sinogram.device)
        if x0 != "fbp":
            raise ValueError(f"x0 must be an array, 'fbp', 'zeros' or None, got {x0!r}")
        x0 = fbp(sinogram, theta, shape=shape, **geometry)
    else:
        if not hasattr(x0, "shape"):
            raise TypeError(f"x0 must be an array, 'fbp', 'zeros' or None, got {type(x0).__name__}")
        try:
            array_namespace(sinogram, x0)
        except TypeError:
            raise TypeError(f"x0 must live in the sinogram's array library, got {type(x0).__name__}") from None
        check_real_array(x0, "x0", 2)
        if tuple(x0.shape) != tuple(shape):
            raise ValueError(f"x0 must have the image shape {tuple(shape)}, got {tuple(x0.shape)}")
        x0 = xp.astype(x0, sinogram.dtype)
    return xp.maximum(x0, 0.0) if nonneg and method != "cgls" else x0


def _variational(method, B, b, x0, weight, nonneg, iters, tol, progress, callback, return_result):
    """Tikhonov with x >= 0 by FISTA; TV by PDHG on the stacked operator [B / a; ∇]."""
    g = NonNegativity() if nonneg else None
    if method == "tikhonov":
        f = L2DataFidelity(b, B) + (0.5 * weight) * Tikhonov()
        result = fista(f, g, x0, iters=iters, tol=tol, callback=callback, progress=progress)
    else:
        # both blocks scaled to norm <= 1 (a diagonal preconditioning): 200 iterations then reach what
        # 1000 did with the raw gradient (measured on 128x128 Shepp-Logan, 60 angles)
        a, G = B.norm(), Gradient(tuple(x0.shape))
        g_norm = G.norm()
        K = _Weighted(stack([(1.0 / a) * B, (1.0 / g_norm) * G]), None, math.sqrt(2.0))
        f = SeparableSum((a * a) * L2DataFidelity(b * (1.0 / a)), (weight * g_norm) * L21())
        # sigma / tau = 100 (tau sigma ||K||^2 = 0.98): the dual steps of a well-scaled K may be long;
        # measured 3-10x fewer iterations to a given distance from FISTA's minimiser than tau = sigma
        tau = 0.99 / (math.sqrt(2.0) * 10.0)
        result = pdhg(f, g, K, x0, tau=tau, sigma=100.0 * tau, iters=iters, tol=tol, callback=callback,
                      progress=progress)
    return result if return_result else result.x
