r"""Denoising: :math:`\min_x \tfrac12\|x - y\|_2^2 + \lambda R(x)`, i.e. the proximal map of :math:`\lambda R`.

Because the data term is the identity, the minimiser *is* :math:`\operatorname{prox}_{\lambda R}(y)`,
and for each built-in prior recon computes that prox directly instead of running an outer solver:
TV by its accelerated primal-dual inner solver with a duality-gap certificate, Tikhonov by conjugate gradients,
wavelet sparsity by soft thresholding in an orthogonal basis (exact).
"""
from __future__ import annotations

import math

from .._checks import finite
from ..backend import array_namespace, check_finite, is_numpy
from ..functionals.base import Functional, Zero
from ..functionals.fidelity import L2DataFidelity
from ..functionals.ridge import RidgeRegularizer
from ..functionals.tikhonov import Tikhonov
from ..functionals.tv import TV
from ..functionals.wavelet import WaveletL1
from ..operators.gradient import Gradient
from ..solvers.proximal_gradient import fista
from ..solvers.result import Result

__all__ = ["denoise", "WaveletL1", "REGULARIZERS"]

RIDGE = ("crr", "wcrr", "crr-published", "wcrr-published")  # recon.learned.NAMES
REGULARIZERS = ("tv", "tikhonov", "wavelet", *RIDGE)


def check_image(y, name: str = "y"):
    """The namespace of ``y`` after checking it is a finite floating-point array."""
    if not hasattr(y, "shape") or not hasattr(y, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(y).__name__}")
    xp = array_namespace(y)
    if not xp.isdtype(y.dtype, "real floating"):
        raise TypeError(f"{name} must be a real floating-point array (float32 or float64), got dtype {y.dtype}")
    if y.ndim < 1 or math.prod(y.shape) == 0:
        raise ValueError(f"{name} must be a non-empty array, got shape {tuple(y.shape)}")
    check_finite(y, name)
    return xp


def check_weight(weight) -> float:
    try:
        float(weight)
    except (TypeError, ValueError):
        raise TypeError(f"weight must be a number, got {weight!r}") from None
    return finite(weight, "weight", ge=0)


def check_reg(reg):
    if isinstance(reg, Functional):
        return reg
    if isinstance(reg, str) and reg.lower() in REGULARIZERS:
        return reg.lower()
    choices = ", ".join(repr(r) for r in REGULARIZERS if r not in RIDGE)
    learned = ", ".join(repr(r) for r in RIDGE)
    raise ValueError(f"reg must be one of {choices} (learned: {learned}) or a Functional instance, got {reg!r}")


