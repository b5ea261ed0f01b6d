"""Monotone APG (Li & Lin 2015) for WCRR problems: monotone objective, critical points, FISTA's
minimiser on convex problems; its use in deblur and ct.reconstruct(method="wcrr")."""
import numpy as np
import pytest

import recon
from recon import ct, data
from recon.apps.ridge_solve import monotone_apg, prox_gradient_residual
from recon.functionals import L2DataFidelity, NonNegativity
from recon.learned import weights
from recon.operators import Convolution
from recon.operators.convolution import gaussian_kernel
from recon.solvers import fista
from tests.functionals.test_ridge import make_reg


def _deblur_problem(kind, weight, dtype=np.float64, n=16, seed=0):
    rng = np.random.default_rng(seed)
    clean = (0.5 + 0.2 * rng.standard_normal((n, n))).astype(dtype)
    A = Convolution(gaussian_kernel(1.5), clean.shape)
    y = (A(clean) + 0.01 * rng.standard_normal(clean.shape)).astype(dtype)
    reg = make_reg(kind, seed=seed)
    return L2DataFidelity(y, A) + weight * reg, y


@pytest.mark.parametrize("weight", [0.5, 2.0])
def test_objective_is_non_increasing_and_ends_at_a_critical_point(weight):
    f, y = _deblur_problem("wcrr", weight)
    assert make_reg("wcrr").weak_convexity > 0  # a non-convex problem: blur has a near-null space
    res = monotone_apg(f, None, y, iters=2000, tol=1e-8)
    assert res.converged
    F = np.array(res.history["objective"])
    assert F[0] <= f(y) and np.all(np.diff(F) <= 1e-12 * abs(F[0]))
    assert res.extras["objective"] == pytest.approx(F[-1])
    step = res.extras["step"]
    residual = prox_gradient_residual(f, None, res.x, step)
    assert residual == pytest.approx(res.extras["stationarity"])
    assert residual < 1e-6 * np.linalg.norm(y)
    assert np.linalg.norm(f.grad(res.x)) < 1e-5 * np.linalg.norm(f.grad(y))


def test_non_negativity_constraint_critical_point():
    f, y = _deblur_problem("wcrr", 0.5)
    y = y - 0.5  # about half the pixels want to be negative
    res = monotone_apg(f, NonNegativity(), np.maximum(y, 0), iters=2000, tol=1e-8)
    assert res.converged
    assert float(res.x.min()) >= 0
    assert np.all(np.diff(res.history["objective"]) <= 1e-12 * abs(res.history["objective"][0]))
    assert res.extras["stationarity"] < 1e-6 * np.linalg.norm(y)


def test_convex_case_matches_fistas_minimiser():
    f, y = _deblur_problem("crr", 1.0)
    y = np.maximum(y - 0.5, 0)  # the constraint is active on about half the pixels
    ref = fista(f, NonNegativity(), y, iters=2000, tol=1e-10)
    res = monotone_apg(f, NonNegativity(), y, iters=2000, tol=1e-10)
    assert ref.converged and res.converged
    assert np.linalg.norm(res.x - ref.x) < 1e-6 * np.linalg.norm(ref.x)
    assert res.extras["objective"] <= f(ref.x) + 1e-12 * abs(f(ref.x))


def test_accelerates_over_the_plain_gradient_step():
    f, y = _deblur_problem("wcrr", 0.05)
    res = monotone_apg(f, None, y, iters=200, tol=0)
    plain = y
    for _ in range(200):
        plain = plain - res.extras["step"] * f.grad(plain)
    assert res.extras["objective"] < f(plain)
    assert res.extras["rejected"] < 100  # mostly accelerated steps


def test_float32_stays_float32():
    f, y = _deblur_problem("wcrr", 0.2, dtype=np.float32)
    res = monotone_apg(f, None, y, iters=300, tol=1e-5)
    assert res.x.dtype == np.float32
    F = np.array(res.history["objective"])
    assert np.all(np.diff(F) <= 1e-5 * abs(F[0]))  # float32 objective values: rounding only


