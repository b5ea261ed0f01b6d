"""Warp: convention (W u)(p) = u(A p + b) from the centre, exact adjoint, parameter derivative by finite differences."""
import math

import numpy as np
import pytest
import scipy.ndimage as ndi

from recon.backend import to_numpy
from recon.operators import Warp, dottest, rotation
from tests.helpers import tolerance

RNG = np.random.default_rng(11)
# generic numbers: W is piecewise smooth in the parameters, and round ones put samples exactly on
# pixel-cell boundaries, where finite differences see a kink
MATRICES = [
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    [[1.0, 0.0, 2.5371], [0.0, 1.0, -1.2493]],
    [[1.0312, 0.0731, 0.4137], [-0.0519, 0.9627, -1.3081]],
    [[0.6137, 0.0, 0.0], [0.0, 1.7119, 3.0713]],  # magnifying and shrinking: several inputs per output and holes
]


@pytest.mark.parametrize("matrix", MATRICES)
def test_adjoint(matrix, xp, dtype):
    W = Warp((9, 12), matrix)
    assert dottest(W, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert dottest(W.T, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("matrix", MATRICES)
def test_parameter_derivative_adjoint(matrix, xp, dtype, make):
    u = make(RNG.standard_normal((9, 12)))
    J = Warp((9, 12), matrix).derivative(u)
    assert dottest(J, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


def test_convention_matches_scipy_map_coordinates():
    """(W u)(p) = u(A p + b), p = (row, col) - (n - 1)/2, bilinear, zero outside."""
    u = RNG.random((10, 13))
    m = np.array(MATRICES[2])
    c = (np.array(u.shape) - 1) / 2
    rows, cols = np.mgrid[: u.shape[0], : u.shape[1]]
    p = np.stack([rows - c[0], cols - c[1]]).reshape(2, -1)
    q = m[:, :2] @ p + m[:, 2:] + c[:, None]
    ref = ndi.map_coordinates(np.pad(u, 1), q + 1, order=1, mode="constant").reshape(u.shape)
    assert np.allclose(Warp(u.shape, m)(u), ref, atol=1e-13)


def test_integer_shift_and_rigid_parameters():
    u = RNG.random((8, 9))
    out = Warp.rigid(u.shape, 0.0, (2, -1))(u)  # (W u)(i, j) = u(i + 2, j - 1)
    assert np.allclose(out[:-2, 1:], u[2:, :-1]) and np.all(out[-2:] == 0) and np.all(out[:, 0] == 0)
    W = Warp.rigid((5, 5), 0.3, (1.5, -0.5))
    assert W.angle == pytest.approx(0.3) and np.allclose(W.shift, [1.5, -0.5])
    assert np.allclose(W.matrix[:, :2], rotation(0.3))
    # a quarter turn about the centre permutes a square image: out(p_r, p_c) = v(-p_c, p_r)
    v = RNG.random((6, 6))
    assert np.allclose(Warp((6, 6), [[0, -1, 0], [1, 0, 0]])(v), np.rot90(v, -1), atol=1e-12)
    assert np.allclose(Warp.rigid((6, 6), math.pi / 2)(v), np.rot90(v, -1), atol=1e-12)


@pytest.mark.parametrize("matrix", MATRICES[1:])
def test_parameter_derivative_finite_differences(matrix):
    u = RNG.standard_normal((12, 14))
    m = np.array(matrix)
    J = Warp(u.shape, m).derivative(u)
    for seed in range(3):
        delta = np.random.default_rng(seed).standard_normal((2, 3)) * np.array([[0.1, 0.1, 1], [0.1, 0.1, 1]])
        h = 1e-6
        fd = (Warp(u.shape, m + h * delta)(u) - Warp(u.shape, m - h * delta)(u)) / (2 * h)
        an = J(delta)
        assert np.linalg.norm(fd - an) <= 1e-5 * np.linalg.norm(an)
    # gradient of 1/2 ||W u - y||^2 in the parameters, J^T (W u - y), by finite differences
    y = RNG.standard_normal(u.shape)
    r = Warp(u.shape, m)(u) - y
    grad = J.adjoint(r)
    h = 1e-6
    for i, j in np.ndindex(2, 3):
        e = np.zeros((2, 3))
        e[i, j] = h

        def f(mm):
            return 0.5 * np.sum((Warp(u.shape, mm)(u) - y) ** 2)

        fd = (f(m + e) - f(m - e)) / (2 * h)
        assert fd == pytest.approx(grad[i, j], rel=1e-5, abs=1e-8 * np.abs(grad).max())


def test_backends_agree(xp, dtype, make):
    u = RNG.random((7, 8))
    W = Warp(u.shape, MATRICES[2])
    out = W(make(u))
    assert out.dtype == dtype and type(out) is type(make(u))
    assert np.allclose(to_numpy(out), W(u), atol=tolerance(dtype, xp, 1e-13, 1e-6))
    assert np.allclose(to_numpy(W.adjoint(make(u))), W.adjoint(u), atol=tolerance(dtype, xp, 1e-13, 1e-5))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"matrix must be 2x3"):
        Warp((4, 4), np.eye(2))
    with pytest.raises(ValueError, match="matrix must be finite"):
        Warp((4, 4), [[1, 0, np.nan], [0, 1, 0]])
    with pytest.raises(ValueError, match="shape must be two positive ints"):
        Warp((4, 4, 4))
    with pytest.raises(ValueError, match="angle must be finite"):
        Warp.rigid((4, 4), math.nan)
