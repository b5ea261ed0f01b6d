"""recon.denoise: each prior improves a noisy image, solves its own model, and checks its input."""
import numpy as np
import pytest

from recon import data, denoise, metrics
from recon.apps.denoise import WaveletL1
from recon.backend import to_numpy
from recon.functionals import Functional
from recon.functionals.norms import L1
from recon.operators import Gradient
from tests.helpers import tolerance

SIGMA = 0.1


@pytest.fixture(scope="module")
def pair():
    clean = data.camera()[128:256, 192:320]  # face and tripod: edges and flat regions
    noisy = clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)
    return clean, noisy


@pytest.mark.parametrize("reg, weight", [("tv", 0.08), ("tikhonov", 0.5), ("wavelet", 0.15)])
def test_improves_psnr(pair, reg, weight):
    clean, noisy = pair
    before = metrics.psnr(noisy, clean, data_range=1.0)
    after = metrics.psnr(denoise(noisy, reg, weight=weight), clean, data_range=1.0)
    # sigma = 0.1 noise is 20 dB; each prior should gain at least 3 dB on this crop
    assert after > before + 3.0, (reg, before, after)


@pytest.mark.parametrize("reg", ["tv", "tikhonov"])
def test_keeps_library_and_dtype(reg, make, xp, dtype, pair):
    _, noisy = pair
    y = make(noisy[:32, :32])
    x = denoise(y, reg, weight=0.1)
    assert type(x) is type(y) and x.dtype == y.dtype and x.shape == y.shape


def test_tv_result_carries_certificate(pair):
    _, noisy = pair
    result = denoise(noisy, "tv", weight=0.1, tol=1e-5, return_result=True)
    assert result.converged
    assert result.history["rel_gap"][-1] <= 1e-5
    assert result.iterations > 0


def test_tikhonov_solves_normal_equations(pair, make, xp, dtype):
    _, noisy = pair
    y = make(noisy[:40, :40])
    w = 0.7
    x = denoise(y, "tikhonov", weight=w, tol=1e-10)
    G = Gradient(tuple(y.shape))
    # optimality of 1/2||x - y||^2 + w ||grad x||^2: x + 2 w grad* grad x = y
    residual = to_numpy(x + 2 * w * G.adjoint(G(x)) - y)
    assert np.linalg.norm(residual) <= 50 * tolerance(dtype, xp, 1e-10, 1e-5) * np.linalg.norm(to_numpy(y))


def test_wavelet_is_exact_prox(pair):
    _, noisy = pair
    w = 0.15
    R = WaveletL1(noisy.shape)
    x = denoise(noisy, "wavelet", weight=w)

    def objective(z):
        return 0.5 * np.sum((z - noisy) ** 2) + w * R(z)

    # the prox is the unique minimiser: every perturbation increases the objective
    rng = np.random.default_rng(1)
    for scale in (1e-1, 1e-3):
        for _ in range(3):
            assert objective(x + scale * rng.standard_normal(x.shape)) > objective(x)
    # optimality in coefficient space (W orthogonal: 128 is divisible by 2^levels)
    assert R.W.padded_shape == noisy.shape
    c, d = R.W(x), R.W(noisy)
    detail = np.ones(c.shape, bool)
    detail[R._approx] = False
    np.testing.assert_allclose(c[~detail], d[~detail], atol=1e-12)
    zero = np.abs(c) < 1e-10  # W W* S(d) reproduces S(d) up to rounding
    nz = detail & ~zero
    np.testing.assert_allclose((d - c)[nz], w * np.sign(c[nz]), atol=1e-10)
    assert np.all(np.abs(d[detail & zero]) <= w + 1e-10)
    assert 0 < np.sum(detail & zero) < np.sum(detail)  # both cases of the condition are exercised


def test_wavelet_refuses_other_libraries():
    xs = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="NumPy"):
        denoise(xs.ones((16, 16), dtype=xs.float64), "wavelet")


def test_functional_with_prox_is_used_directly(pair):
    _, noisy = pair
    x = denoise(noisy, L1(), weight=0.2)
    np.testing.assert_allclose(x, np.sign(noisy) * np.maximum(np.abs(noisy) - 0.2, 0))


class _HalfSquare(Functional):
    """R(x) = 1/2 ||x||^2 through its gradient only: the minimiser is y / (1 + w)."""

    lipschitz = 1.0

    def __call__(self, x):
        return 0.5 * float(np.sum(x * x))

    def grad(self, x):
        return x


def test_smooth_functional_goes_through_fista(pair):
    _, noisy = pair
    calls = []
    result = denoise(noisy, _HalfSquare(), weight=3.0, tol=1e-12, iters=200, return_result=True,
                     callback=lambda k, x: calls.append(k) and False)
    np.testing.assert_allclose(result.x, noisy / 4.0, atol=1e-8)
    assert calls and calls[0] == 1


def test_zero_weight_returns_copy(pair):
    _, noisy = pair
    x = denoise(noisy, "tv", weight=0)
    np.testing.assert_array_equal(x, noisy)
    assert x is not noisy


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"reg": "tvl1"}, ValueError, r"reg must be one of 'tv', 'tikhonov', 'wavelet' .* got 'tvl1'"),
        ({"weight": -0.1}, ValueError, "weight must be a finite number >= 0, got -0.1"),
        ({"weight": float("nan")}, ValueError, "weight must be"),
        ({"weight": "a lot"}, TypeError, "weight must be a number, got 'a lot'"),
    ],
)
def test_bad_options(pair, kwargs, error, match):
    _, noisy = pair
    with pytest.raises(error, match=match):
        denoise(noisy, **kwargs)


def test_bad_images():
    y = np.zeros((8, 8))
    y[3, 4] = np.nan
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        denoise(y)
    with pytest.raises(TypeError, match=r"y must be a real floating-point array .* got dtype int64"):
        denoise(np.zeros((8, 8), dtype=np.int64))
    with pytest.raises(TypeError, match="y must be an array, got list"):
        denoise([[0.0, 1.0]])
