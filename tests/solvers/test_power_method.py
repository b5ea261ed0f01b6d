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


# --------------------------------------------------------------------------------------------
# TV: the disk is (nearly) an eigenfunction; the power method finds eigenfunctions from noise
# --------------------------------------------------------------------------------------------
def test_disk_is_a_tv_eigenfunction_up_to_discretisation():
    from recon.functionals.tv import TV

    n, r, t = 64, 12, 0.5
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    u = (xx**2 + yy**2 <= r**2).astype(float)
    v = u - u.mean()  # orthogonal to the constants, TV's null space (Neumann boundary)
    tv = TV(inner_tol=1e-8, inner_iters=5000)
    z = tv.prox(v, t)
    c = float(np.vdot(z, v) / np.vdot(v, v))
    # continuum eigenvalue of the zero-mean disk in a bounded domain: perimeter / (|D| (1 - |D|/|Omega|))
    area, a = u.sum(), u.mean()
    lam_continuum = 2 * np.pi * r / (area * (1 - a))
    lam_discrete = tv(v) / np.vdot(v, v)  # Rayleigh quotient of the pixelated disk
    lam_prox = (1 - c) / t
    assert abs(lam_prox / lam_discrete - 1) < 0.05  # measured 2-3%: corners of the staircase round off
    assert abs(lam_prox / lam_continuum - 1) < 0.15  # measured ~12%: discrete TV overestimates the perimeter
    assert np.linalg.norm(z - c * v) <= 0.1 * np.linalg.norm(c * v)


def test_tv_power_method_from_noise_converges_with_monotone_rayleigh():
    from recon.functionals.tv import TV

    n = 16
    u0 = np.random.default_rng(0).standard_normal((n, n))
    u0 -= u0.mean()
    tv = TV(inner_tol=1e-7, inner_iters=20000)

    def T(u):  # T = prox_{t TV} with a fixed t, as in the theory
        return tv.prox(u, 0.1)

    res = nonlinear_power_method(T, u0, J=tv, iters=500, tol=1e-4, subtract_mean=True)
    assert res.converged
    u = res.x
    Tu = T(u)
    Tu -= Tu.mean()
    c = res.extras["factor"]
    assert np.linalg.norm(Tu - c * u) <= 1e-4 * np.linalg.norm(u)
    rq = np.array(res.history["rayleigh"])
    assert np.all(np.diff(rq) <= 1e-6 * rq[:-1])  # non-increasing up to the inner solver's accuracy
    assert rq[-1] < 0.2 * rq[0]
    assert abs(u.mean()) < 1e-12
