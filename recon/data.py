r"""Test images and phantoms, created in the default backend.

Every function here returns a grayscale floating-point image with values in :math:`[0, 1]`,
``float64`` unless ``dtype`` says otherwise, as an array of the default backend
(:func:`recon.backend.namespace`; NumPy unless changed with ``recon.backend.use("cupy")``).
Images are built on the host and copied once to the backend: creating data is an I/O boundary.

* :func:`camera`, :func:`moon`, :func:`coins`: photographs shipped with scikit-image;
* :func:`shepp_logan`: the modified Shepp–Logan head phantom, rasterised analytically at any size;
* :func:`disks`: random non-overlapping-looking disks on a dark background (piecewise constant,
  the natural test case for total variation);
* :func:`load_image`: read a PNG, TIFF or NPY file (see :mod:`recon.io`).
"""
from __future__ import annotations

import numpy as np

from . import io as _io
from ._checks import one_of, positive_int
from .backend import asarray, namespace

__all__ = ["camera", "moon", "coins", "shepp_logan", "disks", "load_image"]

_DTYPES = ("float32", "float64")


def _to_backend(image: np.ndarray, dtype):
    """``image`` (host, float) as an array of the default backend with the requested dtype."""
    xp = namespace()
    if dtype is None:
        dtype = xp.float64
    elif isinstance(dtype, str):
        dtype = getattr(xp, one_of(dtype, "dtype", _DTYPES))
    elif dtype not in (xp.float32, xp.float64):
        raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    return asarray(image, xp=xp, dtype=dtype)


def _skimage_gray(name: str) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    return image.astype(np.float64) / 255.0


def camera(*, dtype=None):
    """The 512 × 512 "cameraman" photograph, float in :math:`[0, 1]`.

    Parameters
    ----------
    dtype : {"float64", "float32"} or a dtype of the default backend, optional
        Floating type of the result (``float64`` if omitted).

    Returns
    -------
    image : array, shape (512, 512)
        The 8-bit original divided by 255, in the default backend.

    Examples
    --------
    >>> from recon import data
    >>> x = data.camera()
    >>> x.shape, float(x.min()) >= 0.0, float(x.max()) <= 1.0
    ((512, 512), True, True)
    """
    return _to_backend(_skimage_gray("camera"), dtype)


def moon(*, dtype=None):
    """The 512 × 512 lunar-surface photograph shipped with scikit-image, float in :math:`[0, 1]`.

    Low contrast and fine texture: a harder test than :func:`camera` for edge-preserving priors.

    Examples
    --------
    >>> from recon import data
    >>> data.moon(dtype="float32").dtype
    dtype('float32')
    """
    return _to_backend(_skimage_gray("moon"), dtype)


def coins(*, dtype=None):
    """The 303 × 384 "coins" photograph shipped with scikit-image, float in :math:`[0, 1]`.

    Examples
    --------
    >>> from recon import data
    >>> data.coins().shape
    (303, 384)
    """
    return _to_backend(_skimage_gray("coins"), dtype)


# (intensity, semi-axis a, semi-axis b, centre x, centre y, rotation in degrees) of the
# modified Shepp-Logan phantom (Toft 1996), whose grey levels are visible without windowing.
_SHEPP_LOGAN = (
    (1.0, 0.69, 0.92, 0.0, 0.0, 0.0),
    (-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0),
    (-0.2, 0.11, 0.31, 0.22, 0.0, -18.0),
    (-0.2, 0.16, 0.41, -0.22, 0.0, 18.0),
    (0.1, 0.21, 0.25, 0.0, 0.35, 0.0),
    (0.1, 0.046, 0.046, 0.0, 0.1, 0.0),
    (0.1, 0.046, 0.046, 0.0, -0.1, 0.0),
    (0.1, 0.046, 0.023, -0.08, -0.605, 0.0),
    (0.1, 0.023, 0.023, 0.0, -0.606, 0.0),
    (0.1, 0.023, 0.046, 0.06, -0.605, 0.0),
)


