r"""Mini-batch sweeps for :func:`recon.ptycho.reconstruct` (``batch=b``).

A sweep visits the positions in random order in groups :math:`G` of ``b``.  For each group the
exit-wave corrections :math:`\Delta_j = \mathcal F^{-1}\Pi_{I_j}\mathcal F\psi_j - \psi_j`,
:math:`j \in G`, come from one batched FFT pair on the current object and probe; object and probe
then move once, by the sum of the group's corrections normalised by the group's overlap:

.. math::
    O \mathrel{+}= \frac{\sum_{j\in G} S_j^*(\bar P\Delta_j)}{c_1\,\Omega_G + c_2\max\Omega_G},
    \quad \Omega_G = \sum_{j\in G} S_j^*|P|^2, \qquad
    P \mathrel{+}= \frac{\sum_{j\in G}\overline{S_jO}\,\Delta_j}{c_1\,\omega_G + c_2\max\omega_G},
    \quad \omega_G = \sum_{j\in G}|S_jO|^2,

with :math:`(c_1, c_2) = (1-\alpha, \alpha)` for rPIE, :math:`(0, 1/\alpha)` for ePIE and
:math:`(1, \alpha)` for ``"gd"`` (the probe likewise with :math:`\beta`).  With :math:`b = 1` and integer
positions this is the sequential update of the PIE methods (the numerator vanishes outside the patch,
where the denominator is :math:`c_2\max|P|^2`); with :math:`b = J` and ``"gd"`` it is the
overlap-normalised majorise–minimise step of :func:`~recon.ptycho.engines.gradient.gd_sweep` (object and
probe moved from the same waves instead of one after the other).  Where positions of one group overlap,
the normalisation averages their corrections instead of adding them, as in the parallel update of
Thibault et al. 2009 and the mini-batches of Odstrčil et al. 2018.

Sub-pixel positions, :math:`S_j = T_{\delta_j}C_j`.  The PIE methods (and ``"gd"`` while positions are
refined, ``patchwise=True``) divide each correction by the overlap on the probe grid *before* the
adjoint shift, :math:`O \mathrel{+}= \sum_j C_j^*T_{\delta_j}^*\bigl(\bar P\Delta_j/(c_1 C_j\Omega_G +
c_2\max\Omega_G)\bigr)`, as the sequential sweep does (the same update for integer positions):
dividing after it, the sinc tails of :math:`T_\delta^*` land where the overlap is small, and the
iteration diverged.  Plain ``"gd"`` divides after it by the widened overlap of
:func:`~recon.ptycho.engines.gradient.overlap`, a majoriser, so each group step still decreases the
group's loss.

References
----------
Thibault, P., Dierolf, M., Bunk, O., Menzel, A. & Pfeiffer, F. (2009). Probe retrieval in
ptychographic coherent diffractive imaging. *Ultramicroscopy* 109, 338–343.
Odstrčil, M., Menzel, A. & Guizar-Sicairos, M. (2018). Iterative least-squares solver for generalized
maximum-likelihood ptychography. *Opt. Express* 26, 3108–3123.
"""
from __future__ import annotations

import numpy as np

from ..backend import asarray
from ..operators.ptychography import ExitWaves
from .engines.gradient import overlap

__all__ = ["batch_sweep", "check_batch"]

_AXES = (-2, -1)


def check_batch(batch, J: int, method: str) -> int:
    """``batch`` as an int in [1, J]; ``None`` is 1 for the PIE methods and ``J`` (full batch) for ``"gd"``."""
    if batch is None:
        return J if method == "gd" else 1
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or not 1 <= int(batch) <= J:
        raise ValueError(f"batch must be None or an int in [1, {J}] (the number of positions), got {batch!r}")
    return int(batch)


def _weights(method, step):
    """``(c1, c2)`` of the normalisation ``c1 * overlap + c2 * max(overlap)``."""
    return {"rpie": (1.0 - step, step), "epie": (0.0, 1.0 / step), "gd": (1.0, step)}[method]


