"""recon.deblur: each prior sharpens a blurred noisy image; inputs are checked."""
import numpy as np
import pytest

from recon import data, deblur, metrics
from recon.backend import asarray
from recon.operators import Convolution
from recon.operators.convolution import gaussian_kernel


@pytest.fixture(scope="module")
def problem():
    clean = data.camera()[128:224, 208:304]
    kernel = gaussian_kernel(1.5)
    blurred = Convolution(kernel, clean.shape)(clean)
    noisy = blurred + 0.01 * np.random.default_rng(0).standard_normal(clean.shape)
    return clean, kernel, noisy


@pytest.mark.parametrize("reg, weight", [("tv", 2e-3), ("tikhonov", 3e-3), ("wavelet", 2e-3)])
def test_improves_psnr(problem, reg, weight):
    clean, kernel, y = problem
    before = metrics.psnr(y, clean, data_range=1.0)
    result = deblur(y, kernel, reg, weight=weight, iters=150, return_result=True)
    after = metrics.psnr(result.x, clean, data_range=1.0)
    assert after > before + 1.5, (reg, before, after, result.message)


def test_zero_boundary(problem):
    clean, kernel, _ = problem
    y = Convolution(kernel, clean.shape, boundary="zero")(clean)
    y = y + 0.01 * np.random.default_rng(1).standard_normal(y.shape)
    x = deblur(y, kernel, "tikhonov", weight=3e-3, boundary="zero", iters=100)
    assert metrics.psnr(x, clean, data_range=1.0) > metrics.psnr(y, clean, data_range=1.0)


def test_keeps_library_and_dtype(problem, make, xp, dtype):
    _, kernel, y = problem
    yy = make(y[:24, :24])
    x = deblur(yy, kernel, "tikhonov", weight=1e-2, iters=5)  # a NumPy kernel is moved to y's library
    assert type(x) is type(yy) and x.dtype == yy.dtype and x.shape == yy.shape


def test_callback_stops_and_result_records(problem):
    _, kernel, y = problem
    result = deblur(y, kernel, "tv", weight=2e-3, iters=50, callback=lambda k, x: k == 3, return_result=True)
    assert result.iterations == 3 and result.converged and "callback" in result.message


def test_more_iterations_lower_objective(problem):
    _, kernel, y = problem
    short = deblur(y, kernel, "tikhonov", weight=3e-3, iters=5, tol=0, return_result=True)
    long = deblur(y, kernel, "tikhonov", weight=3e-3, iters=60, tol=0, return_result=True)
    assert long.history["objective"][-1] < short.history["objective"][-1]


@pytest.mark.parametrize(
    "kernel, error, match",
    [
        (np.full((3, 3), np.nan), ValueError, "kernel contains NaN or infinity"),
        (-np.ones((3, 3)), ValueError, "kernel must have a positive sum, got -9.0"),
        (np.ones(3), ValueError, "kernel must have 2 dimensions like y"),
        (np.ones((3, 3), dtype=complex), TypeError, "kernel must be real"),
        ("gaussian", TypeError, "kernel must be an array, got str"),
    ],
)
def test_bad_kernels(problem, kernel, error, match):
    _, _, y = problem
    with pytest.raises(error, match=match):
        deblur(y, kernel)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reg": "l0"}, "reg must be one of 'tv', 'tikhonov', 'wavelet'"),
        ({"weight": -1e-3}, "weight must be a finite number >= 0, got -0.001"),
        ({"boundary": "reflect"}, r"boundary must be one of \('periodic', 'zero'\), got 'reflect'"),
    ],
)
def test_bad_options(problem, kwargs, match):
    _, kernel, y = problem
    with pytest.raises(ValueError, match=match):
        deblur(y, kernel, **kwargs)


def test_nan_image(problem):
    _, kernel, y = problem
    bad = y.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        deblur(bad, kernel)


def test_kernel_library_follows_image():
    xs = pytest.importorskip("array_api_strict")
    y = asarray(np.ones((16, 16)), xp=xs)
    x = deblur(y, gaussian_kernel(1.0), "tikhonov", weight=1e-2, iters=3)
    assert type(x) is type(y)
