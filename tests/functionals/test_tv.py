"""TV: value, prox against skimage and a brute-force dual solve, an honest gap, warm start; HuberTV."""
import math

import numpy as np
import pytest
from scipy.optimize import minimize

from recon.backend import to_numpy
from recon.functionals import TV, HuberTV
from tests.helpers import tolerance
from tests.helpers.prox_checks import assert_grad_fd, assert_lipschitz

RNG = np.random.default_rng(3)


def _noisy_camera(n=64, sigma=0.1, seed=0):
    from skimage import data, transform

    img = transform.resize(data.camera().astype(float) / 255, (n, n), anti_aliasing=True)
    return img + sigma * np.random.default_rng(seed).standard_normal(img.shape)


def _grad_matrix(shape):
    """Dense forward differences (Neumann), built from np.diff independently of recon."""
    n = int(np.prod(shape))
    cols = []
    for e in np.eye(n):
        u = e.reshape(shape)
        parts = [np.append(np.diff(u, axis=a), np.zeros_like(np.take(u, [0], axis=a)), axis=a)
                 for a in range(len(shape))]
        cols.append(np.stack(parts).ravel())
    return np.array(cols).T  # (d * n, n)


def _objective(u, f, w, isotropic=True):
    g = (_grad_matrix(f.shape) @ u.ravel()).reshape((f.ndim,) + f.shape)
    tv = np.sum(np.sqrt(np.sum(g**2, axis=0))) if isotropic else np.sum(np.abs(g))
    return w * tv + 0.5 * np.sum((u - f) ** 2)


def test_value_computed_independently():
    u = RNG.standard_normal((5, 4))
    gx = np.zeros_like(u)
    gy = np.zeros_like(u)
    gx[:-1] = np.diff(u, axis=0)
    gy[:, :-1] = np.diff(u, axis=1)
    assert TV()(u) == pytest.approx(np.sum(np.hypot(gx, gy)))
    assert TV(isotropic=False)(u) == pytest.approx(np.sum(np.abs(gx) + np.abs(gy)))
    assert TV()(np.full((3, 3), 2.0)) == 0.0


@pytest.mark.parametrize("weight, eps", [(0.05, 1e-9), (0.1, 1e-12)])
def test_prox_matches_skimage_chambolle(weight, eps):
    """skimage's denoise_tv_chambolle(f, weight) minimises weight * TV(u) + 1/2 ||u - f||^2 with the same
    forward differences and Neumann boundary: u = f + grad^T p, p projected onto |p_i| <= weight."""
    from skimage.restoration import denoise_tv_chambolle

    f = _noisy_camera()
    # Chambolle's projection iteration is slow: at larger weights it stalls above the optimum unless
    # eps is tiny, hence eps per case (weight 0.2 with eps=1e-9 stops 0.4% away)
    ref = denoise_tv_chambolle(f, weight=weight, eps=eps, max_num_iter=200000)
    tv = TV(inner_tol=1e-8, inner_iters=20000, warm_start=False)
    u, tv_info = tv.prox_with_info(f, weight)
    assert tv_info["converged"]
    assert np.linalg.norm(u - ref) / np.linalg.norm(ref) <= 1e-3
    assert _objective(u, f, weight) <= _objective(ref, f, weight) * (1 + 1e-7)


def test_prox_matches_skimage_in_3d():
    from skimage.restoration import denoise_tv_chambolle

    f = RNG.random((6, 7, 5))
    ref = denoise_tv_chambolle(f, weight=0.1, eps=1e-10, max_num_iter=50000)
    u = TV(inner_tol=1e-9, inner_iters=20000).prox(f, 0.1)
    assert np.linalg.norm(u - ref) / np.linalg.norm(ref) <= 1e-3


