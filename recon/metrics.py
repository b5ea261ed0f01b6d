r"""Image quality against a reference: PSNR, SSIM, relative error.

All three take the reconstruction first and the reference second, both arrays of the same
shape and the same library; they return Python floats.  :func:`psnr` and
:func:`relative_error` are computed in the arrays' own library (no host copy);
:func:`ssim` copies both arrays to the host and calls scikit-image.

The default dynamic range is that of the *reference*, :math:`\max(\mathrm{ref}) - \min(\mathrm{ref})`,
so results do not depend on how the reconstruction over- or undershoots.  scikit-image's
defaults differ (the range of the dtype); pass ``data_range=1.0`` to compare with it on
images in :math:`[0, 1]`.
"""
from __future__ import annotations

import math

from ._checks import finite
from .backend import array_namespace, to_numpy

__all__ = ["psnr", "ssim", "relative_error"]


def _check_pair(x, ref):
    xp = array_namespace(x, ref)
    if tuple(x.shape) != tuple(ref.shape):
        raise ValueError(f"x has shape {tuple(x.shape)} but ref has shape {tuple(ref.shape)}; they must match")
    if x.ndim == 0 or math.prod(x.shape) == 0:
        raise ValueError(f"x and ref must be non-empty images, got shape {tuple(x.shape)}")
    return xp


def _data_range(xp, ref, data_range) -> float:
    if data_range is None:
        data_range = float(xp.max(ref)) - float(xp.min(ref))
        if data_range == 0:
            raise ValueError("ref is constant, so its range is 0; pass data_range explicitly")
        return data_range
    return finite(data_range, "data_range", gt=0)


def psnr(x, ref, data_range=None) -> float:
    r"""Peak signal-to-noise ratio in decibels.

    .. math::
        \mathrm{PSNR}(x, \mathrm{ref}) = 10 \log_{10} \frac{R^2}{\tfrac1N \|x - \mathrm{ref}\|_2^2}

    with :math:`N` the number of pixels and :math:`R` the dynamic range.

    Parameters
    ----------
    x, ref : array
        Reconstruction and reference, same shape and library.
    data_range : float, optional
        :math:`R`; default :math:`\max(\mathrm{ref}) - \min(\mathrm{ref})`.

    Returns
    -------
    float
        ``inf`` when ``x`` equals ``ref``.

    Raises
    ------
    ValueError
        If the shapes differ or ``data_range`` is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.metrics import psnr
    >>> ref = np.linspace(0.0, 1.0, 100)
    >>> round(psnr(ref + 0.1, ref), 6)   # MSE 0.01, range 1
    20.0
    """
    xp = _check_pair(x, ref)
    r = _data_range(xp, ref, data_range)
    diff = x - ref
    mse = float(xp.mean(diff * diff))
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(r * r / mse)


def relative_error(x, ref) -> float:
    r"""Relative error :math:`\|x - \mathrm{ref}\|_2 / \|\mathrm{ref}\|_2`.

    Raises
    ------
    ValueError
        If the shapes differ or ``ref`` is zero.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.metrics import relative_error
    >>> round(relative_error(np.array([3.0, 4.0]) * 1.1, np.array([3.0, 4.0])), 12)
    0.1
    """
    xp = _check_pair(x, ref)
    diff = x - ref
    num = math.sqrt(float(xp.sum(diff * diff)))
    den = math.sqrt(float(xp.sum(ref * ref)))
    if den == 0:
        raise ValueError("ref is zero, so the relative error is undefined")
    return num / den


def ssim(x, ref, data_range=None, **kwargs) -> float:
    r"""Mean structural similarity index (Wang et al. 2004), via scikit-image on host copies.

    .. math::
        \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + c_1)(2\sigma_{xy} + c_2)}
        {(\mu_x^2 + \mu_y^2 + c_1)(\sigma_x^2 + \sigma_y^2 + c_2)},
        \quad c_1 = (0.01 R)^2,\ c_2 = (0.03 R)^2,

    averaged over local windows.  Both arrays are copied to the host
    (:func:`recon.backend.to_numpy`) and passed to
    :func:`skimage.metrics.structural_similarity`; a CuPy input therefore costs two
    device-to-host copies.

    Parameters
    ----------
    x, ref : array
        Reconstruction and reference, same shape and library; each side at least 7 pixels
        (the default window).
    data_range : float, optional
        :math:`R`; default :math:`\max(\mathrm{ref}) - \min(\mathrm{ref})`.
    **kwargs
        Passed to scikit-image (``win_size``, ``gaussian_weights``, ...).

    References
    ----------
    Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality assessment: from
    error visibility to structural similarity", IEEE Trans. Image Process. 13 (2004) 600–612.

    Examples
    --------
    >>> import numpy as np
    >>> from recon.metrics import ssim
    >>> ref = np.random.default_rng(0).random((32, 32))
    >>> ssim(ref, ref)
    1.0
    """
    from skimage.metrics import structural_similarity

    xp = _check_pair(x, ref)
    r = _data_range(xp, ref, data_range)
    return float(structural_similarity(to_numpy(x), to_numpy(ref), data_range=r, **kwargs))
