r"""CT with a learned convex ridge regularizer (``recon.ct.reconstruct(..., method="crr")``).

.. math::
    \min_{x (\ge 0)}\ \tfrac12\|W^{1/2}(Ax - p)\|^2 + w\,R(x),

:math:`R` the CRR-NN (:func:`recon.learned.weights.ridge_regularizer`: the published convex model
when readable, else the one recon ships) at the noise level ``sigma``.  :math:`R` is convex with a
Lipschitz gradient, so FISTA with adaptive restart (step :math:`1/(\|W^{1/2}A\|^2 + wL_R)`, the
projection on :math:`x \ge 0` as the prox) converges to a minimiser.
"""
from __future__ import annotations

import math

from ..functionals import L2DataFidelity, NonNegativity
from ..solvers import fista

__all__ = ["ridge_reconstruct", "DEFAULT_SIGMA"]

DEFAULT_SIGMA = 25 / 255  # the noise level of the shipped CRR-NN; a tuning parameter like the weight


def ridge_reconstruct(B, b, x0, weight, sigma, nonneg, iters, tol, progress, callback, return_result):
    """FISTA on the (whitened) data term plus ``weight`` times the CRR-NN at noise level ``sigma``."""
    from .denoise import ridge_at_noise_level

    sigma = DEFAULT_SIGMA if sigma is None else float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma}")
    reg = ridge_at_noise_level("crr", sigma)
    f = L2DataFidelity(b, B) + weight * reg
    result = fista(f, NonNegativity() if nonneg else None, x0, iters=iters, tol=tol, callback=callback,
                   progress=progress)
    result.message = f"CRR-NN (sigma {sigma:.4g}) by FISTA: {result.message}"
    return result if return_result else result.x
