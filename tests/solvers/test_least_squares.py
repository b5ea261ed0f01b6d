"""landweber and cgls against numpy.linalg.lstsq on small dense problems; stopping rules."""
import numpy as np
import pytest

from recon.operators import MatrixOperator
from recon.solvers import cgls, landweber


def _problem(m=12, n=5, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((m, n))
    y = rng.standard_normal(m)
    return MatrixOperator(M), M, y


@pytest.mark.parametrize("solver, kwargs", [(landweber, dict(iters=5000, tol=1e-13)), (cgls, dict(tol=1e-13))])
def test_matches_lstsq(solver, kwargs):
    K, M, y = _problem()
    res = solver(K, y, **kwargs)
    ref = np.linalg.lstsq(M, y, rcond=None)[0]
    np.testing.assert_allclose(res.x, ref, rtol=1e-7, atol=1e-9)
    assert res.converged


def test_cgls_damped_is_tikhonov():
    K, M, y = _problem(seed=1)
    res = cgls(K, y, damp=0.5, tol=1e-13)
    ref = np.linalg.solve(M.T @ M + 0.5 * np.eye(M.shape[1]), M.T @ y)
    np.testing.assert_allclose(res.x, ref, rtol=1e-8)
    assert res.iterations <= M.shape[1] + 2


def test_landweber_nonneg_stays_feasible():
    K, M, y = _problem(seed=2)
    res = landweber(K, y, nonneg=True, iters=50)
    assert np.all(res.x >= 0)
    assert np.all(np.diff(res.history["residual"]) <= 1e-12)  # monotone residual


@pytest.mark.parametrize("solver", [landweber, cgls])
def test_discrepancy_principle_stops_early(solver):
    K, M, y = _problem(m=40, n=20, seed=3)
    full = np.linalg.norm(M @ np.linalg.lstsq(M, y, rcond=None)[0] - y)
    level = 1.5 * full
    res = solver(K, y, iters=5000, tol=0, noise_level=level, eta=1.0)
    assert res.converged and "discrepancy" in res.message
    assert res.history["residual"][-1] <= level
    assert res.iterations < 5000


@pytest.mark.parametrize("solver", [landweber, cgls])
def test_callback_stops(solver):
    K, _, y = _problem()
    seen = []
    res = solver(K, y, iters=100, tol=0, callback=lambda k, x: seen.append(k) or k == 3)
    assert res.iterations == 3 and seen == [1, 2, 3] and res.message == "stopped by callback"


def test_bad_arguments():
    K, M, y = _problem()
    with pytest.raises(ValueError, match="step must be < 2/"):
        landweber(K, y, step=3.0 / np.linalg.norm(M, 2) ** 2)
    with pytest.raises(ValueError, match="damp must be a finite number >= 0"):
        cgls(K, y, damp=-1)
    with pytest.raises(ValueError, match="y has shape"):
        cgls(K, y[:3])
    with pytest.raises(ValueError, match="iters must be a positive int"):
        landweber(K, y, iters=0)
