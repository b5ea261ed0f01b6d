r"""Blind image fusion with directional TV: sharpen low-resolution bands with a high-resolution photograph.

.. math::
    \min_{u, k, w}\ \tfrac12\|S\,C\,(k * W_w u) - f\|^2 + \lambda_u\,\mathrm{dTV}_v(u) + \lambda_k\,\mathrm{TV}(k)
    + \iota_{u \ge 0}(u) + \iota_\Delta(k)

:func:`fuse` (also ``recon.fuse``) is the face: one band, or a stack of bands.

Modules::

    fusion/
      fuse.py      fuse: one band (h, w) or a stack (bands, h, w); the documented entry point
      _single.py   the single-band core both fuse and fuse_bands call: checks, model, start, PALM
      bands.py     fuse_bands: one fusion per band, through Dask when installed; shared kernel and warp
      model.py     FusionModel: f = S C (k * W u) by FFTs on the working domain, its two linear maps
      palm.py      palm and FusionResult: the PALM iteration (image, kernel, warp blocks, backtracked steps)
      pyramid.py   coarse-to-fine start of the registration (halved data, halved kernel)

Examples
--------
>>> import numpy as np
>>> import recon
>>> photo = np.random.default_rng(0).random((16, 16))
>>> band = photo.reshape(4, 4, 4, 4).mean(axis=(1, 3))
>>> recon.fuse(band, photo, 4, kernel_size=3, iters=2).x.shape
(16, 16)
"""
from ._single import REGISTRATIONS, REGS
from .bands import fuse_bands
from .fuse import fuse
from .model import FusionModel
from .palm import FusionResult, palm

__all__ = ["REGISTRATIONS", "REGS", "FusionModel", "FusionResult", "fuse", "fuse_bands", "palm"]