@pytest.mark.parametrize("shape", [(3, 4), (9,)])
def test_anisotropic_prox_matches_brute_force(shape):
    """The dual min_{|p|_inf <= 1} 1/2 ||f - w D^T p||^2 solved by L-BFGS-B with a dense D."""
    f = RNG.standard_normal(shape)
    w = 0.3
    D = _grad_matrix(shape)
    res = minimize(lambda p: 0.5 * np.sum((f.ravel() - w * D.T @ p) ** 2), np.zeros(D.shape[0]),
                   jac=lambda p: -w * D @ (f.ravel() - w * D.T @ p), method="L-BFGS-B",
                   bounds=[(-1, 1)] * D.shape[0], options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 50000})
    brute = (f.ravel() - w * D.T @ res.x).reshape(shape)
    tv = TV(isotropic=False, inner_tol=1e-9, inner_iters=50000)
    u, tv_info = tv.prox_with_info(f, w)
    gap = tv_info["gap"]
    assert _objective(u, f, w, False) <= _objective(brute, f, w, False) + gap + 1e-12
    # the prox objective is 1-strongly convex: ||u - u*||^2 <= 2 gap
    assert np.linalg.norm(u - brute) <= math.sqrt(2 * gap) + 1e-6


def test_isotropic_prox_matches_constrained_brute_force():
    f = RNG.standard_normal((3, 3))
    w = 0.4
    D = _grad_matrix(f.shape)
    m = f.size

    def dual(p):
        return 0.5 * np.sum((f.ravel() - w * D.T @ p) ** 2)

    cons = [{"type": "ineq", "fun": lambda p, i=i: 1 - p[i] ** 2 - p[m + i] ** 2} for i in range(m)]
    res = minimize(dual, np.zeros(2 * m), method="SLSQP", constraints=cons, options={"ftol": 1e-15, "maxiter": 1000})
    brute = (f.ravel() - w * D.T @ res.x).reshape(f.shape)
    tv = TV(inner_tol=1e-9, inner_iters=50000)
    u, tv_info = tv.prox_with_info(f, w)
    gap = tv_info["gap"]
    assert _objective(u, f, w) <= _objective(brute, f, w) + gap + 1e-12
    assert np.linalg.norm(u - brute) <= math.sqrt(2 * gap) + 1e-6


@pytest.mark.parametrize("isotropic", [True, False])
def test_gap_certificate_is_honest(isotropic):
    """The reported gap bounds the true objective error and meets the tolerance asked for."""
    f = _noisy_camera(32)
    w = 0.15
    exact = TV(isotropic=isotropic, inner_tol=1e-9, inner_iters=50000, warm_start=False).prox(f, w)
    best = _objective(exact, f, w, isotropic)
    for tol in (1e-2, 1e-3, 1e-4):
        tv = TV(isotropic=isotropic, inner_tol=tol, warm_start=False)
        u, tv_info = tv.prox_with_info(f, w)
        info = tv_info
        err = _objective(u, f, w, isotropic) - best
        assert info["converged"] and info["rel_gap"] <= tol and info["iterations"] > 0
        assert -1e-7 <= err <= info["gap"] * (1 + 1e-9) + 1e-7, (err, info)  # 1e-7: error of `exact`
        assert info["rel_gap"] == pytest.approx(info["gap"] / _objective(u, f, w, isotropic), rel=1e-9)


