"""pgd and fista: known minimisers, optimality certificates, stopping rules, input checks."""
import numpy as np
import pytest

from recon.backend import to_numpy
from recon.operators import MatrixOperator
from recon.solvers import fista, pgd
from tests.helpers.toy import L1, HalfSquaredDistance, LeastSquares, ProxOnly, lasso_kkt, lasso_problem

SOLVERS = [pgd, fista]


def _least_squares(make, m=20, n=8, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    return A, b, x_star, LeastSquares(MatrixOperator(make(A)), make(b))


@pytest.mark.parametrize("solver", SOLVERS)
def test_least_squares_matches_lstsq(solver, xp, dtype, make):
    A, b, x_star, f = _least_squares(make)
    res = solver(f, None, make(np.zeros(8)), iters=3000, tol=1e-13 if dtype == xp.float64 else 1e-7)
    assert res.x.dtype == dtype
    err = np.linalg.norm(to_numpy(res.x) - x_star) / np.linalg.norm(x_star)
    assert err <= (1e-6 if dtype == xp.float64 else 1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_lasso_satisfies_kkt(solver, xp, dtype, make):
    A, b, lam = lasso_problem()
    f = LeastSquares(MatrixOperator(make(A)), make(b))
    res = solver(f, L1(lam), make(np.zeros(A.shape[1])), iters=3000, tol=1e-13 if dtype == xp.float64 else 1e-7)
    x = to_numpy(res.x)
    assert 0 < np.count_nonzero(x) < x.size  # the certificate covers both cases of the subdifferential
    assert lasso_kkt(A, b, lam, x) <= (1e-8 if dtype == xp.float64 else 1e-4) * np.abs(A.T @ b).max()


@pytest.mark.parametrize("solver", SOLVERS)
def test_strongly_convex_closed_form(solver):
    # f = ½‖x − c‖² + ½‖x‖² split as f = ½‖x − c‖², g = prox of ½‖x‖²: minimiser c / 2
    c = np.linspace(-2.0, 3.0, 7)
    res = solver(HalfSquaredDistance(c), HalfSquaredDistance(np.zeros(7)), np.ones(7), iters=200, tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.x, c / 2, rtol=0, atol=1e-10)


@pytest.mark.parametrize("step_factor", [1.0, 1.9])
def test_pgd_objective_is_monotone(step_factor):
    A, b, lam = lasso_problem(seed=1)
    f = LeastSquares(MatrixOperator(A), b)
    res = pgd(f, L1(lam), np.zeros(A.shape[1]), step=step_factor / f.lipschitz, iters=300, tol=0.0, record_every=1)
    obj = np.array(res.history["objective"])
    assert len(obj) == 300
    assert np.all(np.diff(obj) <= 1e-12 * obj[0])
    assert obj[-1] < obj[0]


@pytest.mark.parametrize("solver", SOLVERS)
def test_backtracking_without_lipschitz_constant(solver):
    A, b, lam = lasso_problem(seed=2)
    f_hidden = LeastSquares(MatrixOperator(A), b, known_lipschitz=False)
    res = solver(f_hidden, L1(lam), np.zeros(A.shape[1]), iters=3000, tol=0.0)
    assert lasso_kkt(A, b, lam, res.x) <= 1e-8
    # a far too large first step must be cut down, and the run still converges
    res = solver(f_hidden, L1(lam), np.zeros(A.shape[1]), step=1e4, iters=3000, tol=0.0, backtracking=True)
    assert res.extras["step"] < 1e4
    assert lasso_kkt(A, b, lam, res.x) <= 1e-8


def _ill_conditioned(n=40, kappa=1e3, seed=3):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.geomspace(1.0, 1.0 / np.sqrt(kappa), n)) @ Q.T
    x_star = rng.standard_normal(n)
    return LeastSquares(MatrixOperator(A), A @ x_star), x_star


@pytest.mark.parametrize("scheme", ["adaptive", "function"])
def test_restart_is_faster_on_strongly_convex_problem(scheme):
    f, x_star = _ill_conditioned()
    kw = dict(iters=20000, tol=1e-10, record_every=1)
    plain = fista(f, None, np.zeros(x_star.size), restart=None, **kw)
    restarted = fista(f, None, np.zeros(x_star.size), restart=scheme, **kw)
    assert restarted.converged and restarted.extras["restarts"] > 0
    assert restarted.iterations < 0.7 * plain.iterations
    assert np.linalg.norm(restarted.x - x_star) <= 1e-6 * np.linalg.norm(x_star)


def test_fista_objective_decays_faster_than_pgd():
    # consistent system, so min f = 0: O(1/k^2) against O(1/k) shows after a few hundred steps
    f, x_star = _ill_conditioned(kappa=1e3)
    for iters in (50, 200):
        slow = pgd(f, None, np.zeros(x_star.size), iters=iters, tol=0.0)
        fast = fista(f, None, np.zeros(x_star.size), restart=None, iters=iters, tol=0.0)
        assert f(fast.x) < 0.2 * f(slow.x)


@pytest.mark.parametrize("solver", SOLVERS)
def test_callback_stops(solver):
    A, b, lam = lasso_problem()
    seen = []

    def callback(k, x):
        seen.append(k)
        return k == 7

    res = solver(LeastSquares(MatrixOperator(A), b), L1(lam), np.zeros(A.shape[1]), iters=100, callback=callback)
    assert seen == list(range(1, 8))
    assert res.iterations == 7 and res.converged and "callback" in res.message


@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_stops_and_history(solver):
    A, b, lam = lasso_problem()
    res = solver(LeastSquares(MatrixOperator(A), b), L1(lam), np.zeros(A.shape[1]), iters=5000, tol=1e-4,
                 record_every=5)
    assert res.converged and res.iterations < 5000 and res.iterations % 5 == 0
    assert res.history["relative_change"][-1] <= 1e-4
    assert res.history["iteration"] == list(range(5, res.iterations + 1, 5))
    assert len(res.history["objective"]) == len(res.history["iteration"])


def test_history_without_values_has_no_objective():
    c = np.arange(4.0)
    res = pgd(HalfSquaredDistance(c), ProxOnly(L1(0.1)), np.zeros(4), iters=20)
    assert "objective" not in res.history and "relative_change" in res.history
    with pytest.raises(ValueError, match="restart='function'"):
        fista(HalfSquaredDistance(c), ProxOnly(L1(0.1)), np.zeros(4), restart="function")


def test_input_is_not_modified():
    x0 = np.ones(5)
    pgd(HalfSquaredDistance(np.zeros(5)), L1(0.1), x0, iters=10)
    fista(HalfSquaredDistance(np.zeros(5)), L1(0.1), x0, iters=10)
    assert np.all(x0 == 1)


@pytest.mark.parametrize("solver", SOLVERS)
def test_progress_bar_runs(solver):
    res = solver(HalfSquaredDistance(np.zeros(3)), None, np.ones(3), iters=5, tol=0.0, progress=True)
    assert res.iterations == 5 and not res.converged


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(iters=0), "iters must be a positive int, got 0"),
        (dict(iters=2.5), "iters must be a positive int"),
        (dict(tol=-1.0), "tol must be a finite number >= 0, got -1.0"),
        (dict(step=-0.1), "step must be a finite number > 0, got -0.1"),
        (dict(step=float("nan")), "step must be a finite number > 0"),
        (dict(record_every=0), "record_every must be a positive int, got 0"),
        (dict(backtracking="yes"), "backtracking must be one of \\(None, True, False\\), got 'yes'"),
    ],
)
@pytest.mark.parametrize("solver", SOLVERS)
def test_bad_options(solver, kwargs, match):
    with pytest.raises(ValueError, match=match):
        solver(HalfSquaredDistance(np.zeros(3)), None, np.ones(3), **kwargs)


