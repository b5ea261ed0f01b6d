"""The engines (recon/ptycho/engines/): rPIE, ePIE and gd recover the object; gd decreases the loss."""
import itertools

import numpy as np
import pytest

from recon import ptycho
from recon.ptycho.engines import METHODS, SWEEPS, Problem
from tests.helpers.ptycho import make_case, subpixel_case


@pytest.mark.parametrize("method", ["rpie", "gd"])
def test_known_probe_recovers_the_object(method):
    obj, probe, positions, scan = make_case()
    result = ptycho.reconstruct(scan, method=method, iters=100, refine_probe=False)
    mask = ptycho.illuminated(probe, positions, obj.shape)
    assert ptycho.object_error(result.x, obj, mask) < 1e-3
    assert result.history["residual"][-1] < 1e-6


def test_gd_without_momentum_never_increases_the_residual():
    """Each gd step minimises a majoriser of the amplitude loss (object, then probe)."""
    obj, probe, positions, scan = make_case()
    scan.probe = None
    h = ptycho.reconstruct(scan, method="gd", iters=30, momentum=0.0).history["residual"]
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(h))


def test_epie_decreases_the_residual_and_callback_stops():
    obj, probe, positions, scan = make_case()
    seen = []
    result = ptycho.reconstruct(scan, method="epie", iters=50, refine_probe=False,
                                callback=lambda k, x, p, r: seen.append(k) or k == 7)
    assert result.iterations == 7 and seen == list(range(1, 8)) and result.converged
    h = result.history["residual"]
    assert h[-1] < 0.1 * h[0]


def test_gd_with_subpixel_positions_never_increases_the_residual():
    """Sub-pixel shifts couple pixels outside the probe; the widened overlap keeps gd a majorise-minimise step."""
    obj, probe, positions, scan = subpixel_case()
    h = ptycho.reconstruct(scan, method="gd", iters=20, refine_probe=False, momentum=0.0).history["residual"]
    assert all(b <= a * (1 + 1e-12) for a, b in itertools.pairwise(h))
    assert h[-1] < 0.5 * h[0]


@pytest.mark.parametrize("refine_probe", [False, True])
@pytest.mark.parametrize("method, alpha, beta", [("rpie", 0.05, 1.0), ("epie", 1.0, 1.0), ("gd", 1e-3, 1e-3)])
def test_the_truth_is_a_fixed_point_of_every_sweep(method, alpha, beta, refine_probe):
    """At the true object and probe the data are fitted: one sweep changes nothing and reports no residual."""
    obj, probe, positions, scan = make_case()
    problem = Problem(scan.intensities)
    x, p, residual = SWEEPS[method](problem, obj.copy(), probe.copy(), positions, method, alpha, beta, refine_probe,
                                    np.random.default_rng(0))
    assert problem.normalised(residual) < 1e-24
    assert np.allclose(x, obj, atol=1e-12) and np.allclose(p, probe, atol=1e-12)


def test_the_registry_names_every_method():
    assert set(SWEEPS) == set(METHODS) == set(ptycho.METHODS) == {"rpie", "epie", "gd"}


@pytest.mark.parametrize("batch", [None, 5])
@pytest.mark.parametrize("method", ["rpie", "epie", "gd"])
def test_probe_steps_move_towards_the_probe(method, batch):
    """From the true object and a wrong probe, 5 sweeps shrink the probe error (0.14 -> at most 0.04).

    The object's phase spans [0, 2π): near-real objects (as :func:`make_case`'s) hide a probe step that
    misses a complex conjugate, which here ends near error 1.
    """
    rng = np.random.default_rng(0)
    obj = np.exp(2j * np.pi * rng.uniform(size=(64, 64)))
    probe = ptycho.make_probe((16, 16), 10)
    scan = ptycho.simulate(obj, probe, ptycho.fermat_spiral(60, (64, 64), (16, 16)))
    start = 0.7 * probe + 0.1 * ptycho.make_probe((16, 16), 12, kind="structured", seed=1)
    result = ptycho.reconstruct(scan, probe=start, x0=obj, iters=5, method=method, batch=batch)
    assert ptycho.object_error(result.probe, probe) < 0.5 * ptycho.object_error(start, probe)
