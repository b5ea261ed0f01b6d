r"""Ptychographic scans: the data container, the result, scan geometry, probes and error measures.

Forward model (operators in :mod:`recon.operators.ptychography`):

.. math::
    I_j = |\mathcal F(P \odot S_{r_j} O)|^2, \qquad j = 1..J,

with :math:`O` the complex object (shape :math:`M\times N`), :math:`P` the probe (:math:`m\times n`),
:math:`r_j` the patch corners (row, column; object pixels) and :math:`\mathcal F` the centred unitary
DFT.  Simulation lives in :mod:`recon.ptycho.simulate`, reconstruction in :mod:`recon.ptycho.reconstruct`,
files in :mod:`recon.ptycho.files`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import finite, one_of, positive_int
from ..backend import asarray, namespace, to_numpy
from ..operators.ptychography import ExitWaves
from ..solvers.result import Result

__all__ = ["Scan", "PtychoResult", "fermat_spiral", "make_probe", "object_error", "illuminated"]

GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))  # 137.508 degrees


@dataclass
class Scan:
    """A ptychographic data set.

    Attributes
    ----------
    intensities : array, shape (J, m, n)
        Diffraction intensities, zero frequency in the centre (PtyLab's ``ptychogram``).
    positions : ndarray, shape (J, 2)
        Patch corners (row, column) in object pixels, float64 (sub-pixel allowed).
    object_shape : tuple of int
        Shape of the object grid the positions refer to.
    probe : array or None
        Known or initial probe (shape (m, n)), if any.
    wavelength, zo, dxd : float or None
        Wavelength, sample-detector distance and detector pixel size in metres (far field:
        object pixel size ``dxo = wavelength * zo / (n * dxd)``).
    entrance_pupil_diameter : float or None
        Probe diameter in metres (initial probe when none is given).
    """

    intensities: Any
    positions: np.ndarray
    object_shape: tuple
    probe: Any = None
    wavelength: float | None = None
    zo: float | None = None
    dxd: float | None = None
    entrance_pupil_diameter: float | None = None

    @property
    def dxo(self):
        """Object pixel size :math:`\\lambda z_o / (N_d\\,\\Delta x_d)` (None without geometry)."""
        if None in (self.wavelength, self.zo, self.dxd):
            return None
        return self.wavelength * self.zo / (self.intensities.shape[-1] * self.dxd)


@dataclass
class PtychoResult(Result):
    """:class:`~recon.solvers.result.Result` with the reconstructed ``probe`` and ``positions``."""

    probe: Any = None
    positions: Any = None

    def __repr__(self):
        return super().__repr__().replace("Result(", "PtychoResult(", 1)


# ---------------------------------------------------------------------------------------------
# geometry and probes
# ---------------------------------------------------------------------------------------------
def fermat_spiral(n: int, object_shape, probe_shape, *, integer: bool = True) -> np.ndarray:
    r"""``n`` patch corners on a Fermat spiral filling the object (Huang et al. 2014).

    Centres :math:`c + \rho\sqrt k\,(\cos k\theta_g, \sin k\theta_g)`, :math:`k = 0..n-1`,
    :math:`\theta_g` the golden angle, :math:`\rho` chosen so the outermost patch touches the
    object's edge; returned as corners (row, column), rounded when ``integer``.

    References
    ----------
    Huang, X., Yan, H., Harder, R., Hwu, Y., Robinson, I. K. & Chu, Y. S. (2014). Optimization of
    overlap uniformness for ptychography. *Opt. Express* 22, 12634.
    """
    n = positive_int(n, "n")
    M, N = (int(s) for s in object_shape)
    m, p = (int(s) for s in probe_shape)
    half = min(M - m, N - p) / 2.0
    if half < 0:
        raise ValueError(f"probe_shape {tuple(probe_shape)} is larger than object_shape {tuple(object_shape)}")
    k = np.arange(n, dtype=np.float64)
    rho = half / math.sqrt(max(n - 1, 1))
    r = rho * np.sqrt(k)
    corners = np.stack([(M - m) / 2.0 + r * np.sin(k * GOLDEN_ANGLE), (N - p) / 2.0 + r * np.cos(k * GOLDEN_ANGLE)], 1)
    corners = np.clip(corners, 0, [M - m, N - p])
    return np.rint(corners) if integer else corners


def make_probe(shape, diameter=None, *, kind: str = "disk", curvature: float = 1.0, seed=None,
               xp=None, dtype=None):
    r"""A probe of unit peak amplitude: a disk aperture, smooth or with a random phase screen.

    ``kind="disk"``: :math:`P(x) = D(x)\,e^{i\pi c |x|^2 / R^2}`, a soft-edged disk :math:`D` of
    ``diameter`` pixels (default half the shape) with a quadratic (defocus) phase of ``curvature``
    :math:`c` radians·π at the rim, which spreads the diffraction patterns.  ``kind="structured"``:
    the same disk times a smoothed random phase screen (a diffuser), whose speckle makes positions
    identifiable from the data alone.
    """
    one_of(kind, "kind", ("disk", "structured"))
    m, n = (int(s) for s in shape)
    diameter = finite(min(m, n) / 2.0 if diameter is None else diameter, "diameter", gt=0)
    y, x = np.meshgrid(np.arange(m) - m // 2, np.arange(n) - n // 2, indexing="ij")
    radius = np.hypot(y, x)
    rim = diameter / 2.0
    aperture = np.clip(rim + 0.5 - radius, 0.0, 1.0)  # one-pixel anti-aliased edge
    probe = aperture * np.exp(1j * math.pi * curvature * (radius / rim) ** 2)
    if kind == "structured":
        rng = np.random.default_rng(seed)
        screen = np.fft.ifft2(np.fft.fft2(rng.standard_normal((m, n))) * np.exp(
            -(np.fft.fftfreq(m)[:, None] ** 2 + np.fft.fftfreq(n)[None, :] ** 2) * (m * n) ** 0.5 / 2))
        screen = np.real(screen)
        probe = probe * np.exp(1j * math.pi * screen / max(np.abs(screen).max(), 1e-12))
    xp = namespace() if xp is None else xp
    return asarray(probe, xp=xp, dtype=xp.complex128 if dtype is None else dtype)


def illuminated(probe, positions, object_shape, fraction: float = 0.1):
    """Boolean mask (NumPy) of the well-lit object pixels.

    Those whose illumination :math:`\\sum_j|S_j^*P|^2` exceeds ``fraction`` of its maximum.
    """
    illum = to_numpy(ExitWaves(probe, positions, object_shape, subpixel=False).illumination())
    return illum > fraction * illum.max()


def object_error(x, truth, mask=None) -> float:
    r"""Relative error after the best complex scalar, :math:`\min_a\|a x - O\|/\|O\|` on ``mask``.

    The minimiser is :math:`a = \langle x, O\rangle/\|x\|^2`; ptychography determines the object only
    up to such a global factor (and, with an unknown probe, trades it with the probe).
    """
    x, t = to_numpy(x), to_numpy(truth)
    if mask is not None:
        x, t = x[mask], t[mask]
    a = np.vdot(x, t) / max(np.vdot(x, x).real, np.finfo(float).tiny)
    return float(np.linalg.norm(a * x - t) / np.linalg.norm(t))
