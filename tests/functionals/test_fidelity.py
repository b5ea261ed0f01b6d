"""Data terms: values against independent formulas, prox against scipy, gradients, conjugates, errors."""
import math
import re

import numpy as np
import pytest
from scipy.special import kl_div

from recon.backend import to_numpy
from recon.functionals import Functional, KullbackLeibler, L1DataFidelity, L2DataFidelity
from recon.operators import Diagonal, MatrixOperator
from tests.helpers import tolerance
from tests.helpers.prox_checks import (
    assert_fenchel_young,
    assert_grad_fd,
    assert_lipschitz,
    assert_moreau,
    assert_prox_optimal,
)

RNG = np.random.default_rng(1)
Y = RNG.standard_normal((2, 3))
COUNTS = np.array([[0.0, 2.0, 5.0], [1.0, 0.0, 3.0]])


# -- L2 ------------------------------------------------------------------------------------------
def test_l2_value_gradient_lipschitz_with_matrix():
    M = RNG.standard_normal((5, 3))
    y = RNG.standard_normal(5)
    F = L2DataFidelity(y, MatrixOperator(M))
    x = RNG.standard_normal(3)
    assert F(x) == pytest.approx(0.5 * np.sum((M @ x - y) ** 2))
    assert_grad_fd(F, x)
    assert F.lipschitz == pytest.approx(np.linalg.norm(M, 2) ** 2, rel=1e-6)
    # the bound is attained along the top right singular vector
    v = np.linalg.svd(M)[2][0]
    ratio = np.linalg.norm(F.grad(x + v) - F.grad(x))
    assert ratio == pytest.approx(F.lipschitz, rel=1e-6)


@pytest.mark.parametrize("tau", [0.4, 3.0])
def test_l2_prox_identity_and_diagonal_match_brute_force(tau):
    assert_prox_optimal(L2DataFidelity(Y), RNG.standard_normal(Y.shape), tau)
    d = RNG.standard_normal(Y.shape)
    assert_prox_optimal(L2DataFidelity(Y, Diagonal(d)), RNG.standard_normal(Y.shape), tau)


def test_l2_prox_general_operator_points_to_pdhg():
    F = L2DataFidelity(np.ones(4), MatrixOperator(np.ones((4, 3))))
    with pytest.raises(NotImplementedError, match="pdhg"):
        F.prox(np.ones(3), 1.0)


def test_l2_conjugate_and_moreau(xp, dtype, make):
    F = L2DataFidelity(make(Y))
    x = make(RNG.standard_normal(Y.shape))
    rtol = tolerance(dtype, xp, 1e-12, 1e-5)
    assert_moreau(F, x, 0.7, rtol)
    assert_fenchel_young(F, x, 0.7, rtol)
    # the closed-form prox_conj agrees with the generic Moreau route of the base class
    generic = Functional.prox_conj(F, x, 0.9)
    assert np.allclose(to_numpy(F.prox_conj(x, 0.9)), to_numpy(generic), rtol=rtol, atol=rtol)
    assert F.prox(x, 0.7).dtype == dtype and F.grad(x).dtype == dtype


def test_l2_float32_iterate_stays_float32_with_float64_data():
    F = L2DataFidelity(Y)
    x = RNG.standard_normal(Y.shape).astype(np.float32)
    assert F.prox(x, 1.0).dtype == np.float32 and F.grad(x).dtype == np.float32


def test_l2_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"y has shape \(2, 3\), expected op.shape_out = \(4,\)"):
        L2DataFidelity(Y, MatrixOperator(np.ones((4, 2))))
    with pytest.raises(ValueError, match="y contains NaN"):
        L2DataFidelity(np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="op must be a LinearOperator"):
        L2DataFidelity(Y, np.ones((2, 3)))
    with pytest.raises(ValueError, match="tau must be a finite number > 0, got -1"):
        L2DataFidelity(Y).prox(Y, -1)


