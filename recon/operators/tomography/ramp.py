r"""Filtered backprojection's ingredients: ramp filters (windowed) and angular quadrature weights.

Used by :func:`recon.ct.fbp` with the adjoint of :class:`~recon.operators.tomography.Radon`.
"""
from __future__ import annotations

import math

import numpy as np
from array_api_compat import device

from ..._checks import one_of, positive_int
from ...backend import array_namespace, asarray, irfftn, rfftn
from .parallel import check_angles

__all__ = ["FILTERS", "filter_sinogram", "angular_weights"]

FILTERS = ("ram-lak", "shepp-logan", "cosine", "hamming", "hann")


def _window(name, f):
    """Apodisation of the ramp at frequency ``f`` (cycles per bin, ``0 <= f <= 1/2``)."""
    if name == "ram-lak":
        return np.ones_like(f)
    if name == "shepp-logan":
        return np.sinc(f)  # sin(pi f) / (pi f)
    if name == "cosine":
        return np.cos(np.pi * f)
    if name == "hamming":
        return 0.54 + 0.46 * np.cos(2.0 * np.pi * f)
    return 0.5 + 0.5 * np.cos(2.0 * np.pi * f)  # hann


def filter_sinogram(sinogram, filter: str = "ram-lak", *, padding: bool = True, oversampling: int = 1):
    r"""Ramp-filter each projection (rows of ``sinogram``) for filtered backprojection.

    The ramp :math:`|\nu|` is discretised in the spatial domain (Kak & Slaney 1988, eq. 3.61), for
    unit bin width,

    .. math::
        h_0 = \tfrac14, \qquad h_n = -\frac{1}{\pi^2 n^2}\ (n \text{ odd}), \qquad h_n = 0\ (n \ne 0 \text{ even}),

    which, unlike sampling :math:`|\nu|` in frequency, has no DC offset.  Its transform is multiplied
    by a window :math:`W(\nu)`, :math:`\nu \in [0, \tfrac12]` cycles per bin: ``"ram-lak"`` 1,
    ``"shepp-logan"`` :math:`\operatorname{sinc}\nu`, ``"cosine"`` :math:`\cos\pi\nu`, ``"hamming"``
    :math:`0.54 + 0.46\cos 2\pi\nu`, ``"hann"`` :math:`\tfrac12(1 + \cos 2\pi\nu)`.  The result is the
    convolution :math:`q = h * p` (a sum over bins; divide by :math:`\Delta s` for the integral).

    Parameters
    ----------
    sinogram : array, shape (n_angles, n_detectors)
        Real floating; the result has its dtype, library and device.
    filter : str
        One of :data:`FILTERS`.
    padding : bool, default True
        Zero-pad each projection to a power of two :math:`\ge 2 n_d` so the FFT convolution does not
        wrap around; without it the convolution is circular on ``n_detectors`` bins.
    """
    one_of(filter, "filter", FILTERS)
    o = positive_int(oversampling, "oversampling")
    xp = array_namespace(sinogram)
    n_det = sinogram.shape[-1]
    size = max(64, 2 ** math.ceil(math.log2(2 * n_det))) if padding else n_det
    n = np.arange(size)
    n = np.minimum(n, size - n)  # circular distance, so h is even
    h = np.zeros(size)
    h[0] = 0.25
    odd = n % 2 == 1
    h[odd] = -1.0 / (np.pi * n[odd]) ** 2
    response = np.fft.rfft(h).real * _window(filter, np.fft.rfftfreq(size))
    # complex like the spectrum: a real factor would be cast element by element in the product
    response = asarray(response, xp=xp, dtype=xp.complex64 if sinogram.dtype == xp.float32 else xp.complex128)
    if size > n_det:
        zeros = xp.zeros((*sinogram.shape[:-1], size - n_det), dtype=sinogram.dtype, device=device(sinogram))
        sinogram = xp.concat([sinogram, zeros], axis=-1)
    spectrum = rfftn(sinogram, axes=(-1,))
    # zero-padding the spectrum to o * size samples is band-limited interpolation; the factor o keeps amplitudes
    filtered = irfftn(spectrum * response, s=(o * size,), axes=(-1,))[..., :o * (n_det - 1) + 1]
    return filtered * float(o) if o > 1 else filtered


def angular_weights(angles) -> np.ndarray:
    r"""Quadrature weights :math:`\Delta\theta_a` for :math:`\int_0^\pi \cdot\, d\theta` at the given angles.

    Angles are reduced modulo :math:`\pi` (a ray at :math:`\theta + \pi` is the ray at :math:`\theta`
    reversed) and sorted; each gets half of the gaps to its two neighbours (cyclically), the
    trapezoidal rule.  A gap wider than :math:`2\pi/N` (:math:`N` angles) is a missing wedge
    (limited-angle data) and gets no weight, so the angles at its ends weigh half.  Uniform angles
    over :math:`[0, \pi)` or :math:`[0, 2\pi)` get :math:`\pi/N` each.
    """
    theta = check_angles(angles)
    reduced = np.mod(theta, np.pi)
    order = np.argsort(reduced, kind="stable")
    s = reduced[order]
    gaps = np.diff(np.concatenate([s, [s[0] + np.pi]]))  # gaps[i]: from s[i] to the next angle
    gaps[gaps > 2.0 * np.pi / theta.size * (1.0 + 1e-9)] = 0.0
    weights = np.empty_like(theta)
    weights[order] = 0.5 * (gaps + np.roll(gaps, 1))
    return weights
