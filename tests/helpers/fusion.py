"""A synthetic fusion scene: piecewise-constant truth and a photo with the same edges."""
import numpy as np


def _scene(n=32, seed=0):
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
