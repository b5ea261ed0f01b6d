"""``recon.ptycho``: ptychography for people who do not want the algebra.

>>> import numpy as np
>>> from recon import ptycho
>>> obj = np.exp(1j * np.random.default_rng(0).uniform(0, 1, (64, 64)))
>>> probe = ptycho.make_probe((16, 16), 10)
>>> scan = ptycho.simulate(obj, probe, ptycho.fermat_spiral(40, (64, 64), (16, 16)))
>>> result = ptycho.reconstruct(scan, iters=20, refine_probe=False)
>>> result.history["residual"][-1] < 1e-2
True

Forward model and conventions: :mod:`recon.apps.ptycho` (and the operators in
:mod:`recon.operators.ptychography`); files: :mod:`recon.apps.ptycho_io`.
"""
from .apps.ptycho import (
    METHODS,
    PtychoResult,
    Scan,
    fermat_spiral,
    illuminated,
    make_probe,
    object_error,
    reconstruct,
    simulate,
)
from .apps.ptycho_io import load, save
from .operators.ptychography import ExitWaves, FarField, NearField, ProbeExitWaves

__all__ = ["Scan", "PtychoResult", "METHODS", "fermat_spiral", "make_probe", "illuminated", "object_error",
           "simulate", "reconstruct", "load", "save", "ExitWaves", "FarField", "NearField", "ProbeExitWaves"]
