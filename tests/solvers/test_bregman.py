"""Linearized Bregman: basis pursuit recovered exactly, step-size condition, discrepancy principle."""
import numpy as np
import pytest

from recon.backend import to_numpy
from recon.functionals.norms import L1
from recon.operators import MatrixOperator
from recon.solvers.bregman import linearized_bregman


def _compressed_sensing(m=200, n=1000, k=20, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x = np.zeros(n)
    x[rng.choice(n, k, replace=False)] = rng.standard_normal(k)
    return A, x


@pytest.mark.parametrize("momentum", [False, True])
def test_basis_pursuit_exact_recovery(momentum):
    A, x_true = _compressed_sensing()
    mu = 10 * np.abs(x_true).max()  # exact regularisation of the augmented l1 problem (Yin 2010)
    res = linearized_bregman(MatrixOperator(A), A @ x_true, mu * L1(), iters=20000, tol=1e-10, momentum=momentum)
    assert res.converged
    assert np.linalg.norm(res.x - x_true) / np.linalg.norm(x_true) <= 1e-6


def test_momentum_needs_fewer_iterations():
    A, x_true = _compressed_sensing(seed=1)
    y = A @ x_true
    plain = linearized_bregman(MatrixOperator(A), y, 5.0 * L1(), iters=20000, tol=1e-8)
    fast = linearized_bregman(MatrixOperator(A), y, 5.0 * L1(), iters=20000, tol=1e-8, momentum=True)
    assert fast.converged and plain.converged
    assert fast.iterations < plain.iterations


def test_float32_and_strict_backend(xp, dtype, make):
    A, x_true = _compressed_sensing(m=60, n=150, k=5, seed=2)
    K = MatrixOperator(make(A))
    res = linearized_bregman(K, make(A @ x_true), 10.0 * L1(), iters=5000, tol=1e-5, momentum=True)
    assert res.x.dtype == dtype
    err = np.linalg.norm(to_numpy(res.x) - x_true) / np.linalg.norm(x_true)
    assert err <= (1e-3 if dtype == xp.float32 else 1e-5)


def test_discrepancy_principle_stops_at_noise_level():
    A, x_true = _compressed_sensing(seed=3)
    rng = np.random.default_rng(5)
    noise = 0.01 * rng.standard_normal(A.shape[0])
    y = A @ x_true + noise
    delta = float(np.linalg.norm(noise))
    res = linearized_bregman(MatrixOperator(A), y, 5.0 * L1(), iters=20000, noise_level=delta, eta=1.1)
    assert res.converged and "discrepancy" in res.message
    r = res.history["residual"]
    assert r[-1] <= 1.1 * delta < r[-2]  # the first iterate inside the discrepancy ball


def test_bad_input_names_argument():
    A, x_true = _compressed_sensing(m=20, n=40, k=2)
    K = MatrixOperator(A)
    y = A @ x_true
    with pytest.raises(ValueError, match="tau"):
        linearized_bregman(K, y, L1(), tau=3.0 / K.norm() ** 2)
    with pytest.raises(ValueError, match="y has shape"):
        linearized_bregman(K, np.zeros(21), L1())
    with pytest.raises(ValueError, match="y contains NaN"):
        linearized_bregman(K, np.full(20, np.nan), L1())
    with pytest.raises(ValueError, match="noise_level"):
        linearized_bregman(K, y, L1(), noise_level=-1.0)
    with pytest.raises(ValueError, match="delta"):
        linearized_bregman(K, y, L1(), delta=0.0)


# --------------------------------------------------------------------------------------------
# Bregman iterations with TV: contrast loss of plain TV, contrast recovered, discrepancy stop
# --------------------------------------------------------------------------------------------
def _disk(n=64, r=12):
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    return (xx**2 + yy**2 <= r**2).astype(float)


def test_tv_bregman_recovers_contrast_of_a_disk():
    from recon.functionals.tv import TV
    from recon.solvers.bregman import bregman

    r, w = 12, 1.5
    u = _disk(r=r)
    tv = TV(inner_tol=1e-6, inner_iters=3000)
    plain = tv.prox(u, w)
    # continuum law for a disk of height 1: TV denoising lowers it by w * perimeter / area = 2 w / r
    assert plain[u > 0].mean() == pytest.approx(1 - 2 * w / r, rel=0.05)
    res = bregman(None, u, tv, tau=1 / w, iters=4, tol=0, keep_iterates=True)
    heights = [x[u > 0].mean() for x in res.extras["iterates"]]
    assert heights[0] == pytest.approx(plain[u > 0].mean(), rel=5e-3)  # first step is plain TV (to the inner accuracy)
    assert abs(heights[2] - 1) <= 0.01
    assert np.all(np.diff(res.history["residual"]) < 0)


def test_tv_bregman_discrepancy_principle_stops_before_the_noise_returns():
    from recon.functionals.tv import TV
    from recon.solvers.bregman import bregman

    u = _disk()
    noise = 0.1 * np.random.default_rng(0).standard_normal(u.shape)
    f = u + noise
    tv = TV(inner_tol=1e-5, inner_iters=2000)
    path = bregman(None, f, tv, tau=0.5, iters=25, tol=0, keep_iterates=True)
    errors = [np.linalg.norm(x - u) for x in path.extras["iterates"]]
    best = int(np.argmin(errors))
    assert errors[-1] > 2 * errors[best]  # run long enough and the noise comes back
    stopped = bregman(None, f, tv, tau=0.5, iters=25, noise_level=float(np.linalg.norm(noise)))
    assert stopped.converged and "discrepancy" in stopped.message
    assert stopped.iterations <= best + 2  # stops before the noise returns
    assert np.linalg.norm(stopped.x - u) <= 1.2 * errors[best]


def test_bregman_with_operator_matches_denoising_path():
    # with K = 2 I, the subproblem solved by fista must equal the closed-form prox path of K = I on y / 2
    from recon.functionals.tv import TV
    from recon.operators import Identity
    from recon.solvers.bregman import bregman

    u = _disk(n=24, r=5)
    K = 2.0 * Identity(u.shape)
    a = bregman(K, 2.0 * u, TV(inner_tol=1e-8, inner_iters=5000), tau=1.0, iters=3, tol=0,
                inner_tol=1e-10, inner_iters=3000)
    b = bregman(None, u, TV(inner_tol=1e-8, inner_iters=5000), tau=4.0, iters=3, tol=0)
    assert np.linalg.norm(a.x - b.x) <= 1e-4 * np.linalg.norm(b.x)


def test_linearized_bregman_with_tv_reaches_the_constraint():
    # K = I: the constraint Kx = y pins the limit to y; the inverse scale space path gets there with
    # a monotonically decreasing residual, large scales (the disk) first
    from recon.functionals.tv import TV
    from recon.operators import Identity

    u = 2.0 * _disk(n=24, r=6)
    res = linearized_bregman(Identity(u.shape), u, TV(inner_tol=1e-8, inner_iters=5000), delta=1.0, iters=3000,
                             tol=1e-4)
    assert res.converged
    assert np.linalg.norm(res.x - u) <= 1e-4 * np.linalg.norm(u)
    r = np.array(res.history["residual"])
    assert np.all(np.diff(r) <= 1e-9 * r[0])
