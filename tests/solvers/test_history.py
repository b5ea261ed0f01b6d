"""Every solver's history: all columns have one value per row of ``history["iteration"]``."""
import numpy as np
import pytest

from recon.functionals.norms import L1
from recon.operators import MatrixOperator
from recon.solvers import bregman, cgls, fista, landweber, linearized_bregman, pdhg, pgd
from tests.helpers.toy import HalfSquaredDistance, LeastSquares


def _tiny(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((8, 5))
    return A, A @ rng.standard_normal(5)


def _run(name, **kw):
    A, y = _tiny()
    K, x0 = MatrixOperator(A), np.zeros(A.shape[1])
    if name in ("pgd", "fista"):
        solver = pgd if name == "pgd" else fista
        return solver(LeastSquares(K, y), 0.1 * L1(), x0, record_every=3, **kw)
    if name == "pdhg":
        return pdhg(HalfSquaredDistance(y), 0.1 * L1(), K, x0, record_every=3, **kw)
    if name == "landweber":
        return landweber(K, y, **kw)
    if name == "cgls":
        return cgls(K, y, **kw)
    if name == "bregman":
        return bregman(K, y, 0.1 * L1(), inner_iters=50, **kw)
    return linearized_bregman(K, y, 0.1 * L1(), record_every=3, **kw)


SOLVERS = ["pgd", "fista", "pdhg", "landweber", "cgls", "bregman", "linearized_bregman"]


@pytest.mark.parametrize("name", SOLVERS)
@pytest.mark.parametrize("kw", [dict(iters=10, tol=0.0), dict(iters=10, tol=0.0, noise_level=1e6)],
                         ids=["iters", "stopped_at_start"])
def test_history_columns_are_aligned(name, kw):
    if "noise_level" in kw and name not in ("landweber", "cgls", "bregman", "linearized_bregman"):
        pytest.skip("no discrepancy principle")
    res = _run(name, **kw)
    rows = len(res.history["iteration"])
    assert rows >= 1
    lengths = {key: len(column) for key, column in res.history.items()}
    assert all(n == rows for n in lengths.values()), lengths
