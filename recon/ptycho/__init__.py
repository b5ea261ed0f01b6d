"""``recon.ptycho``: ptychography for people who do not want the algebra.

>>> import numpy as np
>>> from recon import ptycho
>>> obj = np.exp(1j * np.random.default_rng(0).uniform(0, 1, (64, 64)))
>>> probe = ptycho.make_probe((16, 16), 10)
>>> scan = ptycho.simulate(obj, probe, ptycho.fermat_spiral(40, (64, 64), (16, 16)))
>>> result = ptycho.reconstruct(scan, iters=20, refine_probe=False)
>>> result.history["residual"][-1] < 1e-2
True

The package (everything users need is exported here; the modules are for readers and extenders)::

    ptycho/
      scan.py         Scan (data + geometry), PtychoResult, fermat_spiral, make_probe, illuminated,
                      object_error
      files.py        load / save: recon's .npz and PtyLab's CPM HDF5 (h5py imported on use)
      simulate.py     simulate: diffraction intensities of an object, optionally Poisson-noisy
      reconstruct.py  reconstruct: argument checks, defaults and the one loop over sweeps
      engines/        one sweep per family, METHODS and SWEEPS (the registry)
        problem.py    Problem: amplitudes in FFT order and the Fourier-modulus projection
        pie.py        ePIE / rPIE, one position at a time
        gradient.py   "gd": full-batch overlap-normalised steps; overlap()
      batches.py      batch_sweep: the same updates by groups of positions (batch=...)
      positions.py    position refinement: smoothed Gauss-Newton shifts, coarse to fine
      prior.py        ObjectProx: a regulariser on the object's real and imaginary parts

Forward model and conventions: :mod:`recon.ptycho.scan` and :mod:`recon.ptycho.reconstruct` (and the
operators in :mod:`recon.operators.ptychography`, re-exported here); files: :mod:`recon.ptycho.files`.
"""
from ..operators.ptychography import ExitWaves, FarField, NearField, ProbeExitWaves
from .engines import METHODS
from .files import load, save
from .reconstruct import reconstruct
from .scan import (
           PtychoResult,
           Scan,
           fermat_spiral,
           illuminated,
           make_probe,
           object_error,
)
from .simulate import simulate

__all__ = ["Scan", "PtychoResult", "METHODS", "fermat_spiral", "make_probe", "illuminated", "object_error",
           "simulate", "reconstruct", "load", "save", "ExitWaves", "FarField", "NearField", "ProbeExitWaves"]
