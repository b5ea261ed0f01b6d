"""``recon.ct``: parallel-beam computed tomography for people who do not want the algebra.

>>> from recon import ct, data
>>> u = data.shepp_logan(64)
>>> angles = ct.uniform_angles(60)
>>> p = ct.sinogram(u, angles, noise=0.01, seed=0)
>>> x = ct.reconstruct(p, angles, method="tv", weight=0.5)

The forward model is :class:`recon.operators.radon.Radon` (its docstring states the geometry);
:func:`fbp` inverts it analytically and :func:`reconstruct` variationally; :func:`reconstruct_stack`
runs a stack of slices through Dask (``dask`` extra).
"""
from .apps.ct import FILTERS, METHODS, angles_from_degrees, fbp, reconstruct, sinogram, uniform_angles
from .apps.ct_stack import reconstruct_stack
from .operators.radon import Radon, angular_weights, default_detectors, filter_sinogram

__all__ = ["Radon", "FILTERS", "METHODS", "angles_from_degrees", "uniform_angles", "sinogram", "fbp",
           "reconstruct", "reconstruct_stack", "angular_weights", "default_detectors", "filter_sinogram"]
