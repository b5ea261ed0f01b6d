r"""Blind image fusion with directional TV: sharpen a low-resolution band with a high-resolution photograph.

.. math::
    \min_{u, k, w}\ \tfrac12\|S\,C\,(k * W_w u) - f\|^2 + \lambda_u\,\mathrm{dTV}_v(u) + \lambda_k\,\mathrm{TV}(k)
    + \iota_{u \ge 0}(u) + \iota_\Delta(k)

(:mod:`recon.apps.fusion_model` for the forward model), solved by PALM: one proximal-gradient step
per block (image, kernel, warp) with a backtracked step, in turn.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_namespace, asarray, check_finite, pad_edge, to_numpy
from ..functionals.dtv import DirectionalTV, luminance, project_simplex
from ..operators.warp import Warp
from .._checks import positive_int as check_positive_int, tolerance as check_tol
from .fusion_bands import fuse_bands
from .fusion_model import FusionModel
from .fusion_palm import FusionResult, _Palm
from .fusion_pyramid import coarse_warp, default_levels

__all__ = ["fuse", "FusionResult", "REGS", "REGISTRATIONS"]

REGS = ("dtv", "tv")
REGISTRATIONS = (None, "rigid", "affine")
DEFAULT_WEIGHT = {"dtv": 0.1, "tv": 1e-3}


def fuse(data, side_info, factor: int = 4, *, kernel=None, kernel_size: int = 41, blind: bool = True,
         registration=None, warp=None, reg: str = "dtv", weight: float | None = None, kernel_weight: float = 1e-2,
         eta: float = 0.003, gamma: float = 0.9995, inertial: bool = False, levels: int | None = None,
         iters: int = 300, tol: float = 1e-6, progress: bool = False, callback=None, shared: bool = False,
         client=None, num_workers=None) -> FusionResult:
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
    projection when ``kernel_weight = 0``).  The image prox runs 60 warm-started inner iterations
    per call (the dominant cost; on NumPy with numba each is one compiled sweep over the working domain,
    :mod:`recon.functionals.dtv_kernels`, else about 36 elementwise passes); a step whose objective does
    not decrease is refined by a second call with a 10 times tighter inner tolerance.  With the default
    41-pixel kernel at factor 4 the margin is a multiple of the factor, and the sampling :math:`S C` runs
    in Fourier space on the coarse grid (:meth:`~recon.apps.fusion_model.FusionModel.predict`), so an
    iteration costs about five full-size FFTs.  A block step whose objective would still rise (possible only through the inner
    solvers' tolerance) is rejected, so ``history["objective"]`` never increases.

    Parameters
    ----------
    data : array (h, w) or (bands, h, w)
        The low-resolution band, real, finite.  float32 input is computed in float32.  A stack of
        bands is fused band by band against the same side information, in parallel through Dask
        (see ``shared``); the result then stacks the bands.
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
    warp : Warp or array (2, 3), optional
        A known warp :math:`[A \mid b]` (same convention), kept fixed when ``registration=None`` and the
        start of the estimate otherwise (then, for ``"rigid"``, :math:`A` must be a rotation).
    reg : {"dtv", "tv"}
    weight : float, optional
        :math:`\lambda_u \ge 0`; default 0.1 for dTV (Bungert et al.) and 1e-3 for TV.
    kernel_weight : float, default 1e-2
        :math:`\lambda_k \ge 0`.
    eta, gamma : float
        dTV parameters (:class:`~recon.functionals.DirectionalGradient`; ``eta`` in units of the
        side information scaled to [0, 1] per pixel).
    inertial : bool, default False
        iPALM-type momentum on the image block: the step starts from
        :math:`u^n + \beta_n(u^n - u^{n-1})`, :math:`\beta_n = (t_{n-1} - 1)/t_n` (FISTA's sequence), and
        falls back to the plain step, resetting :math:`t`, whenever it would not decrease the objective,
        so the history stays monotone.  On ``trees1_shift_5px_disk`` it needs about 1.8 prox calls per
        step but 2-2.5 times fewer iterations to a given objective: with the compiled prox, objective 8.8
        in 4.5 instead of 6.2 CPU seconds (float64; 8.75 in 6.1 instead of 7.4).
    iters : int, default 300
        Maximum PALM iterations.
    tol : float, default 1e-6
        Stop when the objective decreases by less than ``tol`` times its value in one iteration.
    progress : bool
        tqdm progress bar.
    callback : callable, optional
        ``callback(k, x)`` after iteration ``k`` with the current image; returning True stops.

    shared, client, num_workers
        For a stack of bands only (:func:`~recon.apps.fusion_bands.fuse_bands`): one kernel and warp for
        all bands (estimated from the band mean) or one per band; the Dask client (default: threads when
        Dask is installed, else a serial loop); the number of threads.

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
    Pock, T., Sabach, S. (2016). Inertial proximal alternating linearized minimization (iPALM) for
    nonconvex and nonsmooth problems. SIAM J. Imaging Sci. 9(4), 1756-1787.
    O'Donoghue, B., Candès, E. (2015). Adaptive restart for accelerated gradient schemes. Found.
    Comput. Math. 15, 715-732.

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
    if data.ndim == 3:
        return fuse_bands(data, side_info, factor, shared=shared, client=client, num_workers=num_workers,
                          kernel=kernel, kernel_size=kernel_size, blind=blind, registration=registration,
                          warp=warp, reg=reg, weight=weight, kernel_weight=kernel_weight, eta=eta, gamma=gamma,
                          inertial=inertial, levels=levels, iters=iters, tol=tol, progress=progress,
                          callback=callback)
    if data.ndim != 2:
        raise ValueError(f"data must be a band (h, w) or a stack of bands (bands, h, w), got shape {tuple(data.shape)}")
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

    matrix0 = _check_warp(warp, registration)
    if levels is None:
        levels = default_levels(data.shape, registration)
    levels = check_positive_int(levels, "levels")
    if registration is not None and levels > 1:
        start = coarse_warp(fuse, data, v, factor, kernel=kernel, kernel_size=kernel_size, matrix0=matrix0,
                            levels=levels, weight=weight, blind=blind, registration=registration, reg=reg,
                            kernel_weight=kernel_weight, eta=eta, gamma=gamma, inertial=inertial, iters=iters,
                            tol=tol)
        matrix0 = start if start is not None else matrix0
    model = FusionModel(tuple(data.shape), factor, kernel_size)
    m = model.margin
    lo, hi = float(xp.min(v)), float(xp.max(v))
    v = (v - lo) * (1.0 / (hi - lo)) if hi > lo else v * 0.0
    v = pad_edge(v, ((m, m), (m, m)), mode="symmetric")
    # 60 warm-started inner iterations per prox: on trees1_shift_5px_disk the objective reached per inner
    # iteration (the cost that dominates) was best at 40-100; 10 per call needed two or three calls
    # per step and stalled 50% higher (each call restarts the accelerated schedule).  With the compiled
    # sweep (prox ~55-60% of an iteration) 15 or 30 per call still lost in CPU time to a given objective,
    # and neither a smaller first primal step (0.1-0.3) nor a primal restart from the warm dual won robustly
    reg_u = DirectionalTV(v, eta=eta, gamma=gamma if reg == "dtv" else 0.0, constraint="nonnegative",
                          inner_tol=1e-3, inner_iters=60, check_every=5)
    if kernel is None:
        k0 = xp.zeros((kernel_size, kernel_size), dtype=data.dtype, device=data.device)
        k0[m, m] = 1.0
    else:
        k0 = xp.astype(kernel, data.dtype)
        k0 = project_simplex(k0) if blind else k0
    u0 = _initial_image(model, data, v)
    state = _Palm(model, data, u0, k0, reg_u, weight, kernel_weight, blind, registration, inertial, matrix0)
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


def _check_warp(warp, registration):
    """The 2x3 float64 matrix of ``warp`` (a Warp or array_like), or None; a rigid start must be a rotation."""
    if warp is None:
        return None
    if isinstance(warp, Warp):
        warp = warp.matrix
    m = np.array(to_numpy(warp) if hasattr(warp, "shape") else warp, dtype=np.float64)
    if m.shape != (2, 3) or not np.all(np.isfinite(m)):
        raise ValueError(f"warp must be a Warp or a finite 2x3 matrix [A | b], got {m.tolist()}")
    A = m[:, :2]
    if np.linalg.det(A) <= 0:
        raise ValueError(f"warp must have det A > 0 (no reflection or collapse), got {m.tolist()}")
    if registration == "rigid" and not np.allclose(A.T @ A, np.eye(2), atol=1e-8):
        raise ValueError(f"warp must have A a rotation for registration='rigid', got {m.tolist()}")
    return m