def denoise(y, reg="tv", *, weight: float | None = None, sigma: float | None = None, iters: int | None = None,
            tol: float | None = None, progress: bool = False, callback=None, return_result: bool = False):
    r"""Remove Gaussian noise from an image by variational regularization.

    .. math::
        \hat x = \operatorname*{argmin}_x \tfrac12\|x - y\|_2^2 + \lambda R(x)
               = \operatorname{prox}_{\lambda R}(y)

    =================  ==========================================  ==========================================
    ``reg``            :math:`R(x)`                                how :math:`\hat x` is computed
    =================  ==========================================  ==========================================
    ``"tv"``           isotropic total variation                   :meth:`TV.prox <recon.functionals.tv.TV.prox>`
                       :math:`\sum_i \|(\nabla x)_i\|_2`           (primal-dual, stops on relative duality gap)
    ``"tikhonov"``     :math:`\|\nabla x\|_2^2` (Neumann)          CG on :math:`(I + 2\lambda\nabla^*\nabla)x = y`
    ``"wavelet"``      :math:`\ell^1` of db4 detail coefficients   soft thresholding (:class:`WaveletL1`), exact
    ``"crr"``,         learned ridge regularizer                   accelerated gradient with adaptive restart,
    ``"wcrr"``         :math:`\sum_c\sum_p\psi_c((Wx)_{c,p})`       :meth:`RidgeRegularizer.prox
                       (convex CRR-NN / weakly convex WCRR that    <recon.functionals.RidgeRegularizer.prox>`
                       recon ships, noise level ``sigma``)         (stops on relative change ``tol``)
    a Functional       ``reg`` itself                              ``reg.prox(y, weight)``; if ``reg`` has only
                                                                   a gradient, :func:`~recon.solvers.fista`
    =================  ==========================================  ==========================================

    Parameters
    ----------
    y : array
        Noisy image (any dimension for ``"tv"``/``"tikhonov"``), float32 or float64, finite;
        NumPy, CuPy or any array-API library (``"wavelet"``: NumPy only).
    reg : {"tv", "tikhonov", "wavelet", "crr", "wcrr", "crr-published", "wcrr-published"} or Functional
        The prior :math:`R` (default "tv").
    weight : float, optional
        :math:`\lambda \ge 0`, in units of the image values: for an image in :math:`[0, 1]` with
        noise of standard deviation :math:`\sigma`, TV and wavelet weights near :math:`\sigma` are a
        good start (default 0.1).  For the learned ridge regularizers the noise level enters
        through ``sigma`` and the default is the weight they were trained for, 1 (WCRR: convex
        denoising problem for :math:`\lambda \le 1`).  ``0`` returns a copy of ``y``.
    sigma : float, optional
        Noise standard deviation in the units of the image (25/255 for the usual ":math:`\sigma = 25`"
        on a [0, 1] image).  Required by ``"crr"``/``"wcrr"`` and by a
        :class:`~recon.functionals.RidgeRegularizer` with a noise scaling (it sets the per-channel
        scales :math:`s_c(\sigma)`); ignored otherwise.  ``"crr"``/``"wcrr"`` are always the models
        recon trained and ships (package data, no torch): a CRR-NN and a WCRR-NN, both trained for
        :math:`\sigma \in [0, 30]/255`.  The authors' published checkpoints load only when named,
        ``"crr-published"``/``"wcrr-published"`` (torch and the shared data folder), or as an
        instance from :func:`recon.learned.load_published` (:mod:`recon.learned.weights`).
    iters : int, optional
        Iteration budget of the solve: inner primal-dual iterations (TV, default 500), CG iterations
        (Tikhonov, default 200), FISTA iterations (smooth Functional, default 500).
    tol : float, optional
        Stopping tolerance: relative duality gap (TV, default 1e-4), relative CG residual
        (Tikhonov, default 1e-8), relative change of the iterate (FISTA, default 1e-6; ridge
        regularizers, default 1e-4 as the authors).
    progress : bool, default False
        tqdm progress bar; used by the FISTA path only (the other paths are single prox calls).
    callback : callable, optional
        ``callback(k, x)`` after FISTA iteration ``k``, returning ``True`` to stop; FISTA path only.
    return_result : bool, default False
        Return a :class:`~recon.solvers.Result` (iterations, convergence, certificate) instead of
        the array.

    Returns
    -------
    x : array or Result
        Same shape, dtype and library as ``y``.

    Raises
    ------
    ValueError
        Unknown ``reg`` (the message lists the choices), negative ``weight``, NaN or infinity in ``y``.
    TypeError
        ``y`` not a real floating-point array; ``reg="wavelet"`` on a non-NumPy array.

    References
    ----------
    Rudin, L. I., Osher, S., Fatemi, E. (1992). Nonlinear total variation based noise removal
    algorithms. Physica D 60, 259–268.
    Donoho, D. L. & Johnstone, I. M. (1994). Ideal spatial adaptation by wavelet shrinkage.
    Biometrika 81(3), 425–455.

    Examples
    --------
    >>> import numpy as np
    >>> from recon import data, denoise, metrics
    >>> clean = data.camera()[::4, ::4]
    >>> noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    >>> x = denoise(noisy, reg="tv", weight=0.1)
    >>> bool(metrics.psnr(x, clean) > metrics.psnr(noisy, clean) + 3)
    True
    """
    xp = check_image(y)
    reg = check_reg(reg)
    ridge = reg in RIDGE or isinstance(reg, RidgeRegularizer)
    weight = check_weight((1.0 if ridge else 0.1) if weight is None else weight)
    if ridge:
        reg = ridge_at_noise_level(reg, sigma, like=y)
    if weight == 0:
        return finish_result(xp.asarray(y, copy=True), y, Result(xp.asarray(y, copy=True), 0, True,
                                                            message="weight = 0: x = y"), return_result)
    if reg == "tv":
        result = _tv(y, weight, iters, tol)
    elif reg == "tikhonov":
        result = _tikhonov(y, weight, iters, tol)
    elif reg == "wavelet":
        if not is_numpy(xp):
            raise TypeError(f"reg='wavelet' needs a NumPy array (pywavelets), got a {type(y).__module__} array")
        result = Result(WaveletL1(tuple(y.shape)).prox(y, weight), 1, True,
                        message="closed form: soft thresholding of orthogonal wavelet coefficients")
    elif ridge:
        x, k = reg.prox_with_info(y, weight, tol=1e-4 if tol is None else tol, iters=500 if iters is None else iters)
        result = Result(x, k, k < (500 if iters is None else iters),
                        message=f"ridge prox: accelerated gradient with restart, {k} iterations")
    else:
        result = _functional(y, reg, weight, iters, tol, progress, callback)
    return finish_result(result.x, y, result, return_result)


