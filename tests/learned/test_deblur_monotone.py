"""The monotone APG (:func:`recon.solvers.monotone_apg`, tested in tests/solvers/test_monotone_apg.py) in the
deblurring app."""
import numpy as np

import recon
from recon.operators.convolution import gaussian_kernel
from recon.solvers import monotone_apg
from tests.helpers.ridge import deblur_problem, make_reg


def test_deblur_wcrr_uses_the_monotone_scheme():
    f, y = deblur_problem("wcrr", 0.3)
    reg = make_reg("wcrr")
    res = recon.deblur(y, gaussian_kernel(1.5), reg=reg, weight=0.3, iters=400, tol=1e-8, return_result=True)
    assert "rejected" in res.extras and "stationarity" in res.extras
    assert np.all(np.diff(res.history["objective"]) <= 1e-12 * abs(res.history["objective"][0]))
    direct = monotone_apg(f, None, y, iters=400, tol=1e-8)
    assert np.allclose(res.x, direct.x)
    crr = recon.deblur(y, gaussian_kernel(1.5), reg=make_reg("crr"), weight=0.3, iters=50, return_result=True)
    assert "rejected" not in crr.extras  # convex: FISTA
