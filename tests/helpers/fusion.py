"""Fusion test cases: a synthetic scene and photo, a blind shifted-blur problem, the published data, monotonicity."""
import numpy as np
import pytest
from scipy import signal

from tests.helpers.shared_data import SHARED


def scene(n=32, seed=0):
    """Piecewise-constant scene (disks), its 'photo' (same edges, other contrast) and noise-free data."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[:n, :n]
    truth = np.full((n, n), 0.2)
    photo = np.full((n, n), 0.7)
    for _ in range(5):
        cr, cc, rad = rng.uniform(0.2 * n, 0.8 * n, 2).tolist() + [rng.uniform(0.08 * n, 0.2 * n)]
        inside = (r - cr) ** 2 + (c - cc) ** 2 < rad**2
        truth[inside] = rng.uniform(0.3, 1.0)
        photo[inside] = rng.uniform(0.0, 0.6)
    return truth, photo


def blind_shift_case():
    """48x48 scene, data blurred by a Gaussian moved by (+1, -1), small noise: a blind problem with a clear optimum."""
    from recon.operators import gaussian_kernel

    truth, photo = scene(48, seed=1)
    m = 3
    k_true = np.roll(np.asarray(gaussian_kernel(1.0, 7)), (1, -1), axis=(0, 1))
    padded = np.pad(truth, m, mode="symmetric")
    data = signal.convolve(padded, k_true, mode="same")[m:-m, m:-m].reshape(12, 4, 12, 4).mean(axis=(1, 3))
    return data + 0.005 * np.random.default_rng(3).standard_normal(data.shape), photo


def fusion_data():
    """Folder of the published fusion case (trees1_shift_5px_disk); the test skips when it is absent."""
    path = SHARED / "fusion"
    if not path.is_dir():
        pytest.skip(f"shared fusion data not found at {path}")
    return path


def assert_monotone(history, rtol=1e-12):
    """``history["objective"]`` never increases by more than ``rtol`` of its value."""
    obj = np.array(history["objective"])
    assert np.all(np.diff(obj) <= rtol * obj[:-1]), obj
