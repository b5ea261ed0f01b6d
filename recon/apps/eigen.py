r"""Eigenfunctions of total variation by the nonlinear power method, from any start image.

An eigenfunction of TV is an image :math:`u` with :math:`\lambda u \in \partial\,\mathrm{TV}(u)`:
TV denoising shrinks it without changing its shape.  Starting from an image (a shape, or noise),
the nonlinear power method :math:`u \leftarrow \operatorname{prox}_{t\mathrm{TV}}(u) / \|\cdot\|`
converges to such an eigenfunction, with a non-increasing Rayleigh quotient
:math:`\mathrm{TV}(u)/\|u\|` (Bungert et al. 2021).

The step :math:`t_k = s\,\|u_k\|/\mathrm{TV}(u_k)` is scaled to the current Rayleigh quotient:
a fixed step either barely moves the iterate (too small) or wipes it out (:math:`t\lambda \ge 1`);
with the scaled step each iteration shrinks by a factor close to :math:`1 - s`, and a fixed point
is still an eigenfunction.  Images are taken relative to their mean (the constants are TV's null
space and the prox leaves them untouched).
"""
from __future__ import annotations

from ..backend import array_namespace, check_finite
from ..functionals.tv import TV
from ..operators.base import norm
from ..solvers.power_method import nonlinear_power_method

__all__ = ["tv_eigenfunction"]


def tv_eigenfunction(image, *, isotropic: bool = True, step: float = 0.5, iters: int = 500, tol: float = 1e-4,
                     inner_tol: float = 1e-7, progress: bool = False, callback=None):
    r"""Nonlinear power method for TV started at ``image`` (mean removed).

    Parameters
    ----------
    image : array
        Start, any dimension; must not be constant.
    isotropic : bool
        Isotropic (Euclidean) or anisotropic TV.
    step : float
        :math:`s \in (0, 1)`: the prox step relative to the current Rayleigh quotient.
    iters, tol : int, float
        Power-method budget and eigen-residual tolerance (see
        :func:`~recon.solvers.nonlinear_power_method`).
    inner_tol : float
        Relative duality gap of each TV prox; the eigen-residual cannot be certified much below it.

    Returns
    -------
    Result
        ``x`` the eigenfunction (zero mean, unit norm), ``history["rayleigh"]`` the Rayleigh
        quotients, ``extras["eigenvalue"]`` :math:`\lambda = \mathrm{TV}(x)/\|x\|^2`.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.apps.eigen import tv_eigenfunction
    >>> square = np.zeros((16, 16)); square[4:12, 4:12] = 1.0
    >>> res = tv_eigenfunction(square)
    >>> bool(res.converged)
    True
    """
    if not hasattr(image, "shape"):
        raise TypeError(f"image must be an array, got {type(image).__name__}")
    check_finite(image, "image")
    if not 0 < step < 1:
        raise ValueError(f"step must be in (0, 1), got {step}")
    xp = array_namespace(image)
    u0 = image - float(xp.mean(image))
    if norm(u0) == 0:
        raise ValueError("image is constant: it has no non-trivial TV eigenfunction to start from")
    tv = TV(isotropic=isotropic, inner_tol=inner_tol, inner_iters=20000)

    def T(u):
        return tv.prox(u, step * norm(u) / tv(u))

    result = nonlinear_power_method(T, u0, J=tv, subtract_mean=True, iters=iters, tol=tol, progress=progress,
                                    callback=callback)
    result.extras["eigenvalue"] = tv(result.x) / norm(result.x) ** 2
    return result
