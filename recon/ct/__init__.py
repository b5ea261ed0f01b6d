"""``recon.ct``: parallel-beam computed tomography for people who do not want the algebra.

>>> from recon import ct, data
>>> u = data.shepp_logan(64)
>>> angles = ct.uniform_angles(60)
>>> p = ct.sinogram(u, angles, noise=0.01, seed=0)
>>> x = ct.reconstruct(p, angles, method="tv", weight=0.5)

The forward model is :class:`recon.operators.tomography.Radon` (:mod:`recon.operators.tomography.parallel`
states the geometry); :func:`fbp` inverts it analytically and :func:`reconstruct` variationally;
:func:`reconstruct_stack` runs a stack of slices through Dask (``dask`` extra).

::

    ct/
      geometry.py         angles (uniform, from degrees) and the checks of sinograms, angles, image shapes
      simulate.py         sinogram: simulated data with Gaussian noise or Poisson counts
      backprojection.py   fbp: filtered backprojection
      variational.py      reconstruct: Landweber, CGLS, Tikhonov, TV and the learned priors, Gaussian or
                          Poisson (weighted least-squares) data terms
      learned.py          CRR-NN / WCRR-NN ridge regularizers as CT priors (FISTA, monotone APG)
      stack.py            reconstruct_stack: one Dask task per slice (dask imported on use)
"""
from ..operators.tomography import FILTERS, Radon, angular_weights, default_detectors, filter_sinogram
from .backprojection import fbp
from .geometry import angles_from_degrees, uniform_angles
from .simulate import sinogram
from .stack import reconstruct_stack
from .variational import METHODS, reconstruct

__all__ = ["Radon", "FILTERS", "METHODS", "angles_from_degrees", "uniform_angles", "sinogram", "fbp",
           "reconstruct", "reconstruct_stack", "angular_weights", "default_detectors", "filter_sinogram"]