def ridge_at_noise_level(reg, sigma, like=None):
    """The RidgeRegularizer behind ``reg`` (a name of :data:`RIDGE` or an instance) at noise level ``sigma``.

    For a name, the kernels are put in the array library of ``like`` (the image), as recon does
    for everything it creates; an instance is used as given (see :meth:`RidgeRegularizer.to`).
    """
    if isinstance(reg, str):
        from ..learned.weights import ridge_regularizer

        reg = ridge_regularizer(reg, like=like)  # loaded once per process
    if reg.noise_scaling is None:
        return reg
    if sigma is None:
        raise ValueError("sigma is required for a learned ridge regularizer: the noise standard deviation in "
                         "image units, e.g. sigma=25/255 for an image in [0, 1]")
    return reg.at_noise_level(finite(sigma, "sigma", gt=0))


def finish_result(x, y, result, return_result):
    """``x`` in ``y``'s dtype, stored in ``result``; the Result if ``return_result``, else the array."""
    xp = array_namespace(y)
    if x.dtype != y.dtype:
        x = xp.astype(x, y.dtype)
    result.x = x
    return result if return_result else x


def _tv(y, weight, iters, tol):
    tv = TV(inner_iters=500 if iters is None else iters, inner_tol=1e-4 if tol is None else tol)
    x, info = tv.prox_with_info(y, weight)
    message = f"TV prox: relative duality gap {info['rel_gap']:.3g} after {info['iterations']} primal-dual iterations"
    history = {"iteration": [info["iterations"]], "rel_gap": [info["rel_gap"]]}
    return Result(x, info["iterations"], info["converged"], history, message,
                  {"gap": info["gap"]})


def _tikhonov(y, weight, iters, tol):
    reg = Tikhonov(Gradient(tuple(y.shape)), cg_iters=200 if iters is None else iters,
                   cg_tol=1e-8 if tol is None else tol)
    x, k = reg.prox_with_info(y, weight)
    converged = k < reg.cg_iters
    return Result(x, k, converged, message=f"Tikhonov prox: {k} conjugate-gradient iterations")


def _functional(y, reg, weight, iters, tol, progress, callback):
    try:
        x = reg.prox(y, weight)
    except NotImplementedError:
        pass
    else:
        return Result(x, 1, True, message=f"prox of {reg!r}")
    if reg.lipschitz is None:
        raise ValueError(f"reg {reg!r} has neither a prox nor a gradient with known Lipschitz constant")
    f = L2DataFidelity(y) + weight * reg
    return fista(f, Zero(), y, iters=500 if iters is None else iters, tol=1e-6 if tol is None else tol,
                 progress=progress, callback=callback)
