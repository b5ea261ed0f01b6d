"""recon.ptycho.simulate (recon/ptycho/simulate.py): the forward model, Poisson counts."""
import numpy as np
import pytest

from recon import ptycho
from tests.helpers.ptycho import make_case


def test_simulate_is_the_forward_model_and_photons_are_counts():
    obj, probe, positions, scan = make_case()
    A = ptycho.ExitWaves(probe, positions, obj.shape)
    z = ptycho.FarField(A.shape_out)(A(obj))
    assert np.allclose(scan.intensities, np.abs(z) ** 2)
    noisy = ptycho.simulate(obj, probe, positions, photons=1e4, seed=1).intensities
    assert np.all(noisy == np.round(noisy))
    assert np.mean(noisy.sum(axis=(1, 2))) == pytest.approx(1e4, rel=0.01)
