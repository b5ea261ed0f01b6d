"""monotone_apg (Li & Lin 2015): known minimisers and critical points, optimality certificates, the
monotone objective on non-convex (WCRR) problems, FISTA's minimiser on convex ones, stopping rules,
input checks."""
import numpy as np
import pytest

from recon.backend import array_namespace, to_numpy
from recon.functionals import Functional, NonNegativity
from recon.operators import MatrixOperator
from recon.solvers import fista, monotone_apg, prox_gradient_residual
from tests.helpers.ridge import deblur_problem, make_reg
from tests.helpers.toy import L1, LeastSquares, lasso_kkt, lasso_problem


class TiltedDoubleWell(Functional):
    r""":math:`f(x) = \sum_i (x_i^2 - 1)^2/4 - c_i x_i`.

    Non-convex, with :math:`f'' = 3x^2 - 1 \le 9` on :math:`|x| \le 1.8`.
    """

    lipschitz = 9.0

    def __init__(self, c):
        self.c = c

    def __call__(self, x):
        xp = array_namespace(x)
        return float(xp.sum((x * x - 1) ** 2 / 4 - self.c * x))

    def grad(self, x):
        return x * x * x - x - self.c


def test_non_convex_known_solution_with_an_active_constraint(xp, dtype, make):
    # on x >= 0: c = 1 and c = 3 give the unique real roots of x^3 - x = c (global minimisers);
    # c = -1 gives f' = x^3 - x + 1 > 0 on x >= 0, so the minimiser is the bound x = 0
    c = np.array([1.0, 3.0, -1.0, 0.0])
    expected = np.array([np.roots([1, 0, -1, -ci])[np.isreal(np.roots([1, 0, -1, -ci]))].real.max() for ci in c[:2]]
                        + [0.0, 1.0])
    f = TiltedDoubleWell(make(c))
    f64 = dtype == xp.float64
    res = monotone_apg(f, NonNegativity(), make(np.full(4, 0.5)), iters=2000, tol=1e-13 if f64 else 1e-7)
    assert res.converged and res.x.dtype == dtype
    assert np.allclose(to_numpy(res.x), expected, atol=1e-9 if f64 else 1e-4)
    assert res.extras["stationarity"] <= (1e-9 if f64 else 1e-4)
    F = np.array(res.history["objective"])
    assert np.all(np.diff(F) <= (1e-12 if f64 else 1e-6) * abs(F[0]))


def test_least_squares_matches_lstsq(xp, dtype, make):
    rng = np.random.default_rng(0)
    A, b = rng.standard_normal((20, 8)), rng.standard_normal(20)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    f64 = dtype == xp.float64
    res = monotone_apg(LeastSquares(MatrixOperator(make(A)), make(b)), None, make(np.zeros(8)), iters=3000,
                       tol=1e-13 if f64 else 1e-7)
    assert np.linalg.norm(to_numpy(res.x) - x_star) <= (1e-6 if f64 else 1e-4) * np.linalg.norm(x_star)


def test_lasso_satisfies_kkt():
    A, b, lam = lasso_problem()
    res = monotone_apg(LeastSquares(MatrixOperator(A), b), L1(lam), np.zeros(A.shape[1]), iters=3000, tol=1e-13)
    assert 0 < np.count_nonzero(res.x) < res.x.size
    assert lasso_kkt(A, b, lam, res.x) <= 1e-8 * np.abs(A.T @ b).max()


# -- WCRR deblurring: a non-convex problem (blur has a near-null space) ----------------------------
@pytest.mark.parametrize("weight", [0.5, 2.0])
def test_objective_is_non_increasing_and_ends_at_a_critical_point(weight):
    f, y = deblur_problem("wcrr", weight)
    assert make_reg("wcrr").weak_convexity > 0
    res = monotone_apg(f, None, y, iters=2000, tol=1e-8)
    assert res.converged
    F = np.array(res.history["objective"])
    assert F[0] <= f(y) and np.all(np.diff(F) <= 1e-12 * abs(F[0]))
    assert res.extras["objective"] == pytest.approx(F[-1])
    step = res.extras["step"]
    residual = prox_gradient_residual(f, None, res.x, step)
    assert residual == pytest.approx(res.extras["stationarity"])
    assert residual < 1e-6 * np.linalg.norm(y)
    assert np.linalg.norm(f.grad(res.x)) < 1e-5 * np.linalg.norm(f.grad(y))


