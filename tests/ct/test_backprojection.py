"""recon.ct.fbp: accuracy against skimage on exact line integrals, values kept, oversampling, default shape."""
import math

import numpy as np
import pytest

from recon import ct, data, metrics
from recon.backend import to_numpy
from recon.data import _SHEPP_LOGAN  # the ellipse table behind data.shepp_logan, for exact line integrals


def analytic_sinogram(n, angles, n_det, shift=(0.0, 0.0)):
    """Exact line integrals of data.shepp_logan(n)'s ellipses (pixel units), bins centred at (k - (n_det-1)/2).

    ``shift`` moves the phantom (pixel units, x right, y up) relative to the rotation axis.
    """
    s = np.arange(n_det) - (n_det - 1) / 2
    out = np.zeros((len(angles), n_det))
    half = n / 2
    for rho, a, b, x0, y0, deg in _SHEPP_LOGAN:
        a, b = a * half, b * half
        x0, y0 = x0 * half + shift[0], y0 * half + shift[1]
        for i, th in enumerate(angles):
            alpha = th - np.deg2rad(deg)
            r2 = (a * np.cos(alpha)) ** 2 + (b * np.sin(alpha)) ** 2
            d = s - (x0 * np.cos(th) + y0 * np.sin(th))
            out[i] += rho * 2 * a * b * np.sqrt(np.maximum(r2 - d * d, 0.0)) / r2
    return out


SKIMAGE_FILTER = {"ram-lak": "ramp", "shepp-logan": "shepp-logan", "cosine": "cosine", "hamming": "hamming",
                  "hann": "hann"}


def _fbp_errors(n, n_angles, filter):
    """Relative L2 errors of recon's FBP and skimage's iradon, each on exact data in its own convention."""
    from skimage.transform import iradon

    u = to_numpy(data.shepp_logan(n))
    angles = ct.uniform_angles(n_angles)
    n_det = math.ceil(n * math.sqrt(2))  # skimage's padded size (odd for 256), bin n_det // 2 on the axis
    ours = ct.fbp(analytic_sinogram(n, angles, n_det), angles, filter=filter, shape=(n, n))
    # skimage rotates about pixel n // 2, half a pixel right of and below the centre for even n
    c = n // 2 - (n - 1) / 2
    theirs_data = analytic_sinogram(n, angles, n_det, shift=(-c, c))
    theirs = iradon(theirs_data.T, np.rad2deg(angles), filter_name=SKIMAGE_FILTER[filter], circle=False,
                    output_size=n)
    return metrics.relative_error(ours, u), metrics.relative_error(theirs, u)


def test_fbp_reproduces_the_phantom_no_worse_than_skimage():
    ours, theirs = _fbp_errors(256, 360, "ram-lak")
    assert ours <= theirs and ours < 0.15


@pytest.mark.slow
@pytest.mark.parametrize("filter", ["ram-lak", "shepp-logan", "cosine", "hamming", "hann"])
def test_fbp_no_worse_than_skimage_all_filters(filter):
    ours, theirs = _fbp_errors(256, 360, filter)
    assert ours <= theirs


def test_fbp_scaling_reproduces_values(xp, dtype, make):
    n = 64
    u = to_numpy(data.shepp_logan(n))
    angles = ct.uniform_angles(180)
    rec = ct.fbp(make(analytic_sinogram(n, angles, 92)), angles, filter="hann")
    assert rec.dtype == dtype and rec.shape == (n, n)
    rec = to_numpy(rec)
    # flat regions keep their value: the brain tissue (0.2) and the background (0)
    assert abs(np.median(rec[24:40, 20:28]) - np.median(u[24:40, 20:28])) < 0.02
    assert abs(np.median(rec[:4, :4])) < 0.02


def test_fbp_oversampling_defaults_and_effect():
    """Windows vanishing at Nyquist backproject from projections interpolated on a twice finer detector."""
    u = to_numpy(data.shepp_logan(48))
    angles = ct.uniform_angles(90)
    p = analytic_sinogram(48, angles, 69)
    hann = ct.fbp(p, angles, filter="hann", shape=(48, 48))
    assert np.array_equal(hann, ct.fbp(p, angles, filter="hann", shape=(48, 48), oversampling=2))
    coarse = ct.fbp(p, angles, filter="hann", shape=(48, 48), oversampling=1)
    assert metrics.relative_error(hann, u) < metrics.relative_error(coarse, u)
    for name in ("ram-lak", "shepp-logan"):
        plain = ct.fbp(p, angles, filter=name, shape=(48, 48))
        assert np.array_equal(plain, ct.fbp(p, angles, filter=name, shape=(48, 48), oversampling=1))
    # values kept: the finer detector's spacing is compensated, not doubled
    assert abs(np.median(hann[18:30, 16:22]) - np.median(u[18:30, 16:22])) < 0.02
    with pytest.raises(ValueError, match="oversampling must be a positive int, got 0"):
        ct.fbp(p, angles, oversampling=0)


def test_fbp_default_shape_and_degrees():
    u = to_numpy(data.shepp_logan(40))
    deg = np.arange(0.0, 180.0, 2.0)
    p = ct.sinogram(u, deg, degrees=True)
    assert ct.fbp(p, deg, degrees=True).shape == (40, 40)
    assert np.allclose(ct.fbp(p, deg, degrees=True), ct.fbp(p, ct.angles_from_degrees(deg)))