def shepp_logan(n: int = 256, *, supersample: int = 2, dtype=None):
    r"""The modified Shepp–Logan phantom on an ``n`` × ``n`` grid, values in :math:`[0, 1]`.

    The phantom is a sum of ten ellipses,

    .. math::
        f(x, y) = \sum_k \rho_k \, \mathbf 1\!\left[
            \frac{(x'-x_k)^2}{a_k^2} + \frac{(y'-y_k)^2}{b_k^2} \le 1 \right],

    (coordinates rotated by each ellipse's angle) on :math:`[-1, 1]^2`, with the intensities
    :math:`\rho_k` of Toft's modified version.  Each pixel is the mean of ``supersample²``
    point samples, so edges are anti-aliased and the image is defined for every ``n``
    (no resampling of a fixed-size raster).  Row 0 is the top of the head (:math:`y = 1`).

    Parameters
    ----------
    n : int, default 256
        Side length in pixels.
    supersample : int, default 2
        Point samples per pixel and axis (1: sample at pixel centres, exact piecewise constant).
    dtype : {"float64", "float32"}, optional

    References
    ----------
    L. A. Shepp and B. F. Logan, "The Fourier reconstruction of a head section",
    IEEE Trans. Nucl. Sci. 21 (1974) 21–43.
    P. Toft, "The Radon transform: theory and implementation", PhD thesis, DTU (1996).

    Examples
    --------
    >>> from recon import data
    >>> x = data.shepp_logan(64)
    >>> x.shape, round(float(x.max()), 6)
    ((64, 64), 1.0)
    """
    n = positive_int(n, "n")
    supersample = positive_int(supersample, "supersample")
    m = n * supersample
    centres = -1.0 + (2.0 * np.arange(m) + 1.0) / m
    x = centres[None, :]
    y = centres[::-1, None]
    image = np.zeros((m, m))
    for rho, a, b, x0, y0, degrees in _SHEPP_LOGAN:
        phi = np.deg2rad(degrees)
        c, s = np.cos(phi), np.sin(phi)
        u = (x - x0) * c + (y - y0) * s
        v = -(x - x0) * s + (y - y0) * c
        image += rho * ((u / a) ** 2 + (v / b) ** 2 <= 1.0)
    image = image.reshape(n, supersample, n, supersample).mean(axis=(1, 3))
    # overlapping ellipses sum to exactly 0 or 1 in exact arithmetic; remove rounding
    return _to_backend(np.clip(image, 0.0, 1.0), dtype)


def disks(n: int = 256, *, count: int = 12, radius=(0.04, 0.15), seed: int | None = 0, dtype=None):
    r"""Random disks of constant intensity on a zero background, values in :math:`[0, 1]`.

    .. math::
        f = \sum_k \rho_k \, \mathbf 1[\,\|p - c_k\| \le r_k\,]
        \quad\text{(later disks replace earlier ones where they overlap)}

    with centres :math:`c_k` uniform in the image, radii :math:`r_k` uniform in
    ``radius`` (fractions of ``n``) and intensities :math:`\rho_k` uniform in
    :math:`[0.25, 1]`.  The image is piecewise constant: total variation is the right prior.

    Parameters
    ----------
    n : int, default 256
        Side length in pixels.
    count : int, default 12
        Number of disks.
    radius : (float, float), default (0.04, 0.15)
        Smallest and largest radius as fractions of ``n``.
    seed : int or None, default 0
        Seed of the random generator (``None``: a different image each call).
    dtype : {"float64", "float32"}, optional

    Examples
    --------
    >>> from recon import data
    >>> x = data.disks(64, count=5)
    >>> x.shape, float(x.min())
    ((64, 64), 0.0)
    """
    n = positive_int(n, "n")
    count = positive_int(count, "count")
    r_min, r_max = (float(r) for r in radius)
    if not 0 < r_min <= r_max:
        raise ValueError(f"radius must be (min, max) with 0 < min <= max, got {radius!r}")
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:n, 0:n] + 0.5
    image = np.zeros((n, n))
    for _ in range(count):
        cy, cx = rng.uniform(0, n, size=2)
        r = rng.uniform(r_min, r_max) * n
        image[(rows - cy) ** 2 + (cols - cx) ** 2 <= r * r] = rng.uniform(0.25, 1.0)
    return _to_backend(image, dtype)


def load_image(path, *, dtype=None):
    """Read an image file (PNG, TIFF, NPY) into the default backend.

    Integer PNG/TIFF images are scaled to :math:`[0, 1]` and colour images converted to
    grayscale, as described in :func:`recon.io.read_image`.

    Parameters
    ----------
    path : str or path-like
    dtype : {"float64", "float32"}, optional

    Raises
    ------
    FileNotFoundError, ValueError
        If the file is missing, unreadable or of an unknown format (the message names ``path``).

    Examples
    --------
    >>> import tempfile, os
    >>> from recon import data, io
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> io.write_image(path, data.disks(16))
    >>> data.load_image(path).shape
    (16, 16)
    """
    image = _io.read_image(path)
    if np.iscomplexobj(image):
        raise ValueError(f"load_image needs a real image, {str(path)!r} holds complex values")
    return _to_backend(image, dtype)
