r"""Simulated CT data: the sinogram of an image, with Gaussian noise or Poisson photon counts.

:func:`sinogram` applies :class:`~recon.operators.tomography.Radon`; public as :func:`recon.ct.sinogram`.
"""
from __future__ import annotations

import numpy as np

from .._checks import finite
from ..backend import asarray, to_numpy
from ..operators.tomography import Radon
from .geometry import check_real_array

__all__ = ["sinogram"]


def sinogram(image, angles, *, noise: float = 0.0, flat=None, seed=None, n_detectors=None,
             detector_spacing=1.0, center=None, degrees=False):
    r"""Simulated data :math:`p = Au` (+ noise) of ``image`` at ``angles``, shape ``(n_angles, n_detectors)``.

    * ``noise``: Gaussian noise of relative level :math:`\eta`, :math:`p = Au + \eta\,\mathrm{rms}(Au)\,\xi`
      with :math:`\xi_i \sim N(0, 1)`, so :math:`\|p - Au\| \approx \eta\|Au\|`; the standard deviation
      :math:`\sigma = \eta\,\mathrm{rms}(Au)` is the ``noise_level`` for :func:`reconstruct`.
    * ``flat``: photon counts :math:`c_i \sim \mathrm{Poisson}(I_0 e^{-(Au)_i})` with :math:`I_0` =
      ``flat`` and the log data returned, :math:`p_i = -\log(\max(c_i, \tfrac12)/I_0)` (a zero count is
      read as half a photon).  :math:`u` is then an attenuation map per pixel.

    Geometry keywords as in :class:`~recon.operators.tomography.Radon`.  Noise is drawn with NumPy's
    ``default_rng(seed)`` and moved to the image's library.
    """
    xp = check_real_array(image, "image", 2)
    noise = finite(noise, "noise", ge=0)
    A = Radon(tuple(image.shape), angles, n_detectors=n_detectors, detector_spacing=detector_spacing,
              center=center, degrees=degrees)
    p = A(image)
    rng = np.random.default_rng(seed)
    if flat is not None:
        flat = finite(flat, "flat", gt=0)
        counts = rng.poisson(flat * np.exp(-to_numpy(p).astype(np.float64)))
        p = asarray(-np.log(np.maximum(counts, 0.5) / flat), xp=xp, dtype=image.dtype)
    if noise > 0:
        sigma = noise * float(xp.sqrt(xp.mean(p * p)))
        p = p + sigma * asarray(rng.standard_normal(tuple(p.shape)), xp=xp, dtype=image.dtype)
    return p
