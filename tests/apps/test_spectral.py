"""TV spectral decomposition: exact reconstruction identity, scale separation of disks."""
import numpy as np
import pytest

from recon.apps.spectral import band_pass, tv_spectral_decomposition
from recon.functionals.tv import TV


def _disk(n, r, center):
    yy, xx = np.mgrid[:n, :n]
    return ((yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= r**2).astype(float)


def test_components_sum_to_the_image():
    rng = np.random.default_rng(0)
    f = _disk(24, 5, (8, 8)) + 0.1 * rng.standard_normal((24, 24))
    d = tv_spectral_decomposition(f, dt=0.1, iters=400, tv=TV(inner_tol=1e-6, inner_iters=3000))
    assert np.isfinite(d.extinction_time)
    assert np.allclose(band_pass(d), f, atol=1e-6 * np.abs(f).max() * len(d.times))
    assert len(d.spectrum) == len(d.components) == len(d.times)


def test_small_and_large_disks_fall_into_different_bands():
    n = 40
    small, large = _disk(n, 3, (10, 10)), _disk(n, 9, (26, 26))
    f = small + large
    d = tv_spectral_decomposition(f, dt=0.1, iters=600, tv=TV(inner_tol=1e-6, inner_iters=3000))
    # a disk of height 1 and radius r vanishes near t = r / 2 (area / perimeter)
    split = 0.5 * (3 / 2 + 9 / 2)
    low = band_pass(d, 0, split, mean=False)
    high = band_pass(d, split, np.inf, mean=False)
    assert low[small > 0].mean() > 0.9 and abs(low[large > 0].mean()) < 0.1
    assert high[large > 0].mean() > 0.7 and abs(high[small > 0].mean()) < 0.25
    t_peak_small = d.times[int(np.argmax(d.spectrum[: int(split / 0.1)]))]
    assert t_peak_small == pytest.approx(1.5, rel=0.35)


def test_bad_arguments():
    d = tv_spectral_decomposition(_disk(12, 3, (6, 6)), dt=0.5, iters=50)
    with pytest.raises(ValueError, match="t_min must be <= t_max"):
        band_pass(d, 2.0, 1.0)
    with pytest.raises(ValueError, match="f contains NaN"):
        tv_spectral_decomposition(np.full((4, 4), np.nan), dt=0.1)
