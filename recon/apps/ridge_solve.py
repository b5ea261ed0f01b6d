"""Former home of :func:`~recon.solvers.monotone_apg`; it lives in :mod:`recon.solvers.monotone_apg` now.

Kept so that ``from recon.apps.ridge_solve import monotone_apg`` (the deblurring app) still works.
"""
from ..solvers.monotone_apg import monotone_apg, prox_gradient_residual

__all__ = ["monotone_apg", "prox_gradient_residual"]
