"""Ramp filters (response, padding, band-limited oversampling) and FBP's angular quadrature weights."""
import numpy as np
import pytest

from recon.backend import to_numpy
from recon.operators.tomography import FILTERS, angular_weights, filter_sinogram
from tests.helpers import tolerance


@pytest.mark.parametrize("filter", FILTERS)
def test_ramp_filter_response(filter, xp, dtype, make):
    """A constant projection filters to ~0 (no DC offset); the impulse response is h, even and summing to ~0."""
    n = 33
    impulse = np.zeros((1, n))
    impulse[0, 16] = 1.0
    h = to_numpy(filter_sinogram(make(impulse), filter))[0]
    assert np.allclose(h, h[::-1], atol=tolerance(dtype, xp, 1e-12, 1e-6))
    if filter == "ram-lak":
        assert h[16] == pytest.approx(0.25, abs=1e-6) and h[17] == pytest.approx(-1 / np.pi**2, abs=1e-6)
        assert abs(h[18]) < 1e-6
    assert h[16] == h.max() > 0
    assert abs(h.sum()) < 0.05  # ramp vanishes at zero frequency (the rest is the truncated tail)


def test_filter_without_padding_is_circular():
    p = np.random.default_rng(3).random((2, 16))
    assert filter_sinogram(p, padding=False).shape == (2, 16)
    assert not np.allclose(filter_sinogram(p, padding=False), filter_sinogram(p))


@pytest.mark.parametrize("oversampling", [2, 3])
def test_oversampled_filter_interpolates_through_the_samples(oversampling, xp, dtype, make):
    """Zero-padding the spectrum is band-limited interpolation: every o-th sample is the plain result."""
    p = np.random.default_rng(4).random((3, 21))
    plain = to_numpy(filter_sinogram(make(p), "hann"))
    fine = to_numpy(filter_sinogram(make(p), "hann", oversampling=oversampling))
    assert fine.shape == (3, oversampling * 20 + 1)
    assert np.allclose(fine[:, ::oversampling], plain, atol=tolerance(dtype, xp, 1e-12, 1e-5))
    # and in between it is not the linear interpolant
    assert not np.allclose(fine[:, 1::oversampling][:, :20], (plain[:, :-1] + plain[:, 1:]) / 2, atol=1e-3)


def test_angular_weights():
    assert np.allclose(angular_weights(np.linspace(0, np.pi, 10, endpoint=False)), np.pi / 10)
    assert np.allclose(angular_weights(np.linspace(0, 2 * np.pi, 10, endpoint=False)), np.pi / 10)
    limited = angular_weights(np.deg2rad(np.arange(0, 121, 2)))  # trapezoid over [0°, 120°]
    assert np.allclose(limited[1:-1], np.deg2rad(2)) and np.allclose(limited[[0, -1]], np.deg2rad(1))
    assert limited.sum() == pytest.approx(np.deg2rad(120))


def test_bad_arguments():
    with pytest.raises(ValueError, match="filter must be one of"):
        filter_sinogram(np.ones((2, 8)), "gauss")
    with pytest.raises(ValueError, match="oversampling must be a positive int, got 0"):
        filter_sinogram(np.ones((2, 8)), oversampling=0)
