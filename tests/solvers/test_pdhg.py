"""pdhg: known minimisers, the primal-dual gap as certificate, acceleration, in-place paths, checks."""
import re

import numpy as np
import pytest

from recon.backend import to_numpy
from recon.functionals import SeparableSum
from recon.operators import Gradient, Identity, MatrixOperator, stack
from recon.solvers import fista, pdhg
from tests.helpers.toy import L1, GroupL1, HalfSquaredDistance, LeastSquares, ProxOnly, lasso_kkt, lasso_problem


def test_least_squares_matches_lstsq(xp, dtype, make):
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((15, 6)), rng.standard_normal(15)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    f64 = dtype == xp.float64
    res = pdhg(HalfSquaredDistance(make(b)), None, MatrixOperator(make(A)), make(np.zeros(6)), iters=5000,
               tol=1e-12 if f64 else 1e-7)
    assert res.x.dtype == dtype and res.extras["y"].dtype == dtype
    err = np.linalg.norm(to_numpy(res.x) - x_star) / np.linalg.norm(x_star)
    assert err <= (1e-6 if f64 else 1e-4)
    # the dual solution of min ½‖Ax − b‖² is the residual Ax* − b
    np.testing.assert_allclose(to_numpy(res.extras["y"]), A @ x_star - b, atol=1e-6 if f64 else 1e-3)


def test_lasso_gap_goes_to_zero(xp, dtype, make):
    A, b, lam = lasso_problem()
    f64 = dtype == xp.float64
    res = pdhg(HalfSquaredDistance(make(b)), L1(lam), MatrixOperator(make(A)), make(np.zeros(A.shape[1])),
               iters=4000, tol=0.0, record_every=100)
    gap = np.array(res.history["gap"])
    assert np.all(gap >= -1e-10 * abs(res.history["objective"][-1]))  # weak duality
    assert gap[-1] <= (1e-10 if f64 else 1e-4) * res.history["objective"][-1]
    assert lasso_kkt(A, b, lam, to_numpy(res.x)) <= (1e-6 if f64 else 1e-3) * np.abs(A.T @ b).max()
    assert res.history["primal_residual"][-1] <= (1e-6 if f64 else 1e-2)
    assert res.history["dual_residual"][-1] <= (1e-6 if f64 else 1e-2)


def _tv_denoising(n=(12, 10), lam=0.3, seed=4):
    rng = np.random.default_rng(seed)
    clean = np.zeros(n)
    clean[3:9, 2:7] = 1.0
    return clean + 0.2 * rng.standard_normal(n), lam


def test_tv_denoising_gap_certificate(xp, dtype, make):
    b, lam = _tv_denoising()
    res = pdhg(GroupL1(lam), HalfSquaredDistance(make(b)), Gradient(b.shape), make(b), iters=1500,
               tol=0.0, record_every=50, accelerate="auto")
    assert res.x.dtype == dtype
    gap, obj = np.array(res.history["gap"]), np.array(res.history["objective"])
    assert np.all(gap >= -1e-6 * obj)  # weak duality, up to rounding
    assert gap[-1] <= 1e-6 * obj[-1]
    # weak duality: every primal value is >= P* >= P(x_last) - gap_last
    assert np.all(obj >= obj[-1] - gap[-1] - 1e-6 * obj[-1])


def test_acceleration_needs_fewer_iterations():
    b, lam = _tv_denoising(n=(20, 20))
    K, f, g = Gradient(b.shape), GroupL1(lam), HalfSquaredDistance(b)

    def iterations_to_gap(**kw):
        res = pdhg(f, g, K, b, iters=3000, tol=0.0, record_every=1, **kw)
        rel = np.array(res.history["gap"]) / np.array(res.history["objective"])
        return int(np.argmax(rel <= 1e-6)) + 1 if np.any(rel <= 1e-6) else np.inf

    plain, accelerated = iterations_to_gap(), iterations_to_gap(accelerate=True)
    assert accelerated < 0.5 * plain
    with pytest.raises(ValueError, match=re.escape("accelerate=True needs g.strong_convexity > 0, got 0.0")):
        pdhg(f, L1(0.1), K, b, accelerate=True)


