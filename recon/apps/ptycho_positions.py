r"""Position refinement for ptychography: Gauss–Newton shifts from the exit-wave corrections.

After the Fourier-modulus projection a position :math:`j` wants its exit wave to change by
:math:`\Delta_j = \mathcal F^{-1}\Pi_{I_j}\mathcal F\psi_j - \psi_j`.  Linearising the exit wave in the
position, :math:`\psi_j(r + s) \approx \psi_j(r) + \sum_a s_a\, P\odot\partial_a S_r O`, the shift that
best explains :math:`\Delta_j` solves the 2×2 normal equations

.. math::
    \sum_b \operatorname{Re}\langle g_a, g_b\rangle\, s_b = \operatorname{Re}\langle g_a, \Delta_j\rangle,
    \qquad g_a = P \odot \partial_a S_{r_j} O,

a Gauss–Newton step on the amplitude loss in :math:`r_j` (its gradient is
:math:`-\operatorname{Re}\langle g_a, \Delta_j\rangle`, :meth:`recon.operators.ExitWaves.position_gradient`).
Steps are damped and clipped, and the mean shift of all positions is removed: a global translation
of object and positions leaves the data unchanged, so it is fixed to the starting one.

References
----------
Guizar-Sicairos, M. & Fienup, J. R. (2008). Phase retrieval with transverse translation diversity:
a nonlinear optimization approach. *Opt. Express* 16, 7264–7278.
Zhang, F. et al. (2013). Translation position determination in ptychographic coherent diffraction
imaging. *Opt. Express* 21, 13592–13606.
"""
from __future__ import annotations

import numpy as np

from ..backend import to_numpy

__all__ = ["gauss_newton_shift", "batch_gauss_newton_shifts", "step_positions", "DAMPING", "MAX_STEP"]

_AXES = (-2, -1)
DAMPING = 0.5   # fraction of the Gauss-Newton step taken: the object update competes for the same Delta
MAX_STEP = 0.5  # pixels per sweep: keeps the linearisation (a sub-pixel Taylor step) valid


def _solve(gyy, gyx, gxx, by, bx):
    """Solve the 2x2 normal equations (batched NumPy arrays), zero where singular."""
    det = gyy * gxx - gyx * gyx
    ok = det > 1e-12 * np.maximum(gyy * gxx, np.finfo(float).tiny)
    safe = np.where(ok, det, 1.0)
    sy = np.where(ok, (gxx * by - gyx * bx) / safe, 0.0)
    sx = np.where(ok, (gyy * bx - gyx * by) / safe, 0.0)
    return np.stack([sy, sx], axis=-1)


def gauss_newton_shift(xp, probe, crop, delta, shifts, j) -> np.ndarray:
    """Gauss–Newton shift (row, column) of one position from its crop, probe and correction ``delta``."""
    spectrum = xp.fft.fftn(crop, axes=_AXES) * shifts.ramps[j, ...]
    gy = probe * xp.fft.ifftn(spectrum * shifts.ky, axes=_AXES)
    gx = probe * xp.fft.ifftn(spectrum * shifts.kx, axes=_AXES)
    def re(a, b):
        return float(xp.sum(xp.real(xp.conj(a) * b)))
    return _solve(re(gy, gy), re(gy, gx), re(gx, gx), re(gy, delta), re(gx, delta))


def batch_gauss_newton_shifts(xp, exit_waves, obj, delta) -> np.ndarray:
    """Gauss–Newton shifts of all positions at once (full-batch methods); (J, 2) NumPy array."""
    A = exit_waves
    J, (m, n) = A.positions.shape[0], A.patches.patch_shape
    crop = xp.reshape(xp.take(xp.reshape(obj, (-1,)), A.patches.index), (J, m, n))
    dy, dx = A.patches.derivatives(xp.fft.fftn(crop, axes=_AXES))
    p = xp.astype(A.probe, obj.dtype)
    gy, gx = p * dy, p * dx
    def re(a, b):
        return to_numpy(xp.sum(xp.real(xp.conj(a) * b), axis=_AXES))
    return _solve(re(gy, gy), re(gy, gx), re(gx, gx), re(gy, delta), re(gx, delta))


def step_positions(positions, shifts, start, probe_shape, object_shape) -> np.ndarray:
    """Damped, clipped step; mean displacement from ``start`` removed; patches kept inside the object."""
    step = np.clip(DAMPING * shifts, -MAX_STEP, MAX_STEP)
    new = positions + step
    new -= np.mean(new - start, axis=0)
    limit = np.array(object_shape) - np.array(probe_shape)
    # Rounded corners must stay in [0, limit]; keep a margin below the rounding boundary.
    return np.clip(new, 0.0, limit + 0.49)
