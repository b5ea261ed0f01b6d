"""Nonlinear power method: eigen-residual certificate and monotone Rayleigh quotient."""
import numpy as np
import pytest

from recon.functionals.norms import L1
from recon.operators import MatrixOperator
from recon.solvers.power_method import nonlinear_power_method, operator_norm


def test_l1_prox_eigenvector_and_monotone_rayleigh():
    # eigenvectors of prox_{tL1} are vectors with equal magnitudes on their support
    rng = np.random.default_rng(0)
    u0 = rng.standard_normal(50)
    J, t = L1(), 0.02
    res = nonlinear_power_method(lambda u: J.prox(u, t), u0, J=J, iters=5000, tol=1e-10)
    assert res.converged
    u = res.x
    support = np.abs(u) > 0
    assert np.allclose(np.abs(u[support]), np.abs(u[support])[0])
    c = res.extras["factor"]
    assert np.linalg.norm(J.prox(u, t) - c * u) <= 1e-8
    lam = (1 - c) / t  # eigenvalue: J(u) = lam ||u||^2
    assert J(u) == pytest.approx(lam * np.linalg.norm(u) ** 2, rel=1e-8)
    rq = np.array(res.history["rayleigh"])
    assert np.all(np.diff(rq) <= 1e-12 * rq[:-1])


def test_linear_map_gives_dominant_eigenvector():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    M = Q @ np.diag([3.0, 1.0, 0.5, 0.2, 0.1, 0.05]) @ Q.T
    res = nonlinear_power_method(lambda u: M @ u, rng.standard_normal(6), iters=500, tol=1e-12)
    assert res.converged
    assert abs(abs(res.x @ Q[:, 0]) - 1) < 1e-10
    assert res.extras["factor"] == pytest.approx(3.0, rel=1e-10)


def test_vanishing_map_is_reported():
    res = nonlinear_power_method(lambda u: 0 * u, np.ones(3), iters=10)
    assert not res.converged and "vanished" in res.message


def test_operator_norm_matches_svd():
    rng = np.random.default_rng(2)
    M = rng.standard_normal((8, 5))
    assert operator_norm(MatrixOperator(M)) == pytest.approx(np.linalg.norm(M, 2), rel=1e-6)


def test_bad_start():
    with pytest.raises(ValueError, match="u0 must be non-zero"):
        nonlinear_power_method(lambda u: u, np.zeros(3))
    with pytest.raises(ValueError, match="u0 contains NaN"):
        nonlinear_power_method(lambda u: u, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="iters"):
        nonlinear_power_method(lambda u: u, np.ones(3), iters=0)
