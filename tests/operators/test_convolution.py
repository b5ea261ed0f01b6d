"""Convolution: adjoint, agreement with scipy's conventions, Fourier multiplier, kernels, errors."""
import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as signal

from recon.backend import to_numpy
from recon.operators import Blur, Convolution, disk_kernel, dottest, gaussian_kernel, motion_kernel
from tests.helpers import tolerance

# (image shape, kernel shape): odd, even, non-square, 1-D and 3-D
CASES = [((7, 10), (3, 4)), ((9, 5), (5, 5)), ((6, 6), (2, 5)), ((13,), (4,)), ((5, 6, 4), (3, 2, 3))]
BOUNDARIES = ["periodic", "zero"]


def _kernel(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _circular(u, k):
    """Brute force: out_i = sum_j k_j u_{(i + c - j) mod n}, c = (K - 1) // 2."""
    out = np.zeros_like(u)
    centre = np.array([(s - 1) // 2 for s in k.shape])
    for j in np.ndindex(k.shape):
        out += k[j] * np.roll(u, tuple(np.array(j) - centre), axis=tuple(range(u.ndim)))
    return out


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize("shape, kshape", CASES)
def test_adjoint(shape, kshape, boundary, xp, dtype, make):
    A = Convolution(make(_kernel(kshape), xp.float64), shape, boundary=boundary)
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert dottest(A.T, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


def test_zero_boundary_kernel_larger_than_image_adjoint(xp, dtype, make):
    A = Convolution(make(_kernel((9, 3)), xp.float64), (4, 7), boundary="zero")
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("shape, kshape", CASES + [((8, 5), (9, 3))])
def test_zero_boundary_is_scipy_signal_same(shape, kshape, xp, dtype, make):
    u, k = _kernel(shape, 1), _kernel(kshape)
    got = to_numpy(Convolution(make(k, xp.float64), shape, boundary="zero")(make(u)))
    expected = signal.convolve(u, k, mode="same", method="direct")
    assert np.allclose(got, expected, atol=50 * tolerance(dtype, xp, f64=1e-13, f32=1e-6))


@pytest.mark.parametrize("shape, kshape", CASES)
def test_periodic_is_circular_convolution(shape, kshape, xp, dtype, make):
    u, k = _kernel(shape, 1), _kernel(kshape)
    got = to_numpy(Convolution(make(k, xp.float64), shape)(make(u)))
    assert np.allclose(got, _circular(u, k), atol=50 * tolerance(dtype, xp, f64=1e-13, f32=1e-6))
    if all(s % 2 for s in kshape):
        assert np.allclose(_circular(u, k), ndi.convolve(u, k, mode="wrap"))


def test_periodic_and_zero_agree_away_from_the_boundary():
    u, k = _kernel((20, 17), 1), _kernel((5, 4))
    periodic, zero = Convolution(k, u.shape)(u), Convolution(k, u.shape, boundary="zero")(u)
    assert np.allclose(periodic[4:-4, 4:-4], zero[4:-4, 4:-4])
    assert not np.allclose(periodic, zero)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_dtype_follows_the_input(boundary, xp, dtype, make):
    A = Convolution(make(_kernel((3, 3)), xp.float64), (6, 7), boundary=boundary)
    assert A(make(_kernel((6, 7), 2))).dtype == dtype
    assert A.adjoint(make(_kernel((6, 7), 3))).dtype == dtype


def test_transfer_function_is_the_fourier_multiplier(xp, dtype, make):
    shape, k = (9, 6), _kernel((3, 4))
    A = Convolution(make(k, xp.float64), shape)
    u = make(_kernel(shape, 1))
    H = A.transfer_function(dtype)
    assert H.shape == shape
    via_fourier = xp.real(xp.fft.ifftn(H * xp.fft.fftn(xp.astype(u, H.dtype))))
    assert np.allclose(to_numpy(via_fourier), to_numpy(A(u)), atol=tolerance(dtype, xp, f64=1e-12, f32=1e-5))


def test_norm_is_max_transfer_and_matches_power_iteration():
    A = Convolution(_kernel((4, 3)), (12, 11))
    power = math.sqrt((A.T @ A).norm(iters=5000, rtol=1e-12))
    assert A.norm() == pytest.approx(float(np.abs(A.transfer_function()).max()))
    assert A.norm() == pytest.approx(power, rel=1e-5)
    assert Convolution(gaussian_kernel(1.0), (16, 16)).norm() == pytest.approx(1.0)  # H(0) = sum = max


def test_tikhonov_deconvolution_in_closed_form():
    """(A*A + lam I) x = A* y solved in Fourier space satisfies the normal equations."""
    shape, lam = (16, 12), 0.05
    A = Blur(gaussian_kernel(1.2), shape)
    y = _kernel(shape, 4)
    H = A.transfer_function()
    x = np.real(np.fft.ifftn(np.conj(H) * np.fft.fftn(y) / (np.abs(H) ** 2 + lam)))
    residual = A.adjoint(A(x) - y) + lam * x
    assert np.linalg.norm(residual) <= 1e-10 * np.linalg.norm(y)


def test_transfer_function_needs_periodic_boundary():
    with pytest.raises(ValueError, match="boundary='periodic'"):
        Convolution(np.ones((3, 3)), (5, 5), boundary="zero").transfer_function()


def test_mixing_libraries_is_a_clear_error():
    xs = pytest.importorskip("array_api_strict")
    A = Convolution(np.ones((3, 3)), (5, 5))
    with pytest.raises(TypeError, match="different libraries"):
        A(xs.ones((5, 5), dtype=xs.float64))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kernel=np.ones((3, 3)), shape=(5, 5), boundary="reflect"), "boundary must be one of .* got 'reflect'"),
        (dict(kernel=np.ones(3), shape=(5, 5)), "kernel must have 2 dimensions"),
        (dict(kernel=np.array([[1.0, np.nan]]), shape=(5, 5)), "kernel contains NaN"),
        (dict(kernel=np.ones((7, 3)), shape=(5, 5)), r"kernel of shape \(7, 3\) is larger than the image"),
        (dict(kernel=np.ones((3, 3)), shape=(0, 5)), "shape must be"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Convolution(**kwargs)


def test_complex_kernel_and_integer_input_are_rejected():
    with pytest.raises(TypeError, match="kernel must be real"):
        Convolution(np.ones((3, 3), dtype=complex), (5, 5))
    with pytest.raises(TypeError, match="dtype int64"):
        Convolution(np.ones((3, 3)), (5, 5))(np.ones((5, 5), dtype=np.int64))


# ---------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------
def _moments(k):
    """Centre of mass and covariance matrix of a 2-D kernel (row, column coordinates)."""
    idx = np.indices(k.shape).reshape(2, -1).astype(float)
    w = k.ravel()
    mean = idx @ w
    d = idx - mean[:, None]
    return mean, (d * w) @ d.T


def test_gaussian_kernel():
    k = to_numpy(gaussian_kernel(2.0))
    assert k.shape == (2 * 6 + 1,) * 2 and k.dtype == np.float64
    assert k.sum() == pytest.approx(1.0)
    assert np.allclose(k, k[::-1]) and np.allclose(k, k.T) and np.allclose(k, k[:, ::-1])
    assert np.unravel_index(np.argmax(k), k.shape) == (6, 6)
    mean, cov = _moments(to_numpy(gaussian_kernel(1.5, size=31)))
    assert np.allclose(mean, 15) and np.allclose(cov, 1.5**2 * np.eye(2), atol=1e-8)
    k3 = to_numpy(gaussian_kernel(0.7, size=5, ndim=3))
    assert k3.shape == (5, 5, 5) and k3.sum() == pytest.approx(1.0)
    assert np.allclose(k3, np.transpose(k3, (2, 0, 1)))


def test_disk_kernel():
    for radius, count in [(0, 1), (1, 5), (2, 13)]:  # lattice points in the disk (Gauss circle problem)
        k = to_numpy(disk_kernel(radius))
        assert k.shape == (2 * radius + 1,) * 2 and k.sum() == pytest.approx(1.0)
        assert np.count_nonzero(k) == count and np.allclose(k[k > 0], 1.0 / count)
        assert np.allclose(k, k.T) and np.allclose(k, k[::-1]) and np.allclose(k, k[:, ::-1])
    r = 6.0
    k = to_numpy(disk_kernel(r, antialias=True))
    assert k.sum() == pytest.approx(1.0) and np.allclose(k, k.T) and np.allclose(k, k[::-1])
    edge = (k > 0) & (k < k.max())
    assert edge.any()  # partially covered pixels get fractional weights
    # uniform disk: E[x^2] = r^2 / 4, plus the pixel's own variance 1/12
    _, cov = _moments(k)
    assert cov[0, 0] == pytest.approx(r**2 / 4 + 1 / 12, rel=0.01)


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 90.0, 123.0])
def test_motion_kernel_direction_and_length(angle):
    length = 9.0
    k = to_numpy(motion_kernel(length, angle))
    assert k.sum() == pytest.approx(1.0) and k.shape[0] % 2 == 1
    assert np.allclose(k, k[::-1, ::-1])  # point-symmetric about the centre
    mean, cov = _moments(k)
    assert np.allclose(mean, (k.shape[0] - 1) / 2)
    evals, evecs = np.linalg.eigh(cov)
    theta = math.radians(angle)
    direction = np.array([-math.sin(theta), math.cos(theta)])  # rows point down
    assert abs(evecs[:, 1] @ direction) == pytest.approx(1.0, abs=1e-3)
    # a uniform segment has variance L^2 / 12 along it; bilinear spreading adds at most 1/4
    assert length**2 / 12 <= evals[1] <= length**2 / 12 + 0.25


def test_motion_kernel_axes():
    k = to_numpy(motion_kernel(5, 0))
    c = k.shape[0] // 2
    assert k[c].sum() == pytest.approx(1.0)
    k = to_numpy(motion_kernel(5, 90))
    assert k[:, c].sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gaussian_kernel(0.0), "sigma must be a finite number > 0, got 0.0"),
        (lambda: gaussian_kernel(-1.0), "sigma must be a finite number > 0"),
        (lambda: gaussian_kernel(1.0, size=4), "size must be a positive odd int, got 4"),
        (lambda: gaussian_kernel(1.0, ndim=0), "ndim must be"),
        (lambda: disk_kernel(-0.5), "radius must be a finite number >= 0, got -0.5"),
        (lambda: motion_kernel(0.5, 10), "length must be a finite number >= 1, got 0.5"),
        (lambda: motion_kernel(3, float("nan")), "angle must be a finite number"),
    ],
)
def test_kernel_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