def test_non_negativity_constraint_critical_point():
    f, y = deblur_problem("wcrr", 0.5)
    y = y - 0.5  # about half the pixels want to be negative
    res = monotone_apg(f, NonNegativity(), np.maximum(y, 0), iters=2000, tol=1e-8)
    assert res.converged
    assert float(res.x.min()) >= 0
    assert np.all(np.diff(res.history["objective"]) <= 1e-12 * abs(res.history["objective"][0]))
    assert res.extras["stationarity"] < 1e-6 * np.linalg.norm(y)


def test_convex_case_matches_fistas_minimiser():
    f, y = deblur_problem("crr", 1.0)
    y = np.maximum(y - 0.5, 0)  # the constraint is active on about half the pixels
    ref = fista(f, NonNegativity(), y, iters=2000, tol=1e-10)
    res = monotone_apg(f, NonNegativity(), y, iters=2000, tol=1e-10)
    assert ref.converged and res.converged
    assert np.linalg.norm(res.x - ref.x) < 1e-6 * np.linalg.norm(ref.x)
    assert res.extras["objective"] <= f(ref.x) + 1e-12 * abs(f(ref.x))


def test_accelerates_over_the_plain_gradient_step():
    f, y = deblur_problem("wcrr", 0.05)
    res = monotone_apg(f, None, y, iters=200, tol=0)
    plain = y
    for _ in range(200):
        plain = plain - res.extras["step"] * f.grad(plain)
    assert res.extras["objective"] < f(plain)
    assert res.extras["rejected"] < 100  # mostly accelerated steps


def test_float32_stays_float32():
    f, y = deblur_problem("wcrr", 0.2, dtype=np.float32)
    res = monotone_apg(f, None, y, iters=300, tol=1e-5)
    assert res.x.dtype == np.float32
    F = np.array(res.history["objective"])
    assert np.all(np.diff(F) <= 1e-5 * abs(F[0]))  # float32 objective values: rounding only


# -- stopping rules and checks --------------------------------------------------------------------
def test_stationarity_tol_stops_and_certifies():
    f, y = deblur_problem("wcrr", 0.5)
    res = monotone_apg(f, None, y, iters=2000, tol=0, stationarity_tol=1e-6)
    assert res.converged and "stationarity" in res.message and res.iterations < 2000
    rel = res.history["relative_stationarity"]
    assert rel[-1] <= 1e-6 and len(rel) == res.iterations
    # the recorded residual is the step's length; the returned iterate is at least as stationary
    assert res.extras["stationarity"] <= 2e-6 * np.linalg.norm(res.x)


def test_tol_zero_runs_all_iterations():
    f, y = deblur_problem("wcrr", 0.2)
    assert monotone_apg(f, None, y, iters=15, tol=0).iterations == 15


def test_callback_stops():
    f, y = deblur_problem("wcrr", 0.2)
    res = monotone_apg(f, None, y, iters=100, tol=0, callback=lambda k, x: k == 3)
    assert res.iterations == 3 and res.converged and "callback" in res.message


@pytest.mark.parametrize(("kwargs", "name"), [({"step": 10.0}, "step"), ({"step": -1.0}, "step"),
                                              ({"delta": 0.0}, "delta"), ({"iters": 0}, "iters"),
                                              ({"tol": -1.0}, "tol"),
                                              ({"stationarity_tol": -1.0}, "stationarity_tol")])
def test_bad_arguments_name_them(kwargs, name):
    f, y = deblur_problem("wcrr", 0.2)
    with pytest.raises(ValueError, match=name):
        monotone_apg(f, None, y, **kwargs)


def test_start_outside_the_domain_is_an_error():
    f, y = deblur_problem("wcrr", 0.2)
    with pytest.raises(ValueError, match="x0"):
        monotone_apg(f, NonNegativity(), y - 10.0)