class _Group:
    """Gather, scatter and sub-pixel shifts of the patches of one sweep, by groups of positions."""

    def __init__(self, pos, probe_shape, problem, cdtype, subpixel):
        xp = problem.xp
        self.xp, self.problem, self.cdtype = xp, problem, cdtype
        m, n = probe_shape
        corners = np.rint(pos).astype(np.int64)
        fraction = pos - corners
        self.corners, self.probe_shape = corners, (m, n)
        self.subpixel = subpixel
        if subpixel:
            ky, kx = np.fft.fftfreq(m), np.fft.fftfreq(n)
            self.ry = np.exp(2j * np.pi * fraction[:, 0, None] * ky[None, :])[:, :, None]
            self.rx = np.exp(2j * np.pi * fraction[:, 1, None] * kx[None, :])[:, None, :]
            self.ky = asarray((2j * np.pi * ky)[None, :, None], xp=xp, dtype=cdtype)
            self.kx = asarray((2j * np.pi * kx)[None, None, :], xp=xp, dtype=cdtype)

    def select(self, group):
        """Make ``group`` (NumPy int indices) the current group."""
        xp = self.xp
        self.group = group
        if self.subpixel:
            self.ramp = asarray(self.ry[group] * self.rx[group], xp=xp, dtype=self.cdtype)

    def gather(self, obj, probe_shape):
        """``(crops, crop spectra or None, shifted patches)`` of the current group, shapes (b, m, n)."""
        xp = self.xp
        m, n = probe_shape
        crop = xp.stack([obj[int(r):int(r) + m, int(c):int(c) + n] for r, c in self.corners[self.group]], axis=0)
        if not self.subpixel:
            return crop, None, crop
        spectrum = self.problem.fft(crop) * self.ramp
        return crop, spectrum, self.problem.ifft(spectrum)

    def adjoint_shift(self, patches):
        """:math:`T_{\\delta_j}^* v_j` for the group's patches (identity for integer positions)."""
        if not self.subpixel:
            return patches
        return self.problem.ifft(self.problem.fft(patches) * self.xp.conj(self.ramp))

    def box(self):
        """The group's bounding box ``(r0, c0, rows, cols)`` on the object grid."""
        corners = self.corners[self.group]
        (r0, c0), (r1, c1) = corners.min(axis=0), corners.max(axis=0)
        return int(r0), int(c0), int(r1 - r0) + self.probe_shape[0], int(c1 - c0) + self.probe_shape[1]

    def accumulate(self, patches, box):
        """:math:`\\sum_{j\\in G} C_j^* v_j` (integer crops) on the bounding ``box``, by slice additions.

        Slices rather than a scatter-add: the patches are few, and a scatter-add over the whole
        object costs a pass over the object per group (measured, 256² object, 64² patches, groups
        of 8, NumPy: the scatter-add path took twice the time per sweep of the sequential sweep).
        """
        xp = self.xp
        r0, c0, rows, cols = box
        m, n = self.probe_shape
        out = xp.zeros((rows, cols), dtype=patches.dtype)
        for k, j in enumerate(self.group):
            r, c = int(self.corners[j, 0]) - r0, int(self.corners[j, 1]) - c0
            out[r:r + m, c:c + n] = out[r:r + m, c:c + n] + patches[k, ...]
        return out

    def crops(self, field, box):
        """``field`` (on the bounding ``box``) cut into the group's patches, shape (b, m, n)."""
        r0, c0 = box[:2]
        m, n = self.probe_shape
        return self.xp.stack([field[int(r) - r0:int(r) - r0 + m, int(c) - c0:int(c) - c0 + n]
                              for r, c in self.corners[self.group]], axis=0)

    def update(self, obj, crop, change, box):
        """Write ``crop + change`` into every patch of the group (``change`` on the bounding ``box``).

        A pixel in several patches receives the same value from each, as ``crop`` holds the
        object before the group's step.
        """
        values = crop + self.xp.astype(self.crops(change, box), obj.dtype)
        for k, j in enumerate(self.group):
            r, c = int(self.corners[j, 0]), int(self.corners[j, 1])
            obj[r:r + self.probe_shape[0], c:c + self.probe_shape[1]] = values[k, ...]
        return obj


def batch_sweep(problem, obj, probe, pos, method, alpha, beta, refine_probe, rng, system=None, *, batch,
                patchwise=False):
    """One sweep in random groups of ``batch`` positions; returns ``(obj, probe, residual)``.

    ``patchwise``: normalise ``"gd"``'s object step patch by patch on the probe grid, as the PIE
    methods do, instead of by the widened overlap (used while positions are refined).

    ``system`` (a :class:`~recon.ptycho.positions.ShiftSystem`) receives each position's
    Gauss–Newton system in its shift, from the object and probe its group saw.
    """
    xp = problem.xp
    J = pos.shape[0]
    shape = tuple(probe.shape)
    subpixel = system is not None or bool(np.any(pos != np.rint(pos)))
    groups = _Group(pos, shape, problem, obj.dtype, subpixel)
    c1, c2 = _weights(method, alpha)
    d1, d2 = _weights(method, beta)
    order = rng.permutation(J)
    residual = 0.0
    for start in range(0, J, batch):
        # Order within a group is immaterial; sorted, a full group is arange(J).
        group = np.sort(order[start:start + batch])
        groups.select(group)
        crop, spectrum, patches = groups.gather(obj, shape)
        psi = probe * patches
        amplitudes = problem.amplitudes if group.size == J else xp.take(
            problem.amplitudes, asarray(group, xp=xp, dtype=xp.int64), axis=0)
        target, res = problem.project(psi, amplitudes)
        residual += res
        delta = target - psi
        p2 = xp.real(probe) ** 2 + xp.imag(probe) ** 2
        if system is not None:
            dy, dx = problem.ifft(spectrum * groups.ky), problem.ifft(spectrum * groups.kx)
            system.add_batch(group, probe, dy, dx, delta)
        box = groups.box()
        if method == "gd" and not patchwise:
            # The exact (widened, for sub-pixel shifts) overlap majorises the group's loss.
            if subpixel:
                r0, c0, rows, cols = box
                illum = overlap(ExitWaves(probe, pos[group], tuple(obj.shape)), problem)[r0:r0 + rows, c0:c0 + cols]
            else:
                illum = groups.accumulate(xp.broadcast_to(p2[None, ...], tuple(psi.shape)), box)
            change = groups.accumulate(groups.adjoint_shift(xp.conj(probe) * delta), box)
            change = change / (c1 * illum + c2 * xp.max(illum))
        else:
            # Normalised on the probe grid before the sub-pixel shift, as the sequential sweep does:
            # normalised after it, the shift's sinc tails land where the overlap is small (measured: divergence).
            illum = groups.accumulate(xp.broadcast_to(p2[None, ...], tuple(psi.shape)), box)
            weight = c1 * groups.crops(illum, box) + c2 * xp.max(illum)
            change = groups.accumulate(groups.adjoint_shift(xp.conj(probe) * delta / weight), box)
        if refine_probe:
            o2 = xp.sum(xp.real(patches) ** 2 + xp.imag(patches) ** 2, axis=0)
            probe = probe + xp.sum(xp.conj(patches) * delta, axis=0) / (d1 * o2 + d2 * xp.max(o2))
        obj = groups.update(obj, crop, change, box)  # after the probe step, which reads the old patches
    return obj, probe, residual
