r"""Angles and the checks shared by CT's entry points: sinogram and image arrays, angles, image shapes.

The geometry itself (pixel centres, rays, detector bins) is that of
:mod:`recon.operators.tomography.parallel`; these functions put users' arguments into it and raise
errors that name the argument.
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import finite, positive_int
from ..backend import array_namespace, check_finite
from ..operators.tomography import check_angles, check_image_shape

__all__ = ["angles_from_degrees", "uniform_angles", "check_real_array", "check_sinogram", "image_shape"]


def angles_from_degrees(degrees) -> np.ndarray:
    """Angles in radians (float64 NumPy array) from angles in degrees, checked 1-D, non-empty, finite."""
    return check_angles(degrees, degrees=True)


def uniform_angles(n: int, arc: float = math.pi) -> np.ndarray:
    r"""``n`` equispaced angles :math:`\theta_a = a\,\mathrm{arc}/n` in :math:`[0, \mathrm{arc})` (radians)."""
    n = positive_int(n, "n")
    arc = finite(arc, "arc", gt=0)
    return np.arange(n) * (arc / n)


def check_real_array(x, name, ndim):
    """Namespace of ``x``, checked to be a finite real floating ``ndim``-D array; errors name ``name``."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    xp = array_namespace(x)
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"{name} must be a real floating array, got dtype {x.dtype}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}")
    check_finite(x, name)
    return xp


def check_sinogram(sino, angles, degrees):
    """Namespace of a checked sinogram and its checked angles (radians), one per row."""
    xp = check_real_array(sino, "sinogram", 2)
    theta = check_angles(angles, degrees)
    if sino.shape[0] != theta.size:
        raise ValueError(f"sinogram has shape {tuple(sino.shape)} but angles has {theta.size} entries: "
                         f"expected (n_angles, n_detectors) = ({theta.size}, n_detectors)")
    return xp, theta


def image_shape(shape, n_det, ds):
    """``shape`` checked, or by default the largest square inside the detector's field of view."""
    if shape is None:
        n = max(1, math.floor((n_det - 1) * ds / math.sqrt(2.0)))
        return (n, n)
    return check_image_shape(shape)
