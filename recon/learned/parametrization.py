r"""The model class of the published ridge regularizers, shared by the file formats and the trainers.

* :func:`project_activation`: the authors' projection of an activation's spline values (slopes
  clipped to :math:`[0, 1]`, flat ends, odd symmetry), applied at every evaluation.
* :class:`NoiseScaling`: the per-channel scales :math:`s_c(\sigma) = \exp(S_c(\sigma/u)) /
  (\sigma/u + 10^{-5})`, :math:`S_c` linear splines (:data:`SCALING_EPS` the authors' guard).
* :func:`unit_norm`: kernels divided so that :math:`\|W\| = 1` on the :data:`NORM_SHAPE` image.
"""
from __future__ import annotations

import math

import numpy as np

from ..functionals.ridge import RidgeRegularizer
from ..functionals.splines import LinearSpline

__all__ = ["NORM_SHAPE", "SCALING_EPS", "NoiseScaling", "project_activation", "unit_norm"]

NORM_SHAPE = (256, 256)  # image size of the authors' power iteration for ||W||
SCALING_EPS = 1e-5  # the authors' guard in exp(S(sigma)) / (sigma + eps)


def project_activation(coefficients, step, *, slope_min=0.0, slope_max=1.0):
    """The authors' projection of spline values: clipped slopes, flat ends, re-integrated, odd."""
    c = np.asarray(coefficients, dtype=np.float64).reshape(-1)
    slopes = np.clip(np.diff(c) / step, slope_min, slope_max)
    slopes[0] = slopes[-1] = 0.0
    c = np.concatenate([[0.0], np.cumsum(slopes) * step])
    return 0.5 * (c - c[::-1])


class NoiseScaling:
    r"""``sigma -> exp(S_c(sigma / unit)) / (sigma / unit + SCALING_EPS)`` for the per-channel splines :math:`S_c`.

    Parameters
    ----------
    coefficients : array_like ``(C, n)``
        Values of :math:`S_c` at ``n >= 2`` equispaced levels on ``[x_min, x_max]`` (linear extension).
    x_min, x_max : float
        The knots' range, in units of ``unit`` (the published models: [0, 30] with ``unit = 1/255``).
    unit : float
        Noise level of one unit of the knots, in image units.
    """

    def __init__(self, coefficients, x_min, x_max, unit):
        self.coefficients = np.asarray(coefficients, dtype=np.float64)
        if self.coefficients.ndim != 2 or self.coefficients.shape[1] < 2:
            raise ValueError(f"coefficients must be (channels, knots >= 2), got {self.coefficients.shape}")
        self.x_min, self.x_max, self.unit = float(x_min), float(x_max), float(unit)
        self.splines = [LinearSpline(row, x_min, x_max) for row in self.coefficients]

    def __call__(self, sigma):
        level = np.full(1, float(sigma) / self.unit)
        return np.array([math.exp(float(s(level)[0])) for s in self.splines]) / (level[0] + SCALING_EPS)


def unit_norm(reg: RidgeRegularizer) -> RidgeRegularizer:
    r"""``reg`` with its kernels divided so that :math:`\|W\| = 1` on ``reg.norm_shape``; ``reg`` if already at most 1.

    :math:`\|W\|` of a zero-padded convolution grows with the image, so kernels kept at
    :math:`\|W\| = 1` on small training patches reach slightly above 1 on the 256×256 images the
    norm is measured on (the authors' test-time normalisation, :func:`~recon.learned.load_published`).  Dividing
    each of the :math:`n` kernels by :math:`\|W\|^{1/n}` restores :math:`\|W\| = 1`, hence
    :attr:`~recon.functionals.RidgeRegularizer.weak_convexity` :math:`= \max(-\varphi'_{\min}, 0)`
    (at most :math:`\rho`); activation, scale and noise scaling are kept.  :math:`\|W\|` is
    measured again after the division (power iteration), not assumed.
    """
    if not isinstance(reg, RidgeRegularizer):
        raise TypeError(f"reg must be a RidgeRegularizer, got {type(reg).__name__}")
    norm = reg.w_norm
    if norm <= 1 + 1e-6:  # float32 kernels round ||W|| = 1 to within about 1e-7
        return reg
    c = norm ** (-1.0 / len(reg.kernels))
    out = RidgeRegularizer([k * k.dtype.type(c) for k in reg.kernels], reg.activation, scale=reg.scale,
                           noise_scaling=reg.noise_scaling, norm_shape=reg.norm_shape)
    out.extras = dict(reg.extras, w_norm_before=norm)
    return out
