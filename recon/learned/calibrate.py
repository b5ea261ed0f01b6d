r"""Re-fit a learned noise scaling :math:`s_c(\sigma)` on held-out images, one knot at a time.

A model trained for every noise level at once (:mod:`recon.learned.train_wcrr`) draws
:math:`\sigma \sim U[0, 30]/255` per patch and minimises the mean squared error, which the large
noise levels dominate: the splines :math:`S_c` of the noise scaling
:math:`s_c(\sigma) = \exp(S_c(\sigma/u))/(\sigma/u + 10^{-5})` come out well placed at σ = 15–30/255
and off at small σ (recon's shipped convex model denoises held-out σ = 5/255 crops 0.2 dB better
when told σ = 3.75/255).  :func:`calibrate_noise_scaling` moves each knot's spline values by one
common offset :math:`\delta_k` (all channels, i.e. every scale times :math:`e^{\delta_k}`), the one that
maximises the mean PSNR of the denoiser

.. math::
    \hat x(y) = \operatorname{argmin}_x \tfrac12\|x - y\|^2 + R_{\sigma_k}(x)

on the given clean images with noise of level :math:`\sigma_k`, by golden-section search.  The knot at
σ = 0 (no noise to denoise) takes the offset of the first positive knot.  Kernels and activation
are kept, so convexity (or weak convexity) is unchanged: the offsets only rescale.

Use images that were neither trained on nor tested on (e.g. the trainer's held-out validation images).
"""
from __future__ import annotations

import math

import numpy as np

from ..functionals.ridge import RidgeRegularizer
from .weights import _NoiseScaling

__all__ = ["calibrate_noise_scaling"]

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _mean_psnr(reg, sigma, images, noises, tol):
    from ..apps.denoise import denoise

    scores = []
    for clean, noise in zip(images, noises):
        x = denoise(clean + clean.dtype.type(sigma) * noise, reg=reg, sigma=sigma, tol=tol)
        scores.append(10.0 * math.log10(1.0 / float(np.mean((x - clean) ** 2))))
    return float(np.mean(scores))


def _with_offsets(reg, ns, offsets):
    scaling = _NoiseScaling(ns.coefficients + np.asarray(offsets)[None, :], ns.x_min, ns.x_max, ns.unit)
    out = RidgeRegularizer(reg.kernels, reg.activation, scale=reg.scale, noise_scaling=scaling,
                           w_norm=reg.w_norm, norm_shape=reg.norm_shape)  # measured once, not per trial
    out._ops = reg._ops  # the operators do not depend on the scales
    out.extras = dict(reg.extras)
    return out


def calibrate_noise_scaling(reg: RidgeRegularizer, images, *, bounds=(-1.0, 1.0), xtol=0.02, tol=1e-4, seed=0,
                            progress=False):
    r"""``reg`` with each knot of its noise scaling moved to the offset that denoises ``images`` best.

    Parameters
    ----------
    reg : RidgeRegularizer
        With the published form of noise scaling (an export of :func:`~recon.learned.train_wcrr.train_wcrr`,
        :func:`~recon.learned.load_npz` or :func:`~recon.learned.load_published`).
    images : sequence of 2-D float arrays
        Clean images in [0, 1] (float32 or float64), not used in training nor for testing.
    bounds : (float, float)
        Search interval of each offset :math:`\delta_k` (log scale; ±1 is a factor e).
    xtol : float
        Golden-section stops when the interval is shorter than this (about ``log(4/xtol)/0.48``
        denoising passes over ``images`` per knot).
    tol : float
        The denoiser's tolerance (relative change), as in :func:`recon.denoise`.
    seed : int
        Noise draws: ``numpy.random.default_rng(seed)``, one standard normal array per image, reused at every knot.
    progress : bool
        tqdm progress bar over the knots.

    Returns
    -------
    calibrated : RidgeRegularizer
        Same kernels and activation; noise-scaling splines :math:`S_c(\sigma_k) + \delta_k`.
        ``calibrated.extras["calibration"]`` lists, per knot, the noise level (in the scaling's units
        times ``unit``, i.e. image units), :math:`\delta_k` and the mean PSNR before and after.

    Notes
    -----
    Each knot is searched on its own, at its own noise level; between knots the splines interpolate the
    offsets linearly, as they do the values.  A search that ends at a bound is reported as such
    (``"at_bound": True``): widen ``bounds`` then.
    """
    from ..solvers.result import progress_bar

    if not isinstance(reg, RidgeRegularizer):
        raise TypeError(f"reg must be a RidgeRegularizer, got {type(reg).__name__}")
    ns = reg.noise_scaling
    if not isinstance(ns, _NoiseScaling):
        raise ValueError("reg must carry the published form of noise scaling (exp(S_c(sigma/u))/(sigma/u + eps)), "
                         f"got {type(ns).__name__}")
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be two finite numbers, lower < upper, got {bounds}")
    if not (float(xtol) > 0 and math.isfinite(float(xtol))):
        raise ValueError(f"xtol must be a finite number > 0, got {xtol}")
    images = [np.asarray(im) for im in images]
    if not images:
        raise ValueError("images must hold at least one image, got none")
    for i, im in enumerate(images):
        if im.ndim != 2 or im.dtype not in (np.float32, np.float64) or not np.all(np.isfinite(im)):
            raise ValueError(f"images[{i}] must be a finite 2-D float32 or float64 array, got {im.dtype} {im.shape}")
    rng = np.random.default_rng(seed)
    noises = [rng.standard_normal(im.shape).astype(im.dtype) for im in images]

    knots = np.linspace(ns.x_min, ns.x_max, ns.coefficients.shape[1])
    offsets = np.zeros(knots.size)
    report = []
    bar = progress_bar(int(np.sum(knots > 0)), progress, "calibrate noise scaling")
    for k, level in enumerate(knots):
        if level <= 0:
            continue
        sigma = float(level) * ns.unit

        def score(delta, k=k, sigma=sigma):
            trial = offsets.copy()
            trial[k] = delta
            return _mean_psnr(_with_offsets(reg, ns, trial), sigma, images, noises, tol)

        before = score(0.0)
        a, b = lo, hi
        c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
        fc, fd = score(c), score(d)
        while b - a > xtol:
            if fc >= fd:
                b, d, fd = d, c, fc
                c = b - _GOLDEN * (b - a)
                fc = score(c)
            else:
                a, c, fc = c, d, fd
                d = a + _GOLDEN * (b - a)
                fd = score(d)
        best, after = (c, fc) if fc >= fd else (d, fd)
        if after < before:  # the search's points all lost to no offset (a non-unimodal score): keep the knot
            best, after = 0.0, before
        offsets[k] = best
        report.append({"sigma": sigma, "offset": float(best), "psnr_before": before, "psnr_after": after,
                       "at_bound": bool(min(best - lo, hi - best) <= xtol)})
        bar.update()
    bar.close()
    positive = np.flatnonzero(knots > 0)
    if positive.size:
        offsets[knots <= 0] = offsets[positive[0]]
    out = _with_offsets(reg, ns, offsets)
    out.extras = dict(reg.extras, calibration=report)
    return out
