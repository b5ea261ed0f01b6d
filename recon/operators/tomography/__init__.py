r"""Computed tomography's forward models: the parallel-beam geometry and the projector with its exact adjoint.

::

    tomography/
      parallel.py   the geometry (pixel centres, angles, detector bins), its checks and default detector
      radon.py      Radon: pixel-driven projector, linear-interpolation backprojection as its exact transpose
      symmetry.py   symmetries of the pixel grid that let related angles share one projection's indices
      ramp.py       filtered backprojection's ramp filters and angular quadrature weights

:mod:`recon.ct` builds reconstructions (FBP, variational, stacks) on top of these; the operator is also
:class:`recon.operators.Radon`.
"""
from .parallel import SUBBINS, check_angles, check_image_shape, default_detectors
from .radon import Radon
from .ramp import FILTERS, angular_weights, filter_sinogram

__all__ = ["Radon", "SUBBINS", "default_detectors", "check_angles", "check_image_shape", "FILTERS",
           "filter_sinogram", "angular_weights"]