def test_warm_start_reuses_the_dual_variable():
    f = _noisy_camera(32)
    tv = TV(inner_tol=1e-5)
    u1, tv_info = tv.prox_with_info(f, 0.1)
    first = tv_info["iterations"]
    u2, tv_info = tv.prox_with_info(f, 0.1)
    assert tv_info["iterations"] == 0 and tv_info["converged"]  # the same input: no work
    assert np.array_equal(u1, u2) and u2 is not u1
    _, tv_info = tv.prox_with_info(f + 0.01 * RNG.standard_normal(f.shape), 0.1)
    assert 0 < tv_info["iterations"] < first
    # a new input close enough that the previous answer still meets the tolerance: it must move anyway
    # (handing it back unchanged made FISTA see a zero step and stop)
    g = f + 0.01 * RNG.standard_normal(f.shape)
    u3, tv_info = tv.prox_with_info(g, 0.1)
    u4, tv_info = tv.prox_with_info(g + 1e-9, 0.1)
    assert tv_info["iterations"] >= 1 and not np.array_equal(u3, u4)
    cold = TV(inner_tol=1e-5, warm_start=False)
    _, cold_info = cold.prox_with_info(f, 0.1)
    _, cold_info = cold.prox_with_info(f, 0.1)
    assert cold_info["iterations"] == first
    _, tv_info = tv.prox_with_info(f.astype(np.float32), 0.1)  # another dtype: a fresh workspace, no error
    assert tv_info["iterations"] > 0


def test_prox_on_every_backend_and_dtype(xp, dtype, make):
    f = _noisy_camera(24)
    ref = TV(inner_tol=1e-9, inner_iters=20000).prox(f, 0.1)
    tv = TV(inner_tol=tolerance(dtype, xp, 1e-7, 1e-4))
    u, tv_info = tv.prox_with_info(make(f), 0.1)
    assert u.dtype == dtype and type(u) is type(make(f))
    # 1-strong convexity: ||u - u*|| <= sqrt(2 gap); float32 adds its rounding
    bound = math.sqrt(2 * tv_info["gap"]) + tolerance(dtype, xp, 1e-6, 1e-4) * np.linalg.norm(ref)
    assert np.linalg.norm(to_numpy(u) - ref) <= bound
    assert tv(make(f)) == pytest.approx(TV()(f), rel=tolerance(dtype, xp, 1e-12, 1e-5))


def test_weighted_tv_prox_scales_the_step():
    f = _noisy_camera(16)
    a = (3.0 * TV(inner_tol=1e-9, inner_iters=20000)).prox(f, 0.05)
    b = TV(inner_tol=1e-9, inner_iters=20000).prox(f, 0.15)
    assert np.allclose(a, b, atol=1e-6)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="tau must be a finite number > 0, got 0"):
        TV().prox(np.ones((3, 3)), 0)
    with pytest.raises(ValueError, match=r"x has shape \(3, 4\), expected \(4, 3\)"):
        TV(shape=(4, 3)).prox(np.ones((3, 4)), 1.0)
    with pytest.raises(ValueError, match="inner_tol must be a finite number > 0, got 0"):
        TV(inner_tol=0)
    with pytest.raises(ValueError, match="inner_iters must be a positive int, got 0"):
        TV(inner_iters=0)
    with pytest.raises(ValueError, match="shape must be"):
        TV(shape=(0, 2))
    with pytest.raises(ValueError, match="delta must be a finite number > 0, got -1"):
        HuberTV((3, 3), delta=-1)


# -- HuberTV -------------------------------------------------------------------------------------
def test_huber_value_gradient_lipschitz():
    u = RNG.standard_normal((6, 5))
    delta = 0.3
    F = HuberTV(u.shape, delta)
    g = (_grad_matrix(u.shape) @ u.ravel()).reshape((2,) + u.shape)
    s = np.sqrt(np.sum(g**2, axis=0))
    expected = np.sum(np.where(s <= delta, s**2 / (2 * delta), s - delta / 2))
    assert F(u) == pytest.approx(expected)
    assert_grad_fd(F, u)
    assert F.lipschitz == pytest.approx(8 / delta)
    assert assert_lipschitz(F, u.shape, trials=3) <= F.lipschitz
    assert 0 <= TV()(u) - F(u) <= u.size * delta / 2 + 1e-12


def test_huber_dtype(xp, dtype, make):
    F = HuberTV((5, 4), 0.1)
    u = make(RNG.standard_normal((5, 4)))
    assert F.grad(u).dtype == dtype
    assert math.isfinite(F(u))
