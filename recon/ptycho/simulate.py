r"""Simulated ptychographic scans: :math:`I_j = |\mathcal F(P\odot S_{r_j}O)|^2`, optionally Poisson-noisy."""
from __future__ import annotations

import numpy as np

from .._checks import finite
from ..backend import array_namespace, asarray, check_finite, to_numpy
from ..operators.ptychography import ExitWaves, FarField
from .files import save
from .scan import Scan

__all__ = ["simulate"]

_AXES = (-2, -1)


def simulate(obj, probe, positions, *, photons=None, seed=None, path=None, force=False, **geometry) -> Scan:
    r"""Diffraction intensities :math:`I_j = |\mathcal F(P\odot S_{r_j}O)|^2`, optionally Poisson-noisy.

    Parameters
    ----------
    obj : array, shape (M, N)
        Complex object; fixes namespace and precision of the intensities.
    probe : array, shape (m, n)
    positions : array_like, shape (J, 2)
        Patch corners (row, column), e.g. from :func:`fermat_spiral`.
    photons : float, optional
        Mean photon count per diffraction pattern; counts are Poisson with that mean total.
        ``None``: noiseless.
    seed : int, optional
        Seed of the Poisson noise.
    path : str or Path, optional
        Also write the scan: ``.npz`` (recon's format) or ``.h5``/``.hdf5`` (PtyLab's CPM format;
        needs ``wavelength``, ``zo``, ``dxd`` in ``geometry``), atomically; an existing file is an
        error unless ``force``.
    **geometry
        ``wavelength``, ``zo``, ``dxd``, ``entrance_pupil_diameter`` (metres), stored in the scan.
    """
    xp = array_namespace(obj, probe)
    if obj.ndim != 2:
        raise ValueError(f"obj must be a 2-D array, got shape {tuple(obj.shape)}")
    check_finite(obj, "obj")
    A = ExitWaves(probe, positions, tuple(obj.shape))
    psi = A(obj)
    z = FarField(A.shape_out)(psi)
    intensities = xp.real(z) ** 2 + xp.imag(z) ** 2
    if photons is not None:
        photons = finite(photons, "photons", gt=0)
        mean_total = float(xp.mean(xp.sum(intensities, axis=_AXES)))
        lam = to_numpy(intensities) * (photons / mean_total)
        counts = np.random.default_rng(seed).poisson(lam).astype(lam.dtype)
        intensities = asarray(counts, xp=xp)
    scan = Scan(intensities, A.positions.copy(), tuple(obj.shape), probe, **geometry)
    if path is not None:
        save(path, scan, force=force)
    return scan
