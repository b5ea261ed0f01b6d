r"""Parallel-beam geometry: pixel centres, angles and detector bins shared by the projector and FBP.

An image of shape ``(ny, nx)`` has unit square pixels; pixel ``(i, j)`` (row, column) is centred at

.. math::
    x_j = j - \tfrac{n_x - 1}{2}, \qquad y_i = \tfrac{n_y - 1}{2} - i,

so :math:`x` points right, :math:`y` points *up* (row 0 is the top) and the rotation axis is the
centre of the image.  For the angle :math:`\theta` (radians) a ray is the line
:math:`x\cos\theta + y\sin\theta = s`: at :math:`\theta = 0` the rays run down the columns and
:math:`s = x`; at :math:`\theta = \pi/2` they run along the rows and :math:`s = y`.  Detector bin
:math:`k = 0, \dots, n_d - 1` is centred at :math:`s_k = (k - c)\,\Delta s` with ``center``
:math:`c` (default :math:`(n_d - 1)/2`) and ``detector_spacing`` :math:`\Delta s`.  The sinogram has
shape ``(n_angles, n_detectors)``.

This is the convention of ``skimage.transform.radon`` with angles in radians and the sinogram
transposed: for an odd, square image ``u`` (for which skimage's rotation centre, pixel ``n // 2``,
is the geometric centre) ``skimage.transform.radon(u, np.degrees(angles), circle=False).T`` matches
``Radon(u.shape, angles, n_detectors=...)(u)`` up to interpolation error; skimage's ``circle=True``
assumes the image is zero outside the inscribed circle and uses ``n_detectors = n``.

:func:`check_angles` and :func:`check_image_shape` validate the geometry's arguments at the boundary
(:class:`~recon.operators.tomography.Radon`, :mod:`recon.ct`); :func:`default_detectors` is the
detector that sees every pixel at every angle.
"""
from __future__ import annotations

import math

import numpy as np

from ...backend import to_numpy

__all__ = ["SUBBINS", "default_detectors", "check_image_shape", "check_angles"]

SUBBINS = 64
"""Default fixed-point steps per detector bin, :math:`L`: positions are exact to :math:`3/(2L)` bin."""


def default_detectors(shape, detector_spacing: float = 1.0) -> int:
    """Smallest detector count whose bins cover every pixel at every angle: ``ceil(diagonal / Δs) + 1``.

    The diagonal is that of the image's bounding box, :math:`\\sqrt{n_x^2 + n_y^2}` pixels.
    """
    ny, nx = shape
    return math.ceil(math.hypot(nx, ny) / detector_spacing) + 1


def check_image_shape(shape) -> tuple:
    """``shape`` as a pair of positive ints ``(ny, nx)``; raise ``ValueError`` naming ``shape`` if it is not."""
    try:
        shape = tuple(int(n) for n in shape)
    except TypeError:
        raise ValueError(f"shape must be a pair of positive ints, got {shape!r}") from None
    if len(shape) != 2 or any(n < 1 for n in shape):
        raise ValueError(f"shape must be a pair of positive ints, got {shape!r}")
    return shape


def check_angles(angles, degrees: bool = False) -> np.ndarray:
    """Angles as a 1-D float64 NumPy array in radians; raise ``ValueError`` naming ``angles`` if bad."""
    try:
        theta = np.asarray(to_numpy(angles) if hasattr(angles, "shape") else angles, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"angles must be a 1-D sequence of numbers, got {angles!r}") from None
    theta = np.atleast_1d(theta)
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"angles must be a non-empty 1-D sequence, got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("angles contains NaN or infinity")
    return np.deg2rad(theta) if degrees else theta
