"""Tikhonov ||Lx||^2: the convention (no 1/2), closed-form and CG prox, gradient, conjugate."""
import numpy as np
import pytest

from recon.backend import to_numpy
from recon.functionals import Tikhonov
from recon.operators import Gradient, MatrixOperator
from tests.helpers import tolerance
from tests.helpers.prox_checks import assert_fenchel_young, assert_grad_fd, assert_lipschitz, assert_prox_optimal

RNG = np.random.default_rng(2)


def test_value_is_squared_norm_without_half():
    assert Tikhonov()(np.array([3.0, 4.0])) == pytest.approx(25.0)
    M = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, -1.0]])
    x = np.array([1.0, 2.0])
    assert Tikhonov(MatrixOperator(M))(x) == pytest.approx(25 + 4 + 1)


def test_identity_prox_gradient_conjugate():
    F = Tikhonov()
    x = RNG.standard_normal((2, 3))
    assert_prox_optimal(F, x, 0.8)
    assert_grad_fd(F, x)
    assert F.lipschitz == 2.0 and F.strong_convexity == 2.0
    assert_fenchel_young(F, x, 0.8, 1e-12)


@pytest.mark.parametrize("shape", [(4, 5), (7,)])
def test_cg_prox_solves_the_linear_system(shape, xp, dtype, make):
    F = Tikhonov(Gradient(shape))
    x_np = RNG.standard_normal(shape)
    tau = 1.3
    # dense L built independently from np.diff along each axis (Neumann: last difference zero)
    n = int(np.prod(shape))
    rows = []
    for e in np.eye(n):
        u = e.reshape(shape)
        rows.append(np.concatenate([
            np.append(np.diff(u, axis=a), np.zeros_like(np.take(u, [0], axis=a)), axis=a).ravel()
            for a in range(len(shape))]))
    L = np.array(rows).T
    expected = np.linalg.solve(np.eye(n) + 2 * tau * L.T @ L, x_np.ravel()).reshape(shape)
    z, F_info = F.prox_with_info(make(x_np), tau)
    assert z.dtype == dtype
    assert np.allclose(to_numpy(z), expected, atol=tolerance(dtype, xp, 1e-7, 1e-4))
    assert 0 < F_info < 200


def test_general_operator_gradient_and_lipschitz():
    M = RNG.standard_normal((6, 4))
    F = Tikhonov(MatrixOperator(M))
    x = RNG.standard_normal(4)
    assert_grad_fd(F, x)
    assert F.lipschitz == pytest.approx(2 * np.linalg.norm(M, 2) ** 2, rel=1e-6)
    assert assert_lipschitz(F, (4,)) <= F.lipschitz
    assert_prox_optimal(F, x, 0.5)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="cg_tol must be a finite number > 0, got -1"):
        Tikhonov(cg_tol=-1)
    with pytest.raises(ValueError, match="cg_iters must be a positive int, got 0"):
        Tikhonov(cg_iters=0)
    with pytest.raises(TypeError, match="op must be a LinearOperator"):
        Tikhonov(np.eye(3))
    with pytest.raises(ValueError, match="tau must be a finite number > 0, got 0"):
        Tikhonov().prox(np.ones(2), 0)
    with pytest.raises(NotImplementedError, match="closed form only for L = I"):
        Tikhonov(Gradient((3,))).conj(np.ones(3))
