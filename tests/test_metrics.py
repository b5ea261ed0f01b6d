"""PSNR, SSIM and relative error against scikit-image and definitions."""
import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from recon import metrics
from tests.helpers import tolerance


def _pair(seed=0, shape=(32, 40)):
    rng = np.random.default_rng(seed)
    ref = rng.random(shape)
    return np.clip(ref + 0.1 * rng.standard_normal(shape), 0, 1), ref


def test_psnr_matches_skimage(make, xp, dtype):
    x, ref = _pair()
    expected = peak_signal_noise_ratio(ref, x, data_range=1.0)
    got = metrics.psnr(make(x), make(ref), data_range=1.0)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=tolerance(dtype, xp, 1e-12, 1e-5))


def test_psnr_default_range_is_reference_range(make):
    x, ref = _pair()
    ref = 0.2 + 0.5 * ref
    expected = peak_signal_noise_ratio(ref, x, data_range=float(ref.max() - ref.min()))
    assert metrics.psnr(make(x), make(ref)) == pytest.approx(expected, rel=1e-5)


def test_psnr_identical_is_inf_and_scaling_law(make):
    _, ref = _pair()
    assert metrics.psnr(make(ref), make(ref)) == math.inf
    # halving the error adds 20 log10(2) dB
    noise = np.random.default_rng(1).standard_normal(ref.shape) * 0.05
    a = metrics.psnr(make(ref + noise), make(ref), data_range=1.0)
    b = metrics.psnr(make(ref + noise / 2), make(ref), data_range=1.0)
    assert b - a == pytest.approx(20 * math.log10(2), rel=1e-3)


def test_relative_error(make, xp, dtype):
    _, ref = _pair()
    assert metrics.relative_error(make(1.25 * ref), make(ref)) == pytest.approx(0.25, rel=tolerance(dtype, xp))
    assert metrics.relative_error(make(ref), make(ref)) == 0.0
    with pytest.raises(ValueError, match="ref is zero"):
        metrics.relative_error(make(ref), make(0 * ref))


def test_ssim_matches_skimage(make):
    x, ref = _pair(shape=(48, 48))
    expected = structural_similarity(x, ref, data_range=1.0)
    assert metrics.ssim(make(x), make(ref), data_range=1.0) == pytest.approx(expected, rel=1e-5)
    assert metrics.ssim(make(ref), make(ref)) == pytest.approx(1.0)
    closer = make(0.5 * (x + ref))
    assert metrics.ssim(make(x), make(ref)) < metrics.ssim(closer, make(ref)) < 1.0


@pytest.mark.parametrize("metric", [metrics.psnr, metrics.ssim, metrics.relative_error])
def test_shape_mismatch_is_a_clear_error(metric):
    with pytest.raises(ValueError, match=r"x has shape \(8, 9\) but ref has shape \(8, 8\)"):
        metric(np.zeros((8, 9)), np.ones((8, 8)))


def test_bad_data_range():
    x, ref = _pair()
    with pytest.raises(ValueError, match=r"data_range must be a finite number > 0, got -1\.0"):
        metrics.psnr(x, ref, data_range=-1)
    with pytest.raises(ValueError, match="ref is constant"):
        metrics.psnr(x, np.ones_like(ref))
