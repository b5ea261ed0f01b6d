r"""CT with a learned ridge regularizer (``recon.ct.reconstruct(..., method="crr" | "wcrr" | ...)``).

.. math::
    \min_{x (\ge 0)}\ \tfrac12\|W^{1/2}(Ax - p)\|^2 + w\,R(x),

:math:`R` the learned ridge regularizer (:func:`recon.learned.weights.ridge_regularizer`) at the
noise level ``sigma``:

* ``"crr"``: the convex CRR-NN recon ships (``"crr-published"``: the authors' checkpoint).
  :math:`R` is convex with a Lipschitz gradient, so FISTA with adaptive restart (step
  :math:`1/(\|W^{1/2}A\|^2 + wL_R)`, the projection on :math:`x \ge 0` as the prox) converges
  to a minimiser.
* ``"wcrr"``: the WCRR-NN recon ships (``"wcrr-published"``: the authors' checkpoint).
  :math:`R` is weakly convex and the sparse-view
  problem is non-convex, so the solver is the monotone accelerated proximal gradient of Li & Lin
  (2015), :func:`recon.solvers.monotone_apg`, with the same step and prox: the objective
  is non-increasing and every accumulation point of the iterates is a critical point
  (:math:`0 \in \nabla D(x) + w\nabla R(x) + N_{\{x\ge0\}}(x)`).  It stops on the relative
  change or on the relative stationarity residual of its last step, both ``tol``.

The names resolve in :mod:`recon.learned.weights`: ``"crr"`` and ``"wcrr"`` always mean the
shipped models, whatever is installed.  All start from ``x0`` (:func:`recon.ct.reconstruct` passes
the FBP by default).
"""
from __future__ import annotations

from .._checks import finite
from ..apps.denoise import RIDGE, ridge_at_noise_level
from ..functionals import L2DataFidelity, NonNegativity
from ..functionals.ridge import RidgeRegularizer
from ..solvers import fista, monotone_apg

__all__ = ["ridge_reconstruct", "DEFAULT_SIGMA", "LEARNED"]

LEARNED = RIDGE  # the method names of the learned models: "crr", "wcrr", "crr-published", "wcrr-published"

DEFAULT_SIGMA = 25 / 255  # the learned model's noise level S in CT: a tuning parameter like the weight


def ridge_reconstruct(B, b, x0, weight, sigma, nonneg, iters, tol, progress, callback, return_result, reg="crr"):
    """``weight`` times the ridge regularizer ``reg`` (a name of :data:`LEARNED` or an instance) on the whitened data.

    Convex regularizer (``weak_convexity == 0``): FISTA; weakly convex: :func:`monotone_apg`.
    """
    if not (reg in LEARNED or isinstance(reg, RidgeRegularizer)):
        raise ValueError(f"reg must be one of {list(LEARNED)} or a RidgeRegularizer, got {reg!r}")
    sigma = finite(DEFAULT_SIGMA if sigma is None else sigma, "sigma", gt=0)
    R = ridge_at_noise_level(reg, sigma, like=b)  # its FileNotFoundError names where the weights may be
    f = L2DataFidelity(b, B) + weight * R
    g = NonNegativity() if nonneg else None
    name = reg.split("-")[0].upper() + "-NN" if isinstance(reg, str) else "ridge regularizer"
    if isinstance(reg, str) and reg.endswith("-published"):
        name = "published " + name
    if R.weak_convexity > 0 and weight > 0:
        result = monotone_apg(f, g, x0, iters=iters, tol=tol, stationarity_tol=tol, callback=callback,
                              progress=progress)
        how = "monotone APG (Li & Lin 2015)"
    else:
        result = fista(f, g, x0, iters=iters, tol=tol, callback=callback, progress=progress)
        how = "FISTA"
    result.message = f"{name} (sigma {sigma:.4g}) by {how}: {result.message}"
    return result if return_result else result.x