def test_step_bounds_follow_theory():
    f = HalfSquaredDistance(np.zeros(3))  # L = 1
    pgd(f, None, np.ones(3), step=1.99, iters=3)  # pgd converges for step < 2/L
    with pytest.raises(ValueError, match=r"step must be < 2/f.lipschitz = 2 for pgd .* got 2.0"):
        pgd(f, None, np.ones(3), step=2.0)
    with pytest.raises(ValueError, match=r"step must be <= 1/f.lipschitz = 1 for fista .* got 1.5"):
        fista(f, None, np.ones(3), step=1.5)


def test_bad_problem_inputs():
    f = HalfSquaredDistance(np.zeros(3))
    with pytest.raises(ValueError, match="x0 contains NaN"):
        pgd(f, None, np.array([1.0, np.nan, 0.0]))
    with pytest.raises(TypeError, match="x0 must be an array, got list"):
        fista(f, None, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="f must be a Functional with a grad method"):
        pgd(object(), None, np.ones(3))
    with pytest.raises(TypeError, match="g must be a Functional with a prox method"):
        pgd(f, object(), np.ones(3))
    with pytest.raises(ValueError, match="restart must be one of"):
        fista(f, None, np.ones(3), restart="always")
    with pytest.raises(TypeError, match="callback must be callable"):
        fista(f, None, np.ones(3), callback=3)
