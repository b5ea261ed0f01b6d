"""recon.ct: FBP accuracy against skimage, variational reconstructions beating FBP, PDHG = FISTA, errors."""
import math

import numpy as np
import pytest

from recon import ct, data, metrics
from recon.backend import to_numpy
from recon.data import _SHEPP_LOGAN  # the ellipse table behind data.shepp_logan, for exact line integrals
from recon.functionals import TV, L2DataFidelity
from recon.solvers import fista


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


def _noisy(n, n_angles, arc=np.pi, noise=0.01, seed=0):
    u = to_numpy(data.shepp_logan(n))
    angles = ct.uniform_angles(n_angles, arc)
    return u, angles, ct.sinogram(u, angles, noise=noise, seed=seed)


def _psnr(x, u):
    return metrics.psnr(to_numpy(x), u, data_range=1.0)


# ---------------------------------------------------------------------------------------------
# FBP
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# variational reconstruction
# ---------------------------------------------------------------------------------------------
def test_tv_beats_fbp_by_5db():
    u, angles, p = _noisy(128, 60)
    fbp = _psnr(ct.reconstruct(p, angles), u)
    tv = _psnr(ct.reconstruct(p, angles, method="tv", weight=0.05, iters=200), u)
    assert tv >= fbp + 5.0


@pytest.mark.slow
def test_tv_beats_fbp_by_5db_full_size():
    u, angles, p = _noisy(256, 60)
    fbp = _psnr(ct.reconstruct(p, angles), u)
    tv = _psnr(ct.reconstruct(p, angles, method="tv", weight=0.05, iters=300), u)
    assert tv >= fbp + 5.0


@pytest.mark.parametrize("n_angles, arc", [(30, np.pi), (60, np.deg2rad(120))])
def test_sparse_view_and_limited_angle_tv_beats_fbp(n_angles, arc):
    u, angles, p = _noisy(64, n_angles, arc=arc)
    fbp = _psnr(ct.reconstruct(p, angles), u)
    tv = _psnr(ct.reconstruct(p, angles, method="tv", weight=0.05, iters=300), u)
    assert tv >= fbp + 3.0


@pytest.mark.slow  # ~10 s: both solvers run to 1e-9
def test_tv_is_the_same_minimiser_as_fista():
    """PDHG on K = [A; ∇] and FISTA with the TV prox minimise the same ½||Au - p||² + w TV(u)."""
    u, angles, p = _noisy(32, 20)
    w = 0.5
    pd = ct.reconstruct(p, angles, method="tv", weight=w, nonneg=False, iters=3000, tol=1e-9)
    A = ct.Radon(u.shape, angles)
    fb = fista(L2DataFidelity(p, A), w * TV(inner_tol=1e-9, inner_iters=2000), np.zeros(u.shape), iters=2000,
               tol=1e-10).x
    assert np.linalg.norm(pd - fb) <= 1e-3 * np.linalg.norm(fb)


@pytest.mark.parametrize("method", ["landweber", "cgls"])
def test_early_stopping_by_the_discrepancy_principle(method):
    u, angles, p = _noisy(48, 40, noise=0.02)
    clean = ct.sinogram(u, angles)
    sigma = float(np.sqrt(np.mean((p - clean) ** 2)))
    res = ct.reconstruct(p, angles, method=method, noise_level=sigma, iters=1000, return_result=True)
    assert res.converged and "discrepancy" in res.message
    residual = np.linalg.norm(ct.Radon(u.shape, angles)(res.x) - p) if method == "landweber" else None
    if residual is not None:
        assert residual <= 1.05 * sigma * math.sqrt(p.size) * 1.01 or res.history["residual"][-1] <= residual
    assert _psnr(res.x, u) > 20


def test_tikhonov_normal_equations_and_nonnegativity():
    u, angles, p = _noisy(24, 20)
    w = 5.0
    x = ct.reconstruct(p, angles, method="tikhonov", weight=w, nonneg=False, iters=300, tol=1e-12)
    A = ct.Radon(u.shape, angles)
    assert np.linalg.norm(A.adjoint(A(x) - p) + w * x) <= 1e-6 * np.linalg.norm(A.adjoint(p))
    xn = ct.reconstruct(p, angles, method="tikhonov", weight=w, iters=100)
    assert xn.min() >= 0.0


