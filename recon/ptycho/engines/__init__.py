r"""The reconstruction engines of :func:`recon.ptycho.reconstruct`: one sweep function per family.

::

    engines/
      problem.py    Problem: amplitudes in FFT order, the Fourier-modulus projection (shared by all)
      pie.py        pie_sweep: ePIE and rPIE, one position at a time in random order (+ Shifts)
      gradient.py   gd_sweep: full-batch overlap-normalised majorise-minimise step; overlap()

Every sweep has the signature ``sweep(problem, obj, probe, pos, method, alpha, beta, refine_probe,
rng, system=None) -> (obj, probe, residual)``; groups of positions (``batch=``) run through
:func:`recon.ptycho.batches.batch_sweep`, which shares it.  :data:`METHODS` names the methods and
:data:`SWEEPS` maps each to its sequential (PIE) or full-batch (``"gd"``) sweep.
"""
from .gradient import gd_sweep, overlap
from .pie import Shifts, pie_sweep
from .problem import Problem

__all__ = ["METHODS", "SWEEPS", "Problem", "Shifts", "pie_sweep", "gd_sweep", "overlap"]

SWEEPS = {"rpie": pie_sweep, "epie": pie_sweep, "gd": gd_sweep}
METHODS = tuple(SWEEPS)
