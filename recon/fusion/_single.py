r"""The single-band core of :func:`recon.fuse`: check the arguments, set up the model and the priors, run PALM.

:func:`~recon.fusion.fuse` (one band) and :func:`~recon.fusion.fuse_bands` (each band of a stack, and
the band mean) both call :func:`fuse_band`, so neither imports the other; the registration pyramid
(:func:`~recon.fusion.pyramid.coarse_warp`) is handed :func:`fuse_band` for its coarse levels.
"""
from __future__ import annotations

import numpy as np

from .._checks import callable_or_none, finite, one_of, positive_int, tolerance
from ..backend import array_namespace, asarray, check_finite, pad_edge, to_numpy
from ..functionals.dtv import DirectionalTV, luminance, project_simplex
from ..operators.warp import Warp
from .model import FusionModel
from .palm import FusionResult, palm
from .pyramid import coarse_warp, default_levels

__all__ = ["DEFAULT_WEIGHT", "REGISTRATIONS", "REGS", "check_array", "fuse_band"]

REGS = ("dtv", "tv")
REGISTRATIONS = (None, "rigid", "affine")
DEFAULT_WEIGHT = {"dtv": 0.1, "tv": 1e-3}


def fuse_band(data, side_info, factor: int = 4, *, kernel=None, kernel_size: int = 41, blind: bool = True,
              registration=None, warp=None, reg: str = "dtv", weight: float | None = None,
              kernel_weight: float = 1e-2, eta: float = 0.003, gamma: float = 0.9995, inertial: bool = False,
              levels: int | None = None, iters: int = 300, tol: float = 1e-6, progress: bool = False,
              callback=None) -> FusionResult:
    """:func:`recon.fuse` of one band ``data`` (h, w): the same arguments and result, without the stack's
    (``shared``, ``client``, ``num_workers``)."""
    xp = check_array(data, "data")
    if data.ndim != 2:
        raise ValueError(f"data must be a band (h, w) or a stack of bands (bands, h, w), got shape {tuple(data.shape)}")
    factor = positive_int(factor, "factor")
    one_of(reg, "reg", REGS)
    one_of(registration, "registration", REGISTRATIONS)
    weight = DEFAULT_WEIGHT[reg] if weight is None else weight
    weight, kernel_weight = finite(weight, "weight", ge=0), finite(kernel_weight, "kernel_weight", ge=0)
    iters, tol = positive_int(iters, "iters"), tolerance(tol)
    callable_or_none(callback, "callback")
    if type(side_info).__module__.split(".")[0] != type(data).__module__.split(".")[0]:
        side_info = asarray(side_info, xp=xp)  # the photo usually comes from an image reader
    check_array(side_info, "side_info")
    v = xp.astype(luminance(side_info), data.dtype)
    image_shape = tuple(factor * n for n in data.shape)
    if tuple(v.shape) != image_shape:
        raise ValueError(f"side_info has shape {tuple(side_info.shape)}, expected {image_shape} "
                         f"(factor {factor} times the data's {tuple(data.shape)})")
    if kernel is not None:
        if type(kernel).__module__.split(".")[0] != type(data).__module__.split(".")[0]:
            kernel = asarray(kernel, xp=xp)
        check_array(kernel, "kernel")
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
    levels = positive_int(levels, "levels")
    if registration is not None and levels > 1:
        start = coarse_warp(fuse_band, data, v, factor, kernel=kernel, kernel_size=kernel_size, matrix0=matrix0,
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
    return palm(model, data, u0, k0, reg_u, weight=weight, kernel_weight=kernel_weight, blind=blind,
                registration=registration, inertial=inertial, matrix0=matrix0, iters=iters, tol=tol,
                progress=progress, callback=callback)


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


def check_array(x, name):
    """The namespace of ``x``, a finite real float32/float64 array; TypeError / ValueError naming ``name`` otherwise."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    xp = array_namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must be real float32/float64, got dtype {x.dtype}")
    check_finite(x, name)
    return xp


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
