r"""The PIE engines: ePIE (Maiden & Rodenburg 2009) and rPIE (Maiden, Johnson & Li 2017), one position at a time.

:func:`pie_sweep` applies the exit-wave correction :math:`\Delta_j` of
:class:`~recon.ptycho.engines.problem.Problem` position by position, in random order, to the object
(and the probe); with a :class:`~recon.ptycho.positions.ShiftSystem` it also collects what
:mod:`recon.ptycho.positions` needs to refine the scan positions.
"""
from __future__ import annotations

import numpy as np

from ...backend import asarray

__all__ = ["Shifts", "pie_sweep"]


class Shifts:
    """Per-position Fourier sub-pixel shifts :math:`T_\\delta` of patches, and their adjoints."""

    def __init__(self, fraction, shape, problem, cdtype):
        xp = problem.xp
        ky, kx = np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1])
        self.xp, self.fft, self.ifft = xp, problem.fft, problem.ifft
        self.ky = asarray(2j * np.pi * ky[:, None], xp=xp, dtype=cdtype)
        self.kx = asarray(2j * np.pi * kx[None, :], xp=xp, dtype=cdtype)
        ramp = np.exp(2j * np.pi * (fraction[:, 0, None, None] * ky[None, :, None]
                                    + fraction[:, 1, None, None] * kx[None, None, :]))
        self.ramps = asarray(ramp, xp=xp, dtype=cdtype)

    def apply(self, patch, j, adjoint=False):
        ramp = self.ramps[j, ...]
        return self.ifft(self.fft(patch) * (self.xp.conj(ramp) if adjoint else ramp))

    def derivatives(self, crop, j):
        """:math:`(\\partial_y T_\\delta C O, \\partial_x T_\\delta C O)` of one integer crop."""
        spectrum = self.fft(crop) * self.ramps[j, ...]
        return self.ifft(spectrum * self.ky), self.ifft(spectrum * self.kx)


def pie_sweep(problem, obj, probe, pos, method, alpha, beta, refine_probe, rng, system=None):
    """One ePIE/rPIE sweep over all positions in random order; returns ``(obj, probe, residual)``.

    With a :class:`~recon.ptycho.positions.ShiftSystem`, each position's Gauss–Newton system
    in its shift is accumulated from the crop *before* that position's own update, so it measures
    how far the data of position :math:`j` disagree with the object the other positions built.
    """
    xp = problem.xp
    m, n = probe.shape
    corners = np.rint(pos).astype(np.int64)
    fraction = pos - corners
    subpixel = system is not None or bool(np.any(fraction != 0))
    shifts = Shifts(fraction, (m, n), problem, obj.dtype) if subpixel else None
    residual = 0.0

    def object_step(probe):
        p2 = xp.real(probe) ** 2 + xp.imag(probe) ** 2
        weight = (1.0 - alpha) * p2 + alpha * xp.max(p2) if method == "rpie" else xp.max(p2) / alpha
        return xp.conj(probe) / weight

    step = object_step(probe)  # fixed over the sweep unless the probe changes
    for j in rng.permutation(pos.shape[0]):
        r, c = int(corners[j, 0]), int(corners[j, 1])
        crop = obj[r:r + m, c:c + n]
        patch = shifts.apply(crop, j) if subpixel else crop
        psi = probe * patch
        target, res = problem.project(psi, problem.amplitudes[j, ...])
        residual += res
        delta = target - psi
        if system is not None:
            system.add(j, probe, shifts.derivatives(crop, j), delta)
        update = step * delta
        if refine_probe:
            o2 = xp.real(patch) ** 2 + xp.imag(patch) ** 2
            pweight = (1.0 - beta) * o2 + beta * xp.max(o2) if method == "rpie" else xp.max(o2) / beta
            probe = probe + xp.conj(patch) * delta / pweight
            step = object_step(probe)
        if subpixel:
            update = shifts.apply(update, j, adjoint=True)
        obj[r:r + m, c:c + n] = crop + update
    return obj, probe, residual
