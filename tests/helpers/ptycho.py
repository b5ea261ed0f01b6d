"""A ptychography test case: smooth complex object, probe, Fermat spiral scan, simulated data."""
import numpy as np

from recon import ptycho


def _object(M, seed=0):
    """A smooth-ish complex test object: amplitude in [0.6, 1], phase in [-0.5, 0.5] rad."""
    from skimage import data as skd
    from skimage.transform import resize

    amp = 0.6 + 0.4 * resize(skd.camera() / 255.0, (M, M), anti_aliasing=True)
    phase = resize(skd.moon() / 255.0, (M, M), anti_aliasing=True) - 0.5
    return amp * np.exp(1j * phase)


def _case(M=64, m=32, J=40, diameter=16):
    obj = _object(M)
    probe = ptycho.make_probe((m, m), diameter)
    positions = ptycho.fermat_spiral(J, (M, M), (m, m))
    return obj, probe, positions, ptycho.simulate(obj, probe, positions)
