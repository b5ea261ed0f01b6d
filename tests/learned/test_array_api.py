"""Ridge regularizers on another array library (array-api-strict stands in for CuPy on a CPU machine).

array-api-strict refuses everything outside the standard, so code that passes here uses no NumPy-only
call; the GPU path (CuPy) is the same code.  Checked: RidgeRegularizer.to, the functional itself in
float32/float64, and reg="crr"/"wcrr" by name in denoise, deblur and CT, which must build the kernels
where the image lives and return an array of the input's library and dtype.
"""
import numpy as np
import pytest

import recon
from recon import ct, data
from recon.backend import array_namespace, to_numpy
from recon.functionals import RidgeRegularizer
from tests.helpers.ridge import make_reg

xs = pytest.importorskip("array_api_strict")

DTYPES = [("float32", 2e-5), ("float64", 1e-12)]


@pytest.mark.parametrize("kind", ["crr", "wcrr"])
@pytest.mark.parametrize("dtype, tol", DTYPES)
def test_regularizer_moved_to_another_library_matches_numpy(kind, dtype, tol):
    reg = make_reg(kind)
    x_np = np.random.default_rng(1).random((14, 11)).astype(dtype)
    x = xs.asarray(x_np)
    moved = reg.to(xp=array_namespace(x), dtype=dtype)
    assert all(isinstance(k, type(x)) and k.dtype == getattr(xs, dtype) for k in moved.kernels)
    assert moved.w_norm == reg.w_norm and moved.lipschitz == reg.lipschitz  # shared, not recomputed
    assert moved.weak_convexity == reg.weak_convexity
    assert abs(moved(x) - reg(x_np)) <= tol * max(1.0, abs(reg(x_np)))
    for got, want in [(moved.grad(x), reg.grad(x_np)), (moved.prox(x, 0.8), reg.prox(x_np, 0.8)),
                      (moved.t_step(x, 0.8, 4), reg.t_step(x_np, 0.8, 4))]:
        assert isinstance(got, type(x)) and got.dtype == x.dtype
        np.testing.assert_allclose(to_numpy(got), want, rtol=0, atol=tol * max(1.0, np.abs(want).max()))
    back = moved.to("numpy")
    assert all(isinstance(k, np.ndarray) for k in back.kernels)
    np.testing.assert_array_equal(back.kernels[0], to_numpy(moved.kernels[0]))


def test_a_regularizer_from_another_library_is_refused_with_the_fix_named():
    reg = make_reg("crr")
    with pytest.raises(TypeError, match=r"x is a array_api_strict array .* numpy arrays; move the regularizer "
                                        r"with reg.to"):
        reg.grad(xs.ones((8, 8), dtype=xs.float64))
    with pytest.raises(ValueError, match="give backend or xp, not both"):
        reg.to("numpy", xp=np)


def _noisy(n=32, seed=0):
    clean = to_numpy(data.shepp_logan(n)).astype(np.float64)
    return clean + 0.05 * np.random.default_rng(seed).standard_normal(clean.shape)


@pytest.mark.parametrize("name", ["crr", "wcrr"])
@pytest.mark.parametrize("dtype, tol", DTYPES)
def test_named_ridge_prior_runs_where_the_image_lives(name, dtype, tol):
    y_np = _noisy().astype(dtype)
    y = xs.asarray(y_np)
    got = recon.denoise(y, reg=name, sigma=0.05)
    assert isinstance(got, type(y)) and got.dtype == y.dtype
    want = recon.denoise(y_np, reg=name, sigma=0.05)
    np.testing.assert_allclose(to_numpy(got), want, rtol=0, atol=50 * tol)
    k = np.full((3, 3), 1 / 9, dtype=dtype)
    got = recon.deblur(y, xs.asarray(k), reg=name, sigma=0.01, weight=1.0, iters=15)
    assert isinstance(got, type(y)) and got.dtype == y.dtype
    want = recon.deblur(y_np, k, reg=name, sigma=0.01, weight=1.0, iters=15)
    np.testing.assert_allclose(to_numpy(got), want, rtol=0, atol=50 * tol)


def test_ct_with_a_named_ridge_prior_on_another_library():
    u = to_numpy(data.shepp_logan(24))
    angles = ct.uniform_angles(12)
    p = ct.sinogram(u, angles, noise=0.01, seed=0).astype(np.float32)
    ps = xs.asarray(p)
    for method in ("crr", "wcrr"):
        got = ct.reconstruct(ps, angles, method=method, weight=1.0, iters=10)
        assert isinstance(got, type(ps)) and got.dtype == xs.float32
        np.testing.assert_allclose(to_numpy(got), ct.reconstruct(p, angles, method=method, weight=1.0, iters=10),
                                   rtol=0, atol=1e-4)


def test_named_prior_is_moved_once_per_library():
    from recon.learned.weights import ridge_regularizer

    y = xs.ones((8, 8), dtype=xs.float32)
    a, b = ridge_regularizer("crr", like=y), ridge_regularizer("crr", like=y)
    assert a is b and isinstance(a, RidgeRegularizer) and isinstance(a.kernels[0], type(y))
    assert ridge_regularizer("crr", like=np.ones((8, 8))) is ridge_regularizer("crr")
