"""recon.ct.sinogram and uniform_angles: noise level, argument errors."""
import numpy as np
import pytest

from recon import ct


def test_simulation_arguments():
    u = np.ones((8, 8))
    with pytest.raises(ValueError, match=r"noise must be a finite number >= 0, got -0\.1"):
        ct.sinogram(u, [0.0], noise=-0.1)
    with pytest.raises(ValueError, match="flat must be a finite number > 0"):
        ct.sinogram(u, [0.0], flat=0)
    with pytest.raises(ValueError, match="image must be 2-D"):
        ct.sinogram(np.ones(8), [0.0])
    with pytest.raises(ValueError, match="n must be a positive int"):
        ct.uniform_angles(0)
    clean = ct.sinogram(u, ct.uniform_angles(10))
    noisy = ct.sinogram(u, ct.uniform_angles(10), noise=0.05, seed=0)
    assert np.linalg.norm(noisy - clean) / np.linalg.norm(clean) == pytest.approx(0.05, rel=0.2)