def test_callback_stops():
    f, y = _deblur_problem("wcrr", 0.2)
    res = monotone_apg(f, None, y, iters=100, tol=0, callback=lambda k, x: k == 3)
    assert res.iterations == 3 and res.converged and "callback" in res.message


@pytest.mark.parametrize(("kwargs", "name"), [({"step": 10.0}, "step"), ({"step": -1.0}, "step"),
                                              ({"delta": 0.0}, "delta"), ({"iters": 0}, "iters"),
                                              ({"tol": -1.0}, "tol")])
def test_bad_arguments_name_them(kwargs, name):
    f, y = _deblur_problem("wcrr", 0.2)
    with pytest.raises(ValueError, match=name):
        monotone_apg(f, None, y, **kwargs)


def test_start_outside_the_domain_is_an_error():
    f, y = _deblur_problem("wcrr", 0.2)
    with pytest.raises(ValueError, match="x0"):
        monotone_apg(f, NonNegativity(), y - 10.0)


# -- in the apps ----------------------------------------------------------------------------------
def test_deblur_wcrr_uses_the_monotone_scheme():
    f, y = _deblur_problem("wcrr", 0.3)
    reg = make_reg("wcrr")
    res = recon.deblur(y, gaussian_kernel(1.5), reg=reg, weight=0.3, iters=400, tol=1e-8, return_result=True)
    assert "rejected" in res.extras and "stationarity" in res.extras
    assert np.all(np.diff(res.history["objective"]) <= 1e-12 * abs(res.history["objective"][0]))
    direct = monotone_apg(f, None, y, iters=400, tol=1e-8)
    assert np.allclose(res.x, direct.x)
    crr = recon.deblur(y, gaussian_kernel(1.5), reg=make_reg("crr"), weight=0.3, iters=50, return_result=True)
    assert "rejected" not in crr.extras  # convex: FISTA


@pytest.fixture(scope="module")
def sparse_view():
    u = data.shepp_logan(32)
    theta = ct.uniform_angles(12)
    return u, theta, ct.sinogram(u, theta, noise=0.01, seed=0)


def test_ct_wcrr_reaches_a_critical_point(monkeypatch, sparse_view):
    monkeypatch.setitem(weights._loaded, "wcrr", make_reg("wcrr"))
    u, theta, p = sparse_view
    first = ct.reconstruct(p, theta, "wcrr", weight=0.5, shape=u.shape, iters=1, return_result=True)
    res = ct.reconstruct(p, theta, "wcrr", weight=0.5, shape=u.shape, iters=100, tol=0, return_result=True)
    assert "WCRR-NN" in res.message and "monotone APG" in res.message
    assert float(res.x.min()) >= 0
    F = np.array(res.history["objective"])
    assert np.all(np.diff(F) <= 1e-12 * abs(F[0]))
    # sparse-view CT converges slowly; 100 iterations cut the stationarity residual by > 300
    assert res.extras["stationarity"] < first.extras["stationarity"] / 300
    fbp = ct.fbp(p, theta, shape=u.shape)
    assert recon.metrics.psnr(res.x, u, data_range=1) > recon.metrics.psnr(fbp, u, data_range=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ct_wcrr_keeps_the_dtype(monkeypatch, sparse_view, dtype):
    monkeypatch.setitem(weights._loaded, "wcrr", make_reg("wcrr"))
    u, theta, p = sparse_view
    x = ct.reconstruct(p.astype(dtype), theta, "wcrr", weight=0.5, shape=u.shape, iters=20)
    assert x.dtype == dtype and x.shape == u.shape


def test_ct_wcrr_without_weights_names_the_missing_folder(monkeypatch, tmp_path, sparse_view):
    monkeypatch.delitem(weights._loaded, "wcrr", raising=False)
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path))
    u, theta, p = sparse_view
    with pytest.raises(FileNotFoundError, match="wcrr-nn"):
        ct.reconstruct(p, theta, "wcrr", weight=0.5, shape=u.shape, iters=2)
