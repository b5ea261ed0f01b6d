"""recon: variational inverse problems on NumPy and CuPy.

A reconstruction is operators (what the instrument does) plus functionals (what we believe
about data and image) handed to a solver (how we minimise).  ``recon.denoise`` and
``recon.deblur`` and ``recon.ct.reconstruct`` do it end to end; ``recon.data`` and ``recon.metrics`` give test images and
quality measures.
"""
__version__ = "0.1.0"

from . import backend, functionals, operators, solvers  # noqa: E402
from . import ct, data, io, metrics, ptycho  # noqa: E402
from . import learned  # noqa: E402  (no torch: the trainers import it when used)
from .apps import deblur, denoise, fuse  # noqa: E402
