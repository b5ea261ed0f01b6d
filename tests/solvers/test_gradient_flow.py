"""Implicit gradient flow: extinction time and profile where they are known in closed form."""
import numpy as np
import pytest

from recon.functionals.norms import L1
from recon.solvers.gradient_flow import gradient_flow


@pytest.mark.parametrize("dt", [0.05, 0.013])
def test_l1_flow_extinction_time_and_profile(dt):
    # the l1 flow shrinks every entry at unit speed: extinction at max|u0|, profile = sign at the argmax
    u0 = np.array([0.3, -1.234, 0.8, 1.0, -0.05])
    res = gradient_flow(L1(), u0, dt=dt, tol=1e-12)
    assert res.converged
    assert res.extras["extinction_time"] == pytest.approx(1.234, abs=1e-9)
    assert np.allclose(res.x, [0, -1, 0, 0, 0])
    norms = np.array(res.history["norm"])
    assert np.all(np.diff(norms) <= 0)


def test_eigenfunction_decays_linearly():
    u0 = np.array([0.5, -0.5, 0.5, 0.0])  # equal magnitudes on the support: an l1 eigenvector, lambda = 2
    res = gradient_flow(L1(), u0, dt=0.01, tol=1e-12)
    n = np.array(res.history["norm"])
    assert np.allclose(n[: len(n) - 1], np.linalg.norm(u0) * (1 - 2 * 0.01 * np.arange(len(n) - 1)), atol=1e-12)
    assert res.extras["extinction_time"] == pytest.approx(0.5, abs=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="dt must be a finite number > 0"):
        gradient_flow(L1(), np.ones(3), dt=0.0)
    with pytest.raises(ValueError, match="null space"):
        gradient_flow(L1(), np.ones(3), dt=0.1, subtract_mean=True)
    with pytest.raises(ValueError, match="u0 contains NaN"):
        gradient_flow(L1(), np.array([np.inf, 1.0]), dt=0.1)


def _antialiased_disk(n, r, supersample=8):
    c = (np.arange(n * supersample) + 0.5) / supersample - n / 2
    yy, xx = np.meshgrid(c, c, indexing="ij")
    return (xx**2 + yy**2 <= r**2).astype(float).reshape(n, supersample, n, supersample).mean(axis=(1, 3))


@pytest.mark.slow
def test_tv_flow_extinction_of_a_disk_approaches_the_continuum_law():
    # continuum TV flow (Neumann, zero mean) of a disk of height 1: T = (r / 2) (1 - |D| / |Omega|)
    from recon.functionals.tv import TV

    deviations = []
    for n in (32, 64):
        u = _antialiased_disk(n, n / 4)
        t_cont = (n / 8) * (1 - u.mean())
        res = gradient_flow(TV(inner_tol=1e-6, inner_iters=5000), u, dt=t_cont / 100, iters=400, tol=1e-6,
                            subtract_mean=True)
        assert res.converged
        deviations.append(abs(res.extras["extinction_time"] / t_cont - 1))
    # measured (examples/tv_extinction.py, 200 steps): 7.1% at n = 32, 4.6% at 64, 1.9% at 128
    assert deviations[0] < 0.1
    assert deviations[1] < 0.8 * deviations[0]