def test_accelerated_steps_follow_algorithm_2():
    b, lam = _tv_denoising()
    res = pdhg(GroupL1(lam), HalfSquaredDistance(b), Gradient(b.shape), b, iters=20, tol=0.0, record_every=1,
               accelerate=True)
    tau, sigma = np.array(res.history["tau"]), np.array(res.history["sigma"])
    theta = 1 / np.sqrt(1 + 2 * 1.0 * tau[:-1])
    np.testing.assert_allclose(tau[1:], theta * tau[:-1], rtol=1e-14)
    np.testing.assert_allclose(tau * sigma, tau[0] * sigma[0], rtol=1e-12)  # the product is kept


def test_stacked_operator_with_separable_sum_matches_fista():
    # min ½‖Ax − b‖² + λ‖x‖₁ written as f(Kx) with K = [A; I], f = (½‖· − b‖², λ‖·‖₁), g = 0
    A, b, lam = lasso_problem(seed=5)
    K = stack([MatrixOperator(A), Identity((A.shape[1],))])
    res = pdhg(SeparableSum(HalfSquaredDistance(b), L1(lam)), None, K, iters=6000, tol=0.0, record_every=200)
    ref = fista(LeastSquares(MatrixOperator(A), b), L1(lam), np.zeros(A.shape[1]), iters=5000, tol=1e-14)
    assert isinstance(res.extras["y"], tuple) and len(res.extras["y"]) == 2
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7 * np.abs(ref.x).max())
    # g = 0 makes g*(−K*y) an indicator of K*y = 0, infinite under rounding: the residuals certify instead
    assert res.history["primal_residual"][-1] <= 1e-8 and res.history["dual_residual"][-1] <= 1e-8


def _same_run(f1, f2, K1, K2, g, x0, iters=40):
    r1 = pdhg(f1, g, K1, x0, iters=iters, tol=0.0)
    r2 = pdhg(f2, g, K2, x0, iters=iters, tol=0.0)
    np.testing.assert_allclose(r1.x, r2.x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r1.extras["y"], r2.extras["y"], rtol=0, atol=1e-12)


def test_in_place_paths_match_generic_path():
    b, lam = _tv_denoising()
    G = Gradient(b.shape)
    generic_K = 1.0 * G  # a scaled operator offers no forward_into / adjoint_into
    g = HalfSquaredDistance(b)
    _same_run(GroupL1(lam), GroupL1(lam), G, generic_K, g, b)  # in-place K
    _same_run(GroupL1(lam, in_place=True), GroupL1(lam), G, generic_K, g, b)  # in-place K, prox_conj
    _same_run(2.0 * GroupL1(lam / 2, in_place=True), GroupL1(lam), G, G, g, b)  # scaled in-place prox_conj
    # g = 0 hands back the work array as x (prox is the identity): the solver must not overwrite it
    _same_run(HalfSquaredDistance(G(b)), HalfSquaredDistance(G(b)), G, generic_K, None, np.zeros_like(b))


def test_inputs_are_not_modified():
    b, lam = _tv_denoising()
    x0, y0 = b.copy(), 0.1 * Gradient(b.shape)(b)
    y0_copy = y0.copy()
    pdhg(GroupL1(lam, in_place=True), HalfSquaredDistance(b), Gradient(b.shape), x0, y0=y0, iters=10)
    assert np.array_equal(x0, b) and np.array_equal(y0, y0_copy)


def test_default_steps_and_step_check():
    A = np.diag([3.0, 1.0, 0.5])
    K, f = MatrixOperator(A), HalfSquaredDistance(np.ones(3))
    res = pdhg(f, None, K, np.zeros(3), iters=2)
    assert res.extras["tau"] == pytest.approx(0.99 / 3) and res.extras["sigma"] == pytest.approx(0.99 / 3)
    res = pdhg(f, None, K, np.zeros(3), tau=0.1, iters=2)
    assert res.extras["tau"] * res.extras["sigma"] * 9 == pytest.approx(0.99)
    with pytest.raises(ValueError, match=r"tau \* sigma \* \|\|K\|\|\^2 = 1\.08 \(tau = 0\.3, sigma = 0\.4"):
        pdhg(f, None, K, np.zeros(3), tau=0.3, sigma=0.4)


