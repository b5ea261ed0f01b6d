r"""The data of a ptychographic reconstruction as every engine sees it: amplitudes in FFT order.

All engines work on the exit-wave correction of the Fourier-modulus projection,

.. math::
    \Delta_j = \mathcal F^{-1}\Pi_{I_j}\mathcal F\psi_j - \psi_j, \qquad
    \Pi_I(z) = \sqrt I\, z/|z|, \qquad \psi_j = P\odot S_{r_j}O,

which is minus the Wirtinger gradient of the amplitude loss
:math:`L = \tfrac12\sum_j\|\,|\mathcal F\psi_j| - \sqrt{I_j}\|^2` in :math:`\psi_j`;
:meth:`Problem.project` computes it for one or a batch of exit waves.
"""
from __future__ import annotations

import math

from ...backend import array_namespace, is_numpy

__all__ = ["Problem"]

_AXES = (-2, -1)


def _ffts(xp):
    """``(fft2, ifft2)`` over the last two axes, unnormalised.

    SciPy's pocketfft transforms both axes in one C++ call and keeps complex64 in single precision;
    on 64×64 complex64 patches it takes about half the time of ``numpy.fft.fftn``, whose 2-D
    transform loops over the axes in Python.  Other namespaces use their own ``fft`` extension.
    """
    if is_numpy(xp):
        import scipy.fft as sfft

        return (lambda x: sfft.fft2(x, axes=_AXES)), (lambda x: sfft.ifft2(x, axes=_AXES))
    return (lambda x: xp.fft.fftn(x, axes=_AXES)), (lambda x: xp.fft.ifftn(x, axes=_AXES))


class Problem:
    r"""Data in FFT order, so the sweeps skip the centring shifts.

    With :math:`\mathcal F = S\,\mathrm{fft}\,S^{-1}` (:math:`S` the fftshift, a circular shift),
    :math:`\mathcal F^{-1}\Pi_{I}\mathcal F\psi = \mathrm{ifft}\,\Pi_{S^{-1}I}\,\mathrm{fft}\,\psi`:
    the shifts only multiply the spectrum by unimodular phases, which the modulus projection
    lets through.  Amplitudes are scaled by :math:`\sqrt{mn}` for the unnormalised fft.
    """

    def __init__(self, intensities):
        xp = array_namespace(intensities)
        self.xp = xp
        J, m, n = intensities.shape
        self.total = float(xp.sum(intensities))
        self.scale = float(m * n)
        self.amplitudes = xp.fft.ifftshift(xp.sqrt(intensities), axes=_AXES) * math.sqrt(self.scale)
        self.fft, self.ifft = _ffts(xp)

    def project(self, psi, amplitudes):
        """``(ifft Π fft ψ, Σ(|fft ψ| - A)²)`` for one or a batch of exit waves."""
        xp = self.xp
        z = self.fft(psi)
        a = xp.abs(z)
        residual = xp.sum((a - amplitudes) ** 2)
        z = z * (amplitudes / xp.where(a > 0, a, xp.ones_like(a)))
        return self.ifft(z), residual

    def normalised(self, residual_sum) -> float:
        return float(residual_sum) / (self.scale * self.total) if self.total > 0 else 0.0
