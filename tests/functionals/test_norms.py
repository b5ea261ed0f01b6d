"""Norms and indicators: values, prox optimality against scipy, Moreau, Fenchel–Young, errors."""
import math

import numpy as np
import pytest

from recon.backend import to_numpy
from recon.functionals import L1, L2, L21, Box, NonNegativity, SquaredL2
from tests.helpers import tolerance
from tests.helpers.prox_checks import assert_fenchel_young, assert_moreau, assert_prox_optimal

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3))  # small: scipy brute force in 6 unknowns


def test_values_computed_independently():
    x = np.array([[3.0, -4.0, 0.0], [0.0, 1.0, -2.0]])
    assert L1()(x) == pytest.approx(10.0)
    assert L2()(x) == pytest.approx(math.sqrt(9 + 16 + 1 + 4))
    assert SquaredL2()(x) == pytest.approx(0.5 * 30)
    assert L21(axis=0)(x) == pytest.approx(3.0 + math.sqrt(17) + 2.0)
    assert L21(axis=1)(x) == pytest.approx(5.0 + math.sqrt(5))
    assert NonNegativity()(np.abs(x)) == 0.0 and NonNegativity()(x) == math.inf
    assert Box(-4, 3)(x) == 0.0 and Box(-1, 3)(x) == math.inf


@pytest.mark.parametrize("tau", [0.3, 1.7])
@pytest.mark.parametrize("F", [L1(), L2(), SquaredL2(), L21(0), L21(1)], ids=repr)
def test_prox_matches_brute_force(F, tau):
    assert_prox_optimal(F, X, tau)


@pytest.mark.parametrize("F, lo, hi", [(NonNegativity(), 0.0, None), (Box(-0.5, 0.8), -0.5, 0.8),
                                       (Box(-math.inf, 0.2), None, 0.2)], ids=repr)
def test_indicator_prox_matches_constrained_brute_force(F, lo, hi):
    z = assert_prox_optimal(F, X, 0.7, bounds=[(lo, hi)] * X.size)
    assert F(z) == 0.0


def test_l2_prox_of_small_vector_is_zero():
    x = np.array([0.3, -0.4])
    assert np.all(L2().prox(x, 0.5) == 0)
    assert np.allclose(L2().prox(x, 0.25), x * (1 - 0.25 / 0.5))


FUNCTIONALS = [L1(), L2(), SquaredL2(), L21(0), L21(-1), NonNegativity()]


@pytest.mark.parametrize("F", FUNCTIONALS, ids=repr)
def test_moreau_identity(F, xp, dtype, make):
    x = make(3 * RNG.standard_normal((2, 5, 4)))
    for tau in (0.2, 2.5):
        assert_moreau(F, x, tau, rtol=tolerance(dtype, xp, 1e-12, 1e-5))


@pytest.mark.parametrize("F", FUNCTIONALS + [Box(-1, 2)], ids=repr)
def test_fenchel_young_at_prox_points(F, xp, dtype, make):
    x = make(3 * RNG.standard_normal((2, 5, 4)))
    assert_fenchel_young(F, x, 0.6, rtol=tolerance(dtype, xp, 1e-12, 1e-5))


def test_conjugates_are_infinite_off_their_domain():
    y = np.array([[0.5, -1.5], [0.2, 0.1]])
    assert L1().conj(y) == math.inf and L1().conj(y / 1.5) == 0.0
    assert L2().conj(y) == math.inf and L2().conj(y / 2) == 0.0
    assert L21(0).conj(y) == math.inf and L21(0).conj(y / 1.6) == 0.0
    assert NonNegativity().conj(y) == math.inf and NonNegativity().conj(-np.abs(y)) == 0.0
    assert Box(-math.inf, 1.0).conj(y) == math.inf
    assert Box(-2.0, 1.0).conj(y) == pytest.approx(1.0 * 0.8 + (-2.0) * (-1.5))


def test_squared_l2_gradient_and_constants():
    F = SquaredL2()
    x = RNG.standard_normal(7)
    assert np.array_equal(F.grad(x), x) and F.lipschitz == 1.0 and F.strong_convexity == 1.0
    assert F.conj(x) == pytest.approx(F(x))


def test_l21_prox_conj_into_is_in_place_and_a_projection(xp, dtype, make):
    F = L21(axis=0)
    x = make(2 * RNG.standard_normal((3, 6, 5)))
    expected = to_numpy(F.prox_conj(x, 0.4))
    out = F.prox_conj_into(x, 0.4, x)
    assert out is x and out.dtype == dtype
    assert np.allclose(to_numpy(out), expected, rtol=tolerance(dtype, xp, 1e-14, 1e-6))
    assert np.max(np.linalg.norm(expected, axis=0)) <= 1 + 1e-6


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_l21_scaled_project_into_matches_scaled_functional(xp, dtype, make, axis):
    x = make(2 * RNG.standard_normal((3, 6, 5)))
    expected = to_numpy((0.3 * L21(axis=axis)).prox_conj(x, 0.7))
    out = make(np.zeros((3, 6, 5)))
    L21(axis=axis).project_into(x, out, 0.3)
    out2 = make(np.zeros((3, 6, 5)))
    assert (0.3 * L21(axis=axis)).prox_conj_into(x, 0.7, out2) is out2  # the scaled functional forwards
    assert np.array_equal(to_numpy(out2), to_numpy(out))
    assert np.allclose(to_numpy(out), expected, rtol=tolerance(dtype, xp, 1e-13, 1e-5), atol=1e-6)
    norms = np.linalg.norm(to_numpy(out), axis=axis)
    assert norms.max() <= 0.3 * (1 + 1e-6)
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        L21().project_into(x, out, -1.0)


def test_prox_preserves_dtype(xp, dtype, make):
    x = make(RNG.standard_normal((4, 3)))
    for F in FUNCTIONALS + [Box(-1, 1)]:
        assert F.prox(x, 0.5).dtype == dtype, F
        assert F.prox_conj(x, 0.5).dtype == dtype, F


@pytest.mark.parametrize("F", FUNCTIONALS + [Box()], ids=repr)
@pytest.mark.parametrize("tau", [0.0, -0.1])
def test_prox_rejects_non_positive_tau(F, tau):
    with pytest.raises(ValueError, match=f"tau must be a finite number > 0, got {tau}"):
        F.prox(np.ones(3), tau)


def test_constructor_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"lower must be <= upper, got lower=2.0, upper=1.0"):
        Box(2, 1)
    with pytest.raises(ValueError, match="NaN"):
        Box(float("nan"), 1)
    with pytest.raises(TypeError, match="axis must be an int"):
        L21(axis=0.5)
    with pytest.raises(ValueError, match="axis must be in"):
        L21(axis=3)(np.ones((2, 2)))