def test_x0_default_and_y0_start():
    b, lam = _tv_denoising()
    res = pdhg(GroupL1(lam), HalfSquaredDistance(b), Gradient(b.shape), iters=5)
    assert res.x.shape == b.shape and res.x.dtype == np.float64
    y0 = np.zeros((2,) + b.shape, dtype=np.float32)
    res = pdhg(GroupL1(lam), HalfSquaredDistance(b.astype(np.float32)), Gradient(b.shape), y0=y0, iters=5)
    assert res.x.dtype == np.float32


def test_gap_skipped_without_conjugate():
    b, lam = _tv_denoising()
    res = pdhg(GroupL1(lam), ProxOnly(HalfSquaredDistance(b)), Gradient(b.shape), b, iters=20, record_every=5)
    assert "gap" not in res.history and "objective" not in res.history
    assert len(res.history["primal_residual"]) == 4


def test_callback_and_tol_stop():
    b, lam = _tv_denoising()
    args = (GroupL1(lam), HalfSquaredDistance(b), Gradient(b.shape), b)
    res = pdhg(*args, iters=100, callback=lambda k, x: k == 4)
    assert res.iterations == 4 and res.converged and "callback" in res.message
    res = pdhg(*args, iters=5000, tol=1e-5, record_every=10)
    assert res.converged and res.iterations < 5000 and res.history["relative_change"][-1] <= 1e-5
    res = pdhg(*args, iters=7, tol=0.0, record_every=3, progress=True)
    assert res.history["iteration"] == [3, 6, 7] and not res.converged


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(iters=0), ValueError, "iters must be a positive int, got 0"),
        (dict(tol=float("inf")), ValueError, "tol must be a finite number >= 0, got inf"),
        (dict(tau=-1.0), ValueError, "tau must be a finite number > 0, got -1.0"),
        (dict(sigma=0.0), ValueError, "sigma must be a finite number > 0, got 0.0"),
        (dict(theta=1.5), ValueError, r"theta must be in \[0, 1\], got 1.5"),
        (dict(accelerate="yes"), ValueError, "accelerate must be False, True or 'auto', got 'yes'"),
        (dict(record_every=-2), ValueError, "record_every must be a positive int, got -2"),
        (dict(x0=np.zeros((3, 3))), ValueError, r"x0 has shape \(3, 3\), expected K.shape_in = \(12, 10\)"),
        (dict(x0=np.full((12, 10), np.nan)), ValueError, "x0 contains NaN"),
        (dict(y0=np.zeros((12, 10))), ValueError, r"y0 has shape \(12, 10\), expected K.shape_out"),
        (dict(callback="stop"), TypeError, "callback must be callable"),
    ],
)
def test_bad_input(kwargs, error, match):
    b, lam = _tv_denoising()
    with pytest.raises(error, match=match):
        pdhg(GroupL1(lam), HalfSquaredDistance(b), Gradient(b.shape), **kwargs)


def test_bad_problem():
    with pytest.raises(TypeError, match="K must be a LinearOperator"):
        pdhg(GroupL1(1.0), None, np.eye(3))
    with pytest.raises(TypeError, match="f must be a Functional with prox_conj"):
        pdhg(object(), None, Gradient((3, 3)))


def test_default_start_follows_the_data_dtype_and_library(xp, dtype, make):
    # no x0: the iterates take the library and dtype of the data a term carries
    from recon.functionals import L21, L2DataFidelity, SeparableSum
    from recon.operators import Gradient, Identity, stack

    b = make(np.random.default_rng(0).random((6, 5)))
    res = pdhg(0.1 * L21(), L2DataFidelity(b), Gradient((6, 5)), iters=3)
    assert res.x.dtype == dtype and type(res.x) is type(b)
    res = pdhg(SeparableSum(L2DataFidelity(b), 0.1 * L21()), None, stack([Identity((6, 5)), Gradient((6, 5))]), iters=3)
    assert res.x.dtype == dtype and type(res.x) is type(b)
