"""Reading and writing ptychographic scans: recon's ``.npz`` and PtyLab's CPM HDF5 format.

PtyLab's CPM files hold ``ptychogram`` (J, Nd, Nd), ``encoder`` (J, 2) stage positions in metres,
``wavelength``, ``zo`` (sample–detector distance), ``dxd`` (detector pixel), optionally ``No``
(object grid size) and ``entrancePupilDiameter``.  The object pixel is
:math:`\\Delta x_o = \\lambda z_o/(N_d \\Delta x_d)` and PtyLab places patch corners at
``round(encoder / dxo) + No // 2 - Nd // 2`` (``PtyLab.Reconstruction``).  :func:`load` applies
the same rule by default, so recon and PtyLab see the same corners (PtyLab's own simulation
computes its patterns at those rounded corners, from encoder readings that are not integers);
``load(path, subpixel=True)`` keeps the sub-pixel remainder instead, a better start for
position refinement when the encoder readings are the truth.
"""
from __future__ import annotations

import os

import numpy as np

from ..backend import namespace, to_numpy
from ..io import atomic_write
from .scan import Scan

__all__ = ["load", "save"]

_H5 = (".h5", ".hdf5")


def _suffix(path):
    return os.path.splitext(os.fspath(path))[1].lower()


def load(path, *, backend=None, subpixel: bool = False) -> Scan:
    """Read a scan from ``.npz`` (recon) or ``.h5``/``.hdf5`` (PtyLab CPM); arrays on ``backend``.

    PtyLab files: positions are ``round(encoder / dxo) + No // 2 - Nd // 2`` (PtyLab's rule), or,
    with ``subpixel=True``, ``encoder / dxo + No // 2 - Nd // 2`` unrounded; without ``No`` in the
    file the object grid is the smallest power of two holding the scan.  recon's ``.npz`` files
    store the positions as simulated.

    Raises ``ValueError`` naming ``path`` for an unknown suffix, a missing field or an unreadable file.
    """
    xp = namespace(backend)
    suffix = _suffix(path)
    if suffix not in _H5 + (".npz",):
        raise ValueError(f"path must end in .npz, .h5 or .hdf5, got {os.fspath(path)!r}")
    try:
        if suffix == ".npz":
            with np.load(path) as f:
                fields = {k: f[k] for k in f.files}
        else:
            import h5py

            with h5py.File(path, "r") as f:
                fields = {k: np.asarray(f[k]) for k in f.keys()}
    except ImportError:
        raise
    except Exception as err:
        raise ValueError(f"path {os.fspath(path)!r} could not be read as a ptychography scan: {err}") from err
    if "ptychogram" not in fields:
        raise ValueError(f"path {os.fspath(path)!r} has no 'ptychogram' field")
    intensities = np.asarray(fields["ptychogram"], dtype=np.float64)
    if intensities.ndim != 3:
        raise ValueError(f"ptychogram in {os.fspath(path)!r} must be (J, m, n), got {intensities.shape}")
    J, nd = intensities.shape[0], intensities.shape[-1]

    def scalar(key):
        return float(np.asarray(fields[key]).reshape(-1)[0]) if key in fields else None

    wavelength, zo, dxd = scalar("wavelength"), scalar("zo"), scalar("dxd")
    if "positions" in fields:  # recon's own: corners in object pixels
        positions = np.asarray(fields["positions"], dtype=np.float64)
        object_shape = tuple(int(v) for v in fields["object_shape"])
    else:
        missing = [k for k in ("encoder", "wavelength", "zo", "dxd") if k not in fields]
        if missing:
            raise ValueError(f"path {os.fspath(path)!r} lacks {missing} (PtyLab CPM fields)")
        dxo = wavelength * zo / (nd * dxd)
        encoder = np.asarray(fields["encoder"], dtype=np.float64).reshape(J, 2)
        extent = np.max(np.abs(encoder), axis=0).max() / dxo
        No = int(scalar("No")) if "No" in fields else int(2 ** np.ceil(np.log2(2 * extent + nd + 2)))
        positions = encoder / dxo
        # float32 files: readings a rounding error away from an integer are that integer
        positions = np.where(np.abs(positions - np.rint(positions)) < 1e-4, np.rint(positions), positions)
        positions = (positions if subpixel else np.rint(positions)) + No // 2 - nd // 2
        object_shape = (No, No)
    probe = fields.get("probe")
    return Scan(
        intensities=xp.asarray(intensities),
        positions=positions,
        object_shape=object_shape,
        probe=None if probe is None else xp.asarray(np.asarray(probe, dtype=np.complex128)),
        wavelength=wavelength, zo=zo, dxd=dxd,
        entrance_pupil_diameter=scalar("entrancePupilDiameter"),
    )


def save(path, scan: Scan, *, force: bool = False) -> None:
    """Write ``scan`` atomically as ``.npz`` (recon) or ``.h5``/``.hdf5`` (PtyLab CPM: needs the geometry).

    An existing ``path`` is an error unless ``force``; a failed write leaves nothing behind.
    """
    suffix = _suffix(path)
    if suffix not in _H5 + (".npz",):
        raise ValueError(f"path must end in .npz, .h5 or .hdf5, got {os.fspath(path)!r}")
    fields = {"ptychogram": to_numpy(scan.intensities)}
    for key, value in (("wavelength", scan.wavelength), ("zo", scan.zo), ("dxd", scan.dxd),
                       ("entrancePupilDiameter", scan.entrance_pupil_diameter)):
        if value is not None:
            fields[key] = np.asarray(value, dtype=np.float64)
    if scan.probe is not None:
        fields["probe"] = to_numpy(scan.probe)
    if suffix == ".npz":
        fields["positions"] = np.asarray(scan.positions, dtype=np.float64)
        fields["object_shape"] = np.asarray(scan.object_shape, dtype=np.int64)
        atomic_write(path, lambda f: np.savez(f, **fields), force=force)
        return
    if scan.dxo is None:
        raise ValueError("writing PtyLab's format needs wavelength, zo and dxd in the scan")
    nd, No = fields["ptychogram"].shape[-1], scan.object_shape[0]
    # Inverse of PtyLab's rule: corner = encoder / dxo + No // 2 - Nd // 2.
    fields["encoder"] = (np.asarray(scan.positions) - No // 2 + nd // 2) * scan.dxo
    fields["No"] = np.asarray(No)
    import h5py

    def write(f):
        with h5py.File(f, "w") as h5:
            for key, value in fields.items():
                h5.create_dataset(key, data=value)

    atomic_write(path, write, force=force)