def test_poisson_weighted_least_squares_stops_without_noise_level():
    u = to_numpy(data.shepp_logan(48)) * 0.02  # attenuation per pixel: line integrals up to ~1
    angles = ct.uniform_angles(40)
    p = ct.sinogram(u, angles, flat=1e4, seed=1)
    res = ct.reconstruct(p, angles, method="landweber", noise_model="poisson", flat=1e4, iters=2000,
                         return_result=True)
    assert res.converged and "discrepancy" in res.message
    assert metrics.relative_error(res.x, u) < 0.5
    tv = ct.reconstruct(p, angles, method="tv", noise_model="poisson", flat=1e4, weight=2.0, iters=50)
    assert tv.shape == u.shape and tv.min() >= 0 and np.isfinite(tv).all()


def test_array_api_strict_end_to_end():
    xs = pytest.importorskip("array_api_strict")
    u, angles, p = _noisy(24, 16)
    ps = xs.asarray(p.astype(np.float32))
    for method, kw in [("fbp", {}), ("cgls", dict(iters=5)), ("tv", dict(weight=0.05, iters=5))]:
        x = ct.reconstruct(ps, angles, method=method, **kw)
        assert isinstance(x, type(ps)) and x.dtype == xs.float32
        assert np.allclose(to_numpy(x), ct.reconstruct(p.astype(np.float32), angles, method=method, **kw),
                           atol=1e-4)


def test_callback_and_result():
    u, angles, p = _noisy(24, 16)
    seen = []
    res = ct.reconstruct(p, angles, method="landweber", iters=50, callback=lambda k, x: seen.append(k) or k == 3,
                         return_result=True)
    assert seen == [1, 2, 3] and res.iterations == 3 and res.message == "stopped by callback"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(angles=[]), ValueError, "angles must be a non-empty 1-D sequence"),
        (dict(angles=np.linspace(0, 3, 7)), ValueError, r"sinogram has shape \(8, 20\) but angles has 7 entries"),
        (dict(sinogram=np.full((8, 20), np.nan)), ValueError, "sinogram contains NaN"),
        (dict(sinogram=np.ones(20)), ValueError, r"sinogram must be 2-D, got shape \(20,\)"),
        (dict(sinogram=np.ones((8, 20), dtype=int)), TypeError, "sinogram must be a real floating array"),
        (dict(method="art"), ValueError, "method must be one of"),
        (dict(method="tv"), ValueError, "method 'tv' needs weight"),
        (dict(method="tv", weight=-1.0), ValueError, "weight must be a finite number >= 0, got -1.0"),
        (dict(method="cgls", noise_model="poisson"), ValueError, "noise_model='poisson' needs flat"),
        (dict(noise_model="laplace"), ValueError, "noise_model must be one of"),
        (dict(filter="gauss"), ValueError, "filter must be one of"),
        (dict(shape=(0, 3)), ValueError, "shape must be a pair of positive ints"),
        (dict(method="cgls", iters=0), ValueError, "iters must be a positive int, got 0"),
        (dict(method="cgls", noise_level=-1.0), ValueError, "noise_level must be a finite number >= 0"),
        (dict(detector_spacing=-1.0), ValueError, "detector_spacing must be a finite number > 0"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = dict(sinogram=np.ones((8, 20)), angles=np.linspace(0, 3, 8))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        ct.reconstruct(args.pop("sinogram"), args.pop("angles"), **args)


def test_simulation_arguments():
    u = np.ones((8, 8))
    with pytest.raises(ValueError, match="noise must be a finite number >= 0, got -0.1"):
        ct.sinogram(u, [0.0], noise=-0.1)
    with pytest.raises(ValueError, match="flat must be a finite number > 0"):
        ct.sinogram(u, [0.0], flat=0)
    with pytest.raises(ValueError, match="image must be 2-D"):
        ct.sinogram(np.ones(8), [0.0])
    with pytest.raises(ValueError, match="n must be a positive int"):
        ct.uniform_angles(0)
    clean = ct.sinogram(u, ct.uniform_angles(10))
    noisy = ct.sinogram(u, ct.uniform_angles(10), noise=0.05, seed=0)
    assert np.linalg.norm(noisy - clean) / np.linalg.norm(clean) == pytest.approx(0.05, rel=0.2)