# -- L1 ------------------------------------------------------------------------------------------
def test_l1_value_and_prox():
    F = L1DataFidelity(Y)
    x = RNG.standard_normal(Y.shape)
    assert F(x) == pytest.approx(np.sum(np.abs(x - Y)))
    for tau in (0.2, 1.5):
        assert_prox_optimal(F, x, tau)


def test_l1_conjugate_and_moreau(xp, dtype, make):
    F = L1DataFidelity(make(Y))
    x = make(2 * RNG.standard_normal(Y.shape))
    rtol = tolerance(dtype, xp, 1e-12, 1e-5)
    assert_moreau(F, x, 0.5, rtol)
    assert_fenchel_young(F, x, 0.5, rtol)
    assert F.conj(make(np.full(Y.shape, 1.5))) == math.inf


# -- Kullback–Leibler ----------------------------------------------------------------------------
@pytest.mark.parametrize("b", [0.0, 0.5])
def test_kl_value_against_scipy(b):
    F = KullbackLeibler(COUNTS, background=b)
    x = RNG.random(COUNTS.shape) + 0.1
    assert F(x) == pytest.approx(np.sum(kl_div(COUNTS, x + b)), rel=1e-12)
    assert F(COUNTS - b) == pytest.approx(0.0, abs=1e-12)
    assert F(-np.ones(COUNTS.shape) - b) == math.inf


@pytest.mark.parametrize("b", [0.0, 0.3])
@pytest.mark.parametrize("tau", [0.1, 2.0])
def test_kl_prox_matches_brute_force(b, tau):
    F = KullbackLeibler(COUNTS, background=b)
    x = np.array([[-1.0, 0.5, 3.0], [2.0, -0.2, -5.0]])
    z = np.asarray(F.prox(x, tau))
    eps = 1e-9  # log needs x + b > 0 where y > 0; zero counts may sit at the boundary
    bounds = [(-b + (eps if c > 0 else 0.0), None) for c in COUNTS.ravel()]
    assert_prox_optimal(F, x, tau, bounds=bounds, atol=1e-5)
    assert np.all(z + b >= 0)


def test_kl_prox_is_stable_for_large_negative_inputs():
    F = KullbackLeibler(np.array([1e-3, 1.0]))
    z = np.asarray(F.prox(np.array([-1e8, -1e8]), 1.0))
    # w^2 + (tau - x) w - tau y = 0 has the small root w ~ tau y / (tau - x)
    assert np.allclose(z, np.array([1e-3, 1.0]) / (1.0 + 1e8), rtol=1e-9)


def test_kl_gradient_conjugate_moreau(xp, dtype, make):
    F = KullbackLeibler(make(COUNTS), background=0.2)
    assert_grad_fd(KullbackLeibler(COUNTS, background=0.2), RNG.random(COUNTS.shape) + 0.5)
    x = make(2 * RNG.standard_normal(COUNTS.shape))
    rtol = tolerance(dtype, xp, 1e-10, 1e-4)
    assert_moreau(F, x, 0.8, rtol)
    assert_fenchel_young(F, x, 0.8, rtol)
    assert F.conj(make(np.full(COUNTS.shape, 1.0))) == math.inf


def test_kl_errors_name_the_argument():
    with pytest.raises(ValueError, match=re.escape("y must be >= 0, got minimum -1.0")):
        KullbackLeibler(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=re.escape("background must be a finite number >= 0, got -0.1")):
        KullbackLeibler(COUNTS, background=-0.1)
    with pytest.raises(ValueError, match=r"background has shape \(3,\)"):
        KullbackLeibler(COUNTS, background=np.ones(3))


def test_lipschitz_helper_can_fail():
    """The Lipschitz check is not vacuous: a constant below ||A||^2 is caught."""
    F = L2DataFidelity(np.zeros(4), MatrixOperator(3 * np.eye(4)))
    assert assert_lipschitz(F, (4,)) == pytest.approx(9.0)
    F.op._norm = 2.0
    with pytest.raises(AssertionError):
        assert_lipschitz(F, (4,))
